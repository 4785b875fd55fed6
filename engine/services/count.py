"""Service: count what is in the store (load -> :func:`engine.counting.count.count_ballots` -> persist dedup)."""

from __future__ import annotations

import hashlib
from typing import Any

from engine.counting.count import CountResult, count_ballots
from engine.formats.results_csv import envelopes_csv, projects_csv
from engine.storage.store import Store


def count_audit_details(result: CountResult) -> dict[str, Any]:
    """What the audit entry ``counted`` records: the figures and the CSVs' SHA-256."""
    return {
        "ballots_counted": len(result.dedup.counted),
        "superseded": len(result.dedup.superseded),
        "rejected": sum(result.rejected_by_reason.values()),
        "projects_csv_sha256": hashlib.sha256(projects_csv(result).encode()).hexdigest(),
        "envelopes_csv_sha256": hashlib.sha256(envelopes_csv(result).encode()).hexdigest(),
    }


def count_store(store: Store, *, persist: bool = True, actor: str | None = None) -> CountResult:
    """Count the store; with ``persist`` record the dedup, and with ``actor`` log ``counted``."""
    election = store.election()
    result = count_ballots(election, store.iter_ballots(), store.rejection_counts())
    if persist:
        store.record_dedup(result.dedup)
        if actor:
            store.append_audit(actor, "counted", count_audit_details(result))
    return result

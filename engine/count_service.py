"""Service: count what is in the store (load -> :func:`engine.count.count_ballots` -> persist dedup)."""

from __future__ import annotations

from engine.count import CountResult, count_ballots
from engine.storage.store import Store


def count_store(store: Store, *, persist: bool = True) -> CountResult:
    election = store.election()
    result = count_ballots(election, store.iter_ballots(), store.rejection_counts())
    if persist:
        store.record_dedup(result.dedup)
    return result

"""The publication service: count the store, append the ballot-log segment, sign, write.

:func:`publish_store` is what ``pbcount publish``, ``POST /v1/publish`` and the demo call.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.errors import PendingReviewError, PublishError
from engine.formats.ballot_log import is_withdrawal, leaf_hashes, live_receipts, plan_log_update
from engine.formats.bundle_files import (
    BundleInputs,
    TreeHead,
    build_bundle,
    content_digest,
    content_files,
    pending_count,
    write_bundle,
)
from engine.model import merkle
from engine.model.audit import AuditEntry
from engine.model.ballots import Ballot, ballot_key
from engine.services.count import count_store
from engine.storage.store import Store


@dataclass(frozen=True)
class PublishReport:
    """What one publication did: the new tree head, whether it is a new publication, the log
    lines appended and withdrawn, the ballots counted, the files written and the pages still
    in review.
    """

    head: TreeHead
    new_publication: bool
    appended: int  # log lines added by this publication
    withdrawn: int
    counted: int
    files: tuple[Path, ...]
    pending_review: int = 0  # paper pages still in review when this bundle was written
    unexpected_files: tuple[str, ...] = ()  # other files in ``out``: the verifier refuses them


def check_ballot_keys(stored: Iterable[Ballot]) -> None:
    """Refuse ballots whose content no longer hashes to their key (a row edited in the store).

    The key (:func:`engine.model.ballots.ballot_key`) is recomputed from channel, voter
    serial, cast time, selections and image hash; O(n) SHA-256.
    """
    for b in stored:
        if ballot_key(b.channel, b.voter_serial, b.cast_at, b.selections, b.image_sha256) != b.ballot_key:
            raise PublishError(
                f"ballot with receipt {b.receipt_id} (key {b.ballot_key[:12]}…): its stored content does not "
                "match its ballot key — the row was changed in the store after it was validated; nothing published"
            )


def explain_withdrawals(segment: Sequence[str], audit: Sequence[AuditEntry], since_seq: int) -> list[dict[str, Any]]:
    """The adjudication decision behind each ``corrected`` withdrawal of ``segment``.

    A ballot already published may change content (same receipt, new ``count`` line) only
    through an adjudication decision recorded after the previous publication (audit entry
    ``review_resolved`` with that ``receipt_id``); a counted ballot may not vanish from the
    store. Returns ``[{"receipt", "decision": audit seq}]`` for the ``publish`` entry.
    """
    decisions: dict[str, int] = {}
    for e in audit:
        receipt = e.details.get("receipt_id") if isinstance(e.details, Mapping) else None
        if e.seq > since_seq and e.action == "review_resolved" and isinstance(receipt, str):
            decisions[receipt] = e.seq
    out: list[dict[str, Any]] = []
    for line in segment:
        if not is_withdrawal(line):
            continue
        w = json.loads(line)
        if w["reason"] == "withdrawn":
            raise PublishError(f"the published ballot with receipt {w['receipt']} is no longer in the store "
                               "(neither counted nor superseded); nothing published")
        if w["reason"] == "corrected":
            if w["receipt"] not in decisions:
                raise PublishError(
                    f"the published ballot with receipt {w['receipt']} changed content, but no adjudication "
                    "decision (audit entry review_resolved) names it since the last publication; nothing published")
            out.append({"receipt": w["receipt"], "decision": decisions[w["receipt"]]})
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (reference counting still frees
    everything acyclic), then restore it as it was.

    Publishing allocates a few tuples and strings per ballot and keeps them to the end, so the
    collector's passes over the growing heap find nothing and cost ~0.8 s of 6 s at 100,000
    ballots; one collection runs at the end instead.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(0)


def publish_store(store: Store, key: Ed25519PrivateKey, out: Path, *, actor: str = "pbcount publish",
                  allow_pending: bool = False) -> PublishReport:
    """Count the store and write the bundle of a new publication into ``out``.

    Paper pages still in review are not counted yet: publishing then is refused
    (:class:`PendingReviewError`) unless ``allow_pending``; the count is signed in the
    manifest and recorded in the ``publish`` audit entry either way.

    If neither the counted ballots nor any published figure changed since the last
    publication, that publication is re-emitted byte for byte (no new tree head).
    Otherwise the new log segment, its tree head and an audit entry ``publish`` are
    recorded in the store, then the bundle is written. The cyclic garbage collector is
    paused meanwhile (:func:`gc_paused`).
    """
    with gc_paused():
        return _publish(store, key, out, actor=actor, allow_pending=allow_pending)


def _publish(store: Store, key: Ed25519PrivateKey, out: Path, *, actor: str, allow_pending: bool) -> PublishReport:
    frozen_hash = store.frozen_definition_hash()
    if frozen_hash is None:
        raise PublishError("no election in this store yet; nothing to publish")
    result = count_store(store)
    check_ballot_keys([*result.dedup.counted, *(x.ballot for x in result.dedup.superseded)])
    reviews = store.review_outcomes()
    pending = pending_count(reviews)
    if pending and not allow_pending:
        raise PendingReviewError(pending)
    rows = store.publications()
    pubs = [TreeHead(p.seq, p.tree_size, p.root_hash) for p in rows]
    last = rows[-1] if rows else None
    log = store.published_log_lines()
    stored = leaf_hashes(log)
    for h in pubs:
        if h.tree_size > len(log) or merkle.root(stored[: h.tree_size]).hex() != h.root_hash:
            raise PublishError(
                f"the stored ballot log no longer hashes to publication {h.publication}'s tree head "
                f"(size {h.tree_size}, root {h.root_hash[:16]}…): published lines were changed in the store"
            )
    content = content_files(result, frozen_hash, reviews)
    digest = content_digest(content)
    seq = pubs[-1].publication + 1 if pubs else 1
    reasons: dict[str, str] = {s.ballot.receipt_id: s.reason for s in result.dedup.superseded}
    segment = plan_log_update(log, result.dedup.counted, reasons, seq)
    if live_receipts([*log, *segment]) != {b.receipt_id for b in result.dedup.counted}:
        raise PublishError("the ballot log would not hold exactly the counted ballots")
    corrections = explain_withdrawals(segment, store.audit_entries(), last.audit_seq if last else 0)
    if last is not None and not segment and digest == last.content_digest:
        history, audit_seq, new = pubs, last.audit_seq, False
        leaves = stored
    else:
        log = [*log, *segment]
        leaves = stored + leaf_hashes(segment)
        root = merkle.root(leaves).hex()
        head = TreeHead(seq, len(log), root)
        entry = store.record_publication(seq, len(log), root, digest, segment, actor=actor,
                                         audit_details={**head.to_dict(), "content_digest": digest,
                                                        "pending_review": pending, "corrections": corrections})
        history, audit_seq, new = [*pubs, head], entry.seq, True
    audit = [e for e in store.audit_entries() if e.seq <= audit_seq]
    files = build_bundle(BundleInputs(result, frozen_hash, reviews, log, history, audit, content,
                                      leaves), key)
    written = write_bundle(out, files)
    extra = tuple(sorted(p.name for p in out.iterdir() if p.name not in files))
    n_withdrawn = sum(1 for s in segment if is_withdrawal(s)) if new else 0
    return PublishReport(history[-1], new, len(segment) if new else 0, n_withdrawn,
                         len(result.dedup.counted), tuple(written), pending, extra)

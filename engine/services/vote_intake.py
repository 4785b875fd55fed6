"""Single-vote intake: commit a group of validated votes as one transaction (group commit).

The API validates each vote on arrival (:func:`engine.services.ingest.process_lines`, the
same function as file ingestion) and hands whatever votes are waiting to
:func:`commit_votes`, which stores them as one :meth:`Store.commit_chunk` transaction: with
many clients in flight this turns hundreds of transactions into one. The caller answers each
voter only once its vote is committed.

Idempotent: the same vote sent twice has the same ballot key, so the store keeps one copy
and both callers get ``already_received``. A different vote with the same token is stored
too; the election's precedence rule decides at count time which one counts
(``voter_ballots`` says how many ballots that voter now has).

The group commits only if the election is still open, checked inside the transaction under
a lock the close also needs (``require_open``), so no vote is committed after the close is
acknowledged, even with several server processes writing to one store. Each group appends,
in the same transaction, one ``votes_received`` audit entry per actor with counts only
(accepted, already received, rejected): the audit log is published, and a digest of the
receipts of a group of one vote would link that ballot to its arrival time (issue 13.1;
docs/bundle.md says what the audit log reveals).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import ElectionClosedError
from engine.model.ballots import Ballot, Rejection
from engine.services.ingest import line_statuses
from engine.storage.store import ChunkOutcome, Store

API_SOURCE_SHA = "api-v1-votes"  # the batch-less source name of single votes in the store


@dataclass(frozen=True)
class WriteOutcome:
    """One vote's fate: ``accepted`` | ``already_received`` | ``rejected``, and how many
    ballots its voter now has in the store."""

    status: str
    voter_ballots: int = 0


def commit_votes(store: Store, group: Sequence[tuple[Ballot | Rejection, str]],
                 ) -> list[WriteOutcome | ElectionClosedError]:
    """Store ``(validated vote, actor)`` pairs as one transaction; one outcome per pair, in
    order, or an :class:`ElectionClosedError` for each when the election is closed."""
    items = [it for it, _ in group]

    def audit(outcome: ChunkOutcome) -> list[tuple[str, str, dict[str, Any]]]:
        statuses = line_statuses(items, outcome.inserted_keys)
        per_actor: dict[str, Counter[str]] = {}
        for (_it, actor), st in zip(group, statuses, strict=True):
            per_actor.setdefault(actor, Counter())[st] += 1
        return [(actor, "votes_received", {
            "accepted": c["accepted"], "already_received": c["already_received"], "rejected": c["rejected"],
        }) for actor, c in per_actor.items()]

    try:
        # the closed check runs inside the transaction: no vote commits after a close,
        # whichever server process ran it
        outcome = store.commit_chunk(None, API_SOURCE_SHA, items, require_open=True, audit=audit)
    except ElectionClosedError:
        return [ElectionClosedError() for _ in group]
    statuses = line_statuses(items, outcome.inserted_keys)
    counts = store.voter_ballot_counts({it.voter_serial for it in items if isinstance(it, Ballot)})
    return [WriteOutcome(st, counts.get(it.voter_serial, 0) if isinstance(it, Ballot) else 0)
            for it, st in zip(items, statuses, strict=True)]

"""Repository of the adjudication queue (table ``review_items``).

A review item is a scanned paper page the scanner would not decide alone. It is keyed by
``review_key = SHA-256("<image sha256>:<page>")``, so re-scanning the same image adds
nothing. Items move from ``pending`` to ``accepted`` or ``rejected`` exactly once; the
decision (who, when, why, final selections) stays on the row and in the audit log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update

from engine.errors import StoreError
from engine.storage.schema import ballots, review_items
from engine.storage.store import Store, now_iso

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"


def review_key(image_sha256: str, page: int) -> str:
    """Identity of a review item: SHA-256 of the page image hash and page number, so a rescan of
    the same page finds the same item.
    """
    return hashlib.sha256(f"{image_sha256}:{page}".encode()).hexdigest()


@dataclass(frozen=True)
class NewReviewItem:
    """A paper page the scanner could not decide, as it is queued for review: where it came
    from, what was read of it, why it needs a person and what the scanner proposes.
    """

    source_name: str
    source_line: int
    image_sha256: str
    envelope_id: str | None
    token: str | None
    ballot_serial: str | None
    reasons: Sequence[str]
    scores: dict[str, float]
    proposed_selections: Sequence[str]
    batch_id: int | None = None
    details: Sequence[str] = ()  # human-readable, e.g. "AR11-003: faint mark (score 0.081)"

    @property
    def key(self) -> str:
        """Its :func:`review_key`."""
        return review_key(self.image_sha256, self.source_line)


@dataclass(frozen=True)
class ReviewItem:
    """A stored review item: the queued page (as :class:`NewReviewItem`) plus its id, its
    status and, once decided, who decided what, when and why.
    """

    id: int
    review_key: str
    source_name: str
    source_line: int
    image_sha256: str
    envelope_id: str | None
    token: str | None
    ballot_serial: str | None
    reasons: list[str]
    scores: dict[str, float]
    proposed_selections: list[str]
    status: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None
    final_selections: list[str] | None
    created_at: str
    details: list[str] = field(default_factory=list)

    def public_dict(self) -> dict[str, Any]:
        """For listings: everything except the voter token."""
        return {
            "id": self.id,
            "image": self.source_name,
            "page": self.source_line,
            "image_sha256": self.image_sha256,
            "envelope": self.envelope_id,
            "ballot_serial": self.ballot_serial,
            "has_token": self.token is not None,
            "reasons": self.reasons,
            "details": self.details,
            "scores": self.scores,
            "proposed_selections": self.proposed_selections,
            "status": self.status,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "decision_note": self.decision_note,
            "final_selections": self.final_selections,
        }


def _row(r: Any) -> ReviewItem:
    return ReviewItem(
        r.id, r.review_key, r.source_name, r.source_line, r.image_sha256, r.envelope_id, r.token,
        r.ballot_serial, json.loads(r.reasons), json.loads(r.scores), json.loads(r.proposed_selections),
        r.status, r.decided_by, r.decided_at, r.decision_note,
        json.loads(r.final_selections) if r.final_selections is not None else None, r.created_at,
        json.loads(r.details) if r.details else [],
    )


class ReviewStore:
    """Adjudication queue over a :class:`Store`'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def add(self, items: Sequence[NewReviewItem]) -> int:
        """Insert items not already queued (by review key); returns how many were new."""
        if not items:
            return 0
        ts = now_iso()
        rows: list[dict[str, Any]] = [
            {
                "review_key": it.key, "batch_id": it.batch_id, "source_name": it.source_name,
                "source_line": it.source_line, "image_sha256": it.image_sha256, "envelope_id": it.envelope_id,
                "token": it.token, "ballot_serial": it.ballot_serial,
                "reasons": json.dumps(list(it.reasons)), "details": json.dumps(list(it.details), ensure_ascii=False),
                "scores": json.dumps(it.scores, sort_keys=True),
                "proposed_selections": json.dumps(sorted(it.proposed_selections)), "status": PENDING,
                "created_at": ts,
            }
            for it in items
        ]
        # sorted keys (no deadlock between stations), new rows counted by RETURNING (another
        # station inserting meanwhile does not count here), retried on transient conflicts
        rows.sort(key=lambda r: r["review_key"])
        stmt = self.store._insert_ignore(review_items).returning(review_items.c.review_key)
        return self.store._transaction(lambda conn: len(conn.execute(stmt, rows).scalars().all()))

    def list(self, status: str | None = PENDING) -> list[ReviewItem]:
        """The review items with ``status`` (None: all), by id."""
        q = select(review_items).order_by(review_items.c.id)
        if status is not None:
            q = q.where(review_items.c.status == status)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def get(self, item_id: int) -> ReviewItem:
        """Review item ``item_id``; StoreError if there is none."""
        with self.engine.connect() as conn:
            r = conn.execute(select(review_items).where(review_items.c.id == item_id)).first()
        if r is None:
            raise StoreError(f"no review item with id {item_id}")
        return _row(r)

    def counts(self) -> dict[str, int]:
        """Number of review items by status."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(review_items.c.status, func.count()).group_by(review_items.c.status)
            ).all()
        return {r[0]: int(r[1]) for r in rows}

    def decide(
        self, item_id: int, status: str, by: str, note: str | None, final_selections: Sequence[str] | None
    ) -> ReviewItem:
        """Record a decision on a pending item (refused if it was already decided)."""
        if status not in (ACCEPTED, REJECTED):
            raise ValueError(f"bad decision status {status!r}")
        with self.engine.begin() as conn:
            res = conn.execute(
                update(review_items)
                .where(review_items.c.id == item_id, review_items.c.status == PENDING)
                .values(
                    status=status, decided_by=by, decided_at=now_iso(), decision_note=note,
                    final_selections=json.dumps(sorted(final_selections)) if final_selections is not None else None,
                )
            )
            if res.rowcount == 0:
                r = conn.execute(select(review_items).where(review_items.c.id == item_id)).first()
                if r is None:
                    raise StoreError(f"no review item with id {item_id}")
                raise StoreError(f"review item {item_id} was already {r.status} by {r.decided_by} at {r.decided_at}")
        return self.get(item_id)

    def paper_sheets(self) -> dict[str, dict[str, str]]:
        """Voter serial -> {envelope: image SHA-256} of the paper ballots already stored."""
        q = select(ballots.c.voter_serial, ballots.c.selections, ballots.c.image_sha256).where(
            ballots.c.channel == "paper")
        out: dict[str, dict[str, str]] = {}
        with self.engine.connect() as conn:
            for serial, sel, img in conn.execute(q):
                for env, _ in json.loads(sel):
                    out.setdefault(serial, {}).setdefault(env, img or "")
        return out

    def paper_serials(self) -> dict[str, str]:
        """Ballot serials of the paper ballots already stored -> their image SHA-256."""
        q = select(ballots.c.ballot_serial, ballots.c.image_sha256).where(
            ballots.c.channel == "paper", ballots.c.ballot_serial.is_not(None))
        with self.engine.connect() as conn:
            return {r[0]: r[1] for r in conn.execute(q)}

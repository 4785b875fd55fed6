"""Vote intake over HTTP: validate with the engine, store with group commit.

Each vote is validated on arrival with the same engine function as file ingestion
(:func:`engine.ingest.validate_one`: token signature, envelopes, projects, limits; an
accepted ballot gets its receipt id). Storing goes through one :class:`VoteWriter`
thread that commits whatever votes are waiting as one :meth:`Store.commit_chunk`
transaction (group commit): with many clients in flight this turns hundreds of
transactions into one, and the caller only gets its receipt once its vote is durable.

Idempotent: the same vote sent twice has the same ballot key, so the store keeps one
copy and both callers get the same receipt (``already_received``). A different vote with
the same token is stored too; the election's precedence rule decides at count time which
one counts (``voter_ballots`` tells the caller how many ballots that voter now has).

The writer also checks, before each commit, that the election is still open, and runs
:meth:`close_election` itself, so no vote is committed after the close is acknowledged.
Every group appends one ``votes_received`` entry per API key to the audit log (count and
SHA-256 of the receipt ids), so each vote is covered without one log entry per vote.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine.ballots import Ballot, Rejection
from engine.storage.schema import ballots as ballots_table
from engine.storage.store import Store

log = logging.getLogger("pbcount.api")

MAX_GROUP = 1000
API_SOURCE_SHA = "api-v1-votes"


class ElectionClosed(Exception):
    """The election was closed before this vote could be stored."""


@dataclass(frozen=True)
class WriteOutcome:
    status: str  # accepted | already_received | rejected
    voter_ballots: int = 0


def line_statuses(items: Sequence[Ballot | Rejection], inserted_keys: frozenset[str]) -> list[str]:
    """Status of each item after a commit: the first occurrence of a newly inserted key is
    ``accepted``; any other ballot is ``already_received``; a rejection is ``rejected``."""
    seen: set[str] = set()
    out: list[str] = []
    for it in items:
        if isinstance(it, Rejection):
            out.append("rejected")
        elif it.ballot_key in inserted_keys and it.ballot_key not in seen:
            seen.add(it.ballot_key)
            out.append("accepted")
        else:
            seen.add(it.ballot_key)
            out.append("already_received")
    return out


def receipts_digest(receipts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(receipts)).encode()).hexdigest()


def is_closed(store: Store) -> bool:
    row = store.election_row()
    return row is not None and row.get("closed_at") is not None


def voter_ballot_counts(store: Store, serials: set[str]) -> dict[str, int]:
    if not serials:
        return {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(ballots_table.c.voter_serial, func.count())
            .where(ballots_table.c.voter_serial.in_(sorted(serials)))
            .group_by(ballots_table.c.voter_serial)
        ).all()
    return {r[0]: int(r[1]) for r in rows}


_Vote = tuple[Ballot | Rejection, str, "Future[WriteOutcome]"]
_Call = tuple[Callable[[], Any], "Future[Any]"]


class VoteWriter:
    """The single writer thread of the API (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._q: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._closed = is_closed(store)
        self._thread = threading.Thread(target=self._run, name="pbcount-vote-writer", daemon=True)
        self._thread.start()

    # -------------------------------------------------------------- public
    def submit(self, item: Ballot | Rejection, actor: str) -> Future[WriteOutcome]:
        fut: Future[WriteOutcome] = Future()
        self._q.put(("vote", (item, actor, fut)))
        return fut

    def call(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` in the writer thread, after every vote submitted before it."""
        fut: Future[Any] = Future()
        self._q.put(("call", (fn, fut)))
        return fut

    def close_election(self, actor: str) -> Future[tuple[str, bool]]:
        def do() -> tuple[str, bool]:
            already = is_closed(self.store)
            ts = self.store.close_election()
            self._closed = True
            if not already:
                self.store.append_audit(actor, "election_closed", {"closed_at": ts})
            return ts, already

        return self.call(do)

    def stop(self) -> None:
        self._q.put(("stop", None))
        self._thread.join(timeout=30)

    # -------------------------------------------------------------- thread
    def _run(self) -> None:
        while True:
            kind, payload = self._q.get()
            if kind == "stop":
                return
            if kind == "call":
                self._run_call(payload)
                continue
            group: list[_Vote] = [payload]
            pending_other: tuple[str, Any] | None = None
            while len(group) < MAX_GROUP:
                try:
                    k, p = self._q.get_nowait()
                except queue.Empty:
                    break
                if k != "vote":
                    pending_other = (k, p)
                    break
                group.append(p)
            self._commit_group(group)
            if pending_other is not None:
                if pending_other[0] == "stop":
                    return
                self._run_call(pending_other[1])

    @staticmethod
    def _settle(fut: Future[Any], value: Any = None, exc: BaseException | None = None) -> None:
        if fut.set_running_or_notify_cancel():
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(value)

    def _run_call(self, payload: _Call) -> None:
        fn, fut = payload
        try:
            value = fn()
        except BaseException as exc:  # handed to the caller
            self._settle(fut, exc=exc)
        else:
            self._settle(fut, value)

    def _commit_group(self, group: list[_Vote]) -> None:
        try:
            if not self._closed:
                self._closed = is_closed(self.store)
            if self._closed:
                for _, _, fut in group:
                    self._settle(fut, exc=ElectionClosed())
                return
            items = [it for it, _, _ in group]
            outcome = self.store.commit_chunk(None, API_SOURCE_SHA, items)
            statuses = line_statuses(items, outcome.inserted_keys)
            counts = voter_ballot_counts(self.store, {it.voter_serial for it in items if isinstance(it, Ballot)})
            per_actor: dict[str, Counter[str]] = {}
            receipts: dict[str, list[str]] = {}
            for (it, actor, _), st in zip(group, statuses, strict=True):
                per_actor.setdefault(actor, Counter())[st] += 1
                if isinstance(it, Ballot) and st == "accepted":
                    receipts.setdefault(actor, []).append(it.receipt_id)
            for actor, c in per_actor.items():
                self.store.append_audit(actor, "votes_received", {
                    "accepted": c["accepted"], "already_received": c["already_received"],
                    "rejected": c["rejected"], "receipts_sha256": receipts_digest(receipts.get(actor, [])),
                })
        except Exception as exc:
            log.exception("vote writer: commit failed")
            for _, _, fut in group:
                self._settle(fut, exc=exc)
            return
        for (it, _, fut), st in zip(group, statuses, strict=True):
            n = counts.get(it.voter_serial, 0) if isinstance(it, Ballot) else 0
            self._settle(fut, WriteOutcome(st, n))

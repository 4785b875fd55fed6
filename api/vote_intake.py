"""Vote intake over HTTP: validate with the engine, store with group commit.

Each vote is validated on arrival with the same engine function as file ingestion
(:func:`engine.services.ingest.validate_one`: token signature, envelopes, projects, limits; an
accepted ballot gets its receipt id). Storing goes through one :class:`VoteWriter`
that commits whatever votes are waiting as one :meth:`Store.commit_chunk` transaction
(group commit): with many clients in flight this turns hundreds of transactions into
one, and the caller only gets its receipt once its vote is committed.

Idempotent: the same vote sent twice has the same ballot key, so the store keeps one
copy and both callers get the same receipt (``already_received``). A different vote with
the same token is stored too; the election's precedence rule decides at count time which
one counts (``voter_ballots`` tells the caller how many ballots that voter now has).

Each group commits only if the election is still open, checked inside the commit's
transaction under a lock the close also needs (:meth:`Store.commit_chunk` with
``require_open``), so no vote is committed after the close is acknowledged, even with
several server processes (``pbcount serve --workers N``) writing to one store.
Every group appends, in the same transaction, one ``votes_received`` entry per API key to
the audit log with counts only (accepted, already received, rejected): the audit log is
published, and a digest of the receipts of a group of one vote would link that ballot to its
arrival time (issue 13.1; docs/bundle.md says what the audit log reveals). The store keeps
each ballot's own row; nothing per ballot goes into the audit log.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from engine.errors import ElectionClosedError
from engine.model.ballots import Ballot, Rejection
from engine.services.ingest import line_statuses
from engine.storage.store import ChunkOutcome, Store

log = logging.getLogger("pbcount.api")

MAX_GROUP = 1000
LINGER_SECONDS = 0.003  # how long a flush waits for more votes to join its group
API_SOURCE_SHA = "api-v1-votes"


@dataclass(frozen=True)
class WriteOutcome:
    status: str  # accepted | already_received | rejected
    voter_ballots: int = 0


class VoteWriter:
    """The single writer of one API process (see the module docstring).

    Votes wait in a list on the event loop; one flush task at a time hands everything
    waiting (up to :data:`MAX_GROUP`) to the writer thread as one group, so a vote costs
    no cross-thread hand-off of its own. Every store write of the API (groups, batch
    uploads, the close) runs on that one thread, in submission order. Other server
    processes have their own writer; the store's transactions keep them consistent.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._executor = self._new_executor()
        self._pending: list[tuple[Ballot | Rejection, str, asyncio.Future[WriteOutcome]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closed = store.closed_at() is not None

    # -------------------------------------------------------------- public
    async def submit(self, item: Ballot | Rejection, actor: str) -> WriteOutcome:
        """Store one validated vote (or record its rejection); raises :class:`ElectionClosedError`."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[WriteOutcome] = loop.create_future()
        self._pending.append((item, actor, fut))
        if self._flusher is None or self._flusher.done() or self._flusher.get_loop() is not loop:
            self._flusher = loop.create_task(self._flush())
        return await fut

    def call(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` on the writer thread, after the groups already handed to it."""
        return self._executor.submit(fn)

    @staticmethod
    def _new_executor() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="pbcount-writer")

    def start(self) -> None:
        """(Re)start after :meth:`stop` (an app served again, e.g. by a second test client)."""
        if getattr(self._executor, "_shutdown", False):
            self._executor = self._new_executor()

    def close_election(self, actor: str) -> Future[tuple[str, bool]]:
        """Close intake (``(closed_at, already_closed)``); one audit entry, whoever closes first."""

        def do() -> tuple[str, bool]:
            result = self.store.close_election(actor)
            self._closed = True
            return result

        return self.call(do)

    def stop(self) -> None:
        self._executor.shutdown(wait=True)

    # -------------------------------------------------------------- internals
    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            if len(self._pending) < MAX_GROUP:
                # Let the event loop take in more requests before the writer thread competes
                # with it for the GIL: without this, groups stay at one vote under load.
                await asyncio.sleep(LINGER_SECONDS)
            group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
            try:
                outcomes = await loop.run_in_executor(
                    self._executor, self._commit_group, [(it, actor) for it, actor, _ in group])
            except Exception as exc:
                log.exception("vote writer: commit failed")
                for _, _, fut in group:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, _, fut), outcome in zip(group, outcomes, strict=True):
                if fut.done():
                    continue
                if isinstance(outcome, ElectionClosedError):
                    fut.set_exception(ElectionClosedError())
                else:
                    fut.set_result(outcome)

    def _commit_group(self, group: list[tuple[Ballot | Rejection, str]]) -> list[WriteOutcome | ElectionClosedError]:
        if self._closed:
            return [ElectionClosedError() for _ in group]
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
            # whichever server process (``pbcount serve --workers N``) ran it
            outcome = self.store.commit_chunk(None, API_SOURCE_SHA, items, require_open=True, audit=audit)
        except ElectionClosedError:
            self._closed = True
            return [ElectionClosedError() for _ in group]
        statuses = line_statuses(items, outcome.inserted_keys)
        counts = self.store.voter_ballot_counts({it.voter_serial for it in items if isinstance(it, Ballot)})
        return [WriteOutcome(st, counts.get(it.voter_serial, 0) if isinstance(it, Ballot) else 0)
                for it, st in zip(items, statuses, strict=True)]

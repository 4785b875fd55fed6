"""Vote intake over HTTP: the asyncio side of group commit.

Each vote is validated on arrival with the same engine function as file ingestion
(:func:`engine.services.ingest.process_lines`). Storing goes through one :class:`VoteWriter`
per server process, which gathers the votes waiting on the event loop and hands them, as
one group, to the engine's :func:`engine.services.vote_intake.commit_votes` (one
transaction, the close barrier, the counts-only audit entry: see that module) on its writer
thread; each caller gets its receipt once its vote is committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from engine.errors import ElectionClosedError
from engine.model.ballots import Ballot, Rejection
from engine.services.vote_intake import API_SOURCE_SHA, WriteOutcome, commit_votes
from engine.storage.store import Store

__all__ = ["API_SOURCE_SHA", "MAX_GROUP", "VoteWriter", "WriteOutcome"]

log = logging.getLogger("pbcount.api")

MAX_GROUP = 1000
LINGER_SECONDS = 0.003  # how long a flush waits for more votes to join its group


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
        """Wait for the writer thread to finish what it holds, then stop it (app shutdown)."""
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
        outcomes = commit_votes(self.store, group)
        if outcomes and isinstance(outcomes[0], ElectionClosedError):
            self._closed = True
        return outcomes

"""Ingestion batches (table ``batches``): one per source file or API batch, found again
by (kind, file hash) so a rerun resumes from ``lines_committed``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from engine.storage.audit_store import AuditStore
from engine.storage.engine_config import now_iso
from engine.storage.rows import BatchInfo, BatchRow
from engine.storage.schema import batches


class BatchStore(AuditStore):
    """Batch part of :class:`engine.storage.store.Store`."""

    def open_batch(self, kind: str, source_name: str, source_sha256: str) -> BatchInfo:
        """Find or create the batch for this file; an existing one is resumed."""

        def write(conn: Connection) -> Any:
            conn.execute(
                self._insert_ignore(batches).values(
                    kind=kind,
                    source_name=source_name,
                    source_sha256=source_sha256,
                    status="open",
                    lines_committed=0,
                    accepted=0,
                    already_known=0,
                    rejected=0,
                    started_at=now_iso(),
                )
            )
            return conn.execute(
                select(batches).where(batches.c.kind == kind, batches.c.source_sha256 == source_sha256)
            ).one()

        row = self._transaction(write)
        return BatchInfo(row.id, row.kind, row.source_name, row.source_sha256, row.status, row.lines_committed)

    def advance_batch(self, batch_id: int, lines_committed: int) -> None:
        """Record that the first ``lines_committed`` items of a batch are stored (a resume
        point written after their own transactions); it never moves backwards."""
        self._transaction(lambda conn: conn.execute(
            update(batches).where(batches.c.id == batch_id, batches.c.lines_committed < lines_committed)
            .values(lines_committed=lines_committed)
        ))

    def finish_batch(self, batch_id: int, audit: tuple[str, str, dict[str, Any]] | None = None) -> None:
        """Mark a batch done; ``audit`` ``(actor, action, details)`` is appended in the same
        transaction (a crash leaves the batch open and unlogged, and the rerun logs it)."""

        def write(conn: Connection) -> None:
            conn.execute(update(batches).where(batches.c.id == batch_id).values(status="done", finished_at=now_iso()))
            if audit is not None:
                self._append_audit_in(conn, *audit)

        # two stations may finish the same file at once: retried on a serialization failure
        self._transaction(write)

    def list_batches(self) -> list[BatchRow]:
        """Every ingestion batch with its counters, in the order they were opened."""
        with self.engine.connect() as conn:
            return [BatchRow(r.id, r.kind, r.source_name, r.source_sha256, r.status, r.lines_committed,
                             r.accepted, r.already_known, r.rejected, r.started_at, r.finished_at)
                    for r in conn.execute(select(batches).order_by(batches.c.id))]

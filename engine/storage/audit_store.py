"""The hash-chained audit log (table ``audit_log``): append, read, latest of an action.

Appends are serialised by a write lock (PostgreSQL ``LOCK TABLE``, SQLite's database write
lock) so sequence numbers have no gaps and each entry chains to the one before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from engine.formats.election_canonical import canonical_json
from engine.model.audit import AuditEntry, make_entry
from engine.storage.engine_config import StoreBase, now_iso
from engine.storage.schema import audit_log


class AuditStore(StoreBase):
    """Audit-log part of :class:`engine.storage.store.Store`."""

    def append_audit(self, actor: str, action: str, details: dict[str, Any]) -> AuditEntry:
        """Append one entry to the hash-chained audit log (serialised by a write lock)."""
        return self._transaction(lambda conn: self._append_audit_in(conn, actor, action, details))

    def _append_audit_in(
        self, conn: Connection, actor: str, action: str, details: dict[str, Any]
    ) -> AuditEntry:
        """Append inside the caller's transaction, so an action and its entry commit together."""
        if self.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE audit_log IN EXCLUSIVE MODE")
        elif self.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("UPDATE audit_log SET seq = seq WHERE 0")  # take the write lock
        last = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).first()
        prev = None
        if last is not None:
            prev = AuditEntry(last.seq, last.at, last.actor, last.action, json.loads(last.details),
                              last.prev_hash, last.entry_hash)
        entry = make_entry(prev, now_iso(), actor, action, details)
        conn.execute(audit_log.insert().values(
            seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action,
            details=canonical_json(dict(entry.details)), prev_hash=entry.prev_hash,
            entry_hash=entry.entry_hash,
        ))
        return entry

    def latest_audit_seq(self, actions: Sequence[str]) -> int | None:
        """Sequence number of the latest audit entry with one of these actions (None if none)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.max(audit_log.c.seq)).where(audit_log.c.action.in_(tuple(actions)))
            ).scalar_one_or_none()

    def audit_entries(self) -> list[AuditEntry]:
        """Every audit entry, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        return [AuditEntry(r.seq, r.at, r.actor, r.action, json.loads(r.details), r.prev_hash, r.entry_hash)
                for r in rows]

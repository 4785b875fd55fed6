"""The frozen election (table ``election``): freeze the definition once, read it back,
close online intake, and the close barrier that keeps ballots out after a close.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, select, update

from engine.errors import ElectionClosedError, ElectionFrozenError, StoreError
from engine.formats.election_canonical import canonical_json, definition_hash, election_to_dict
from engine.formats.election_definition import election_from_dict
from engine.model.election import Election
from engine.storage.audit_store import AuditStore
from engine.storage.engine_config import now_iso
from engine.storage.rows import ElectionRow
from engine.storage.schema import ballots, election_table, rejections


class ElectionStore(AuditStore):
    """Election part of :class:`engine.storage.store.Store`."""

    def freeze_election(self, election: Election, actor: str = "cli") -> str:
        """Store the definition, or check it equals the stored one.

        A different definition may replace the stored one only while no ballot or
        rejection has been recorded; afterwards it is refused (rules are frozen).
        Logs ``election_frozen`` in the audit log when the definition is first stored.
        Returns the definition hash.
        """
        h = definition_hash(election)
        doc = canonical_json(election_to_dict(election))
        audit = {"election_id": election.id, "definition_hash": h}

        def write(conn: Connection) -> None:
            # one transaction: the definition and its audit entry land together or not at all
            row = conn.execute(select(election_table)).first()
            if row is None:
                created = conn.execute(
                    self._insert_ignore(election_table)
                    .values(id=election.id, definition_json=doc, definition_hash=h, frozen_at=now_iso())
                    .returning(election_table.c.id)
                ).first()
                row = conn.execute(select(election_table)).first()
                assert row is not None
                if created is not None:  # this process stored it (not a concurrent station)
                    self._append_audit_in(conn, actor, "election_frozen", audit)
                    return
            if row.definition_hash == h:
                return
            started = conn.execute(select(func.count()).select_from(ballots)).scalar_one() or (
                conn.execute(select(func.count()).select_from(rejections)).scalar_one()
            )
            if started:
                raise ElectionFrozenError(
                    f"the store already holds election {row.id!r} (definition "
                    f"{row.definition_hash[:12]}…) and ingestion has started; refusing definition "
                    f"{h[:12]}… — rules are frozen once ingestion starts "
                    "(use a new database for a new election)"
                )
            conn.execute(election_table.delete())
            conn.execute(
                election_table.insert().values(
                    id=election.id, definition_json=doc, definition_hash=h, frozen_at=now_iso()
                )
            )
            self._append_audit_in(conn, actor, "election_frozen", {**audit, "replaced": row.definition_hash})

        self._transaction(write)
        return h

    def election(self) -> Election:
        """The stored election definition (raises :class:`StoreError` before any)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(election_table)).first()
        if row is None:
            raise StoreError("no election in this store yet (ingest votes with --election FILE first)")
        return election_from_dict(json.loads(row.definition_json), "stored election")

    def election_row(self) -> ElectionRow | None:
        """The stored election row (definition, hash, freeze and close times), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(election_table)).first()
        if row is None:
            return None
        return ElectionRow(row.id, row.definition_json, row.definition_hash, row.frozen_at,
                           None if row.closed_at is None else str(row.closed_at))

    def closed_at(self) -> str | None:
        """When online intake was closed (:meth:`close_election`), or None while open."""
        row = self.election_row()
        return None if row is None else row.closed_at

    def close_election(self, actor: str | None = None) -> tuple[str, bool]:
        """Close online intake; returns ``(closed_at, already_closed)``.

        Idempotent: a second close (from any process) changes nothing and returns the first
        close's time. With ``actor``, the first close appends ``election_closed`` to the
        audit log in the same transaction, so exactly one entry records it.
        """
        ts = now_iso()

        def write(conn: Connection) -> tuple[str, bool]:
            res = conn.execute(
                update(election_table).where(election_table.c.closed_at.is_(None)).values(closed_at=ts)
            )
            if res.rowcount == 0:
                row = conn.execute(select(election_table)).first()
                if row is None:
                    raise StoreError("no election to close")
                return str(row.closed_at), True
            if actor is not None:
                self._append_audit_in(conn, actor, "election_closed", {"closed_at": ts})
            return ts, False

        return self._transaction(write)

    def _check_open(self, conn: Connection) -> None:
        """Raise :class:`ElectionClosedError` if the election is closed, holding a lock that
        keeps :meth:`close_election` out until this transaction ends.

        SQLite: a no-op UPDATE of the election row takes the database write lock (and a
        snapshot that is the latest), so the close, itself a write, waits for this commit.
        PostgreSQL: ``SELECT … FOR SHARE`` locks the row against the close's UPDATE, and
        waits for a close in flight, then reads its committed value.
        """
        if self.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("UPDATE election SET closed_at = closed_at WHERE 0")
            row = conn.execute(select(election_table.c.closed_at)).first()
        else:
            row = conn.execute(select(election_table.c.closed_at).with_for_update(read=True)).first()
        if row is not None and row.closed_at is not None:
            raise ElectionClosedError(f"the election was closed at {row.closed_at}; online intake is over")

    def frozen_definition_hash(self) -> str | None:
        """The SHA-256 the election definition was frozen with, or None before any election."""
        with self.engine.connect() as conn:
            return conn.execute(select(election_table.c.definition_hash)).scalar_one_or_none()

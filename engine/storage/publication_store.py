"""Publications (tables ``publications``, ``published_log``): the append-only ballot log
(Merkle leaves) and its signed tree heads, and the adjudication outcomes a bundle
publishes. Written by :mod:`engine.services.publish`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from engine.errors import StoreError
from engine.model.audit import AuditEntry
from engine.storage.audit_store import AuditStore
from engine.storage.rows import PublicationRow, ReviewOutcome
from engine.storage.schema import publications, published_log, review_items


class PublicationStore(AuditStore):
    """Publication part of :class:`engine.storage.store.Store`."""

    def publications(self) -> list[PublicationRow]:
        """Every results publication (tree heads), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(publications).order_by(publications.c.seq)).all()
        return [PublicationRow(r.seq, r.tree_size, r.root_hash, r.content_digest, r.audit_seq, r.published_at)
                for r in rows]

    def published_log_lines(self) -> list[str]:
        """The append-only ballot log (Merkle leaves), in leaf order."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(published_log.c.line).order_by(published_log.c.leaf_index)).scalars())

    def record_publication(
        self, seq: int, tree_size: int, root_hash: str, content_digest: str, segment: Sequence[str],
        *, actor: str, audit_details: dict[str, Any],
    ) -> AuditEntry:
        """Append a publication's log segment, its tree head and its ``publish`` audit entry
        in one transaction. A concurrent publication of the same ``seq`` fails (primary key)."""

        def work(conn: Connection) -> AuditEntry:
            start = tree_size - len(segment)
            have = conn.execute(select(func.count()).select_from(published_log)).scalar_one()
            if have != start:
                raise StoreError(f"the published log holds {have} lines, expected {start}; publish again")
            entry = self._append_audit_in(conn, actor, "publish", audit_details)
            conn.execute(publications.insert().values(
                seq=seq, tree_size=tree_size, root_hash=root_hash, content_digest=content_digest,
                audit_seq=entry.seq, published_at=entry.at,
            ))
            if segment:
                # plain DB-API executemany: ~5x faster than Core for 100,000 log lines
                mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
                conn.exec_driver_sql(
                    f"INSERT INTO published_log (leaf_index, publication, line) VALUES ({mark}, {mark}, {mark})",
                    [(start + i, seq, line) for i, line in enumerate(segment)],
                )
            return entry

        try:
            return self._transaction(work)
        except IntegrityError as exc:
            raise StoreError(
                f"publication {seq} was recorded by someone else at the same time; publish again"
            ) from exc

    def review_outcomes(self) -> list[ReviewOutcome]:
        """Adjudication decisions without voter data: review key, image hash, reasons, outcome."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(review_items.c.review_key, review_items.c.image_sha256, review_items.c.reasons,
                       review_items.c.status).order_by(review_items.c.review_key)
            ).all()
        return [ReviewOutcome(r.review_key, r.image_sha256, tuple(json.loads(r.reasons)), r.status) for r in rows]

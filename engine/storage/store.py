"""The store: persistence of the election, batches, ballots and rejections.

Same code for SQLite (embedded default, one file) and PostgreSQL (several stations):
the SQLAlchemy URL decides. Writes are idempotent (unique keys + insert-or-ignore), so
re-ingesting a batch changes nothing, and each chunk commits atomically with the batch's
progress, so a crash leaves the store consistent and a rerun resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, case, create_engine, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError

from engine.counting.dedup import DedupResult
from engine.errors import ElectionClosedError, ElectionFrozenError, StoreError
from engine.formats.election_canonical import canonical_json, definition_hash, election_to_dict
from engine.formats.election_definition import election_from_dict
from engine.model.audit import AuditEntry, make_entry
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef
from engine.model.election import Election
from engine.storage.keyfiles import make_private
from engine.storage.migrations import upgrade_to_head
from engine.storage.rows import PublicationRow, ReviewOutcome
from engine.storage.schema import (
    audit_log,
    ballots,
    batches,
    election_table,
    metadata,
    publications,
    published_log,
    rejections,
    review_items,
    tokens_seen,
)

DEFAULT_DB_URL = "sqlite:///pbcount.db"
T = TypeVar("T")


def is_transient(exc: OperationalError) -> bool:
    """A conflict that a rerun of the same transaction can resolve."""
    code = getattr(exc.orig, "sqlstate", None)
    if code in ("40001", "40P01"):  # serialization_failure, deadlock_detected
        return True
    return "database is locked" in str(exc.orig)


def safe_url(url: str) -> str:
    """The URL for messages: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the store URL"


def db_url_from_env(url: str | None = None) -> str:
    return url or os.environ.get("PBCOUNT_DB") or DEFAULT_DB_URL


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_SELECTIONS_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # built once: json.dumps
# with arguments builds a new encoder per call, a third of the cost on the ingest hot path


def encode_selections(selections: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    return _SELECTIONS_JSON.encode([[e, list(p)] for e, p in selections])


def decode_selections(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((e, tuple(p)) for e, p in json.loads(text))


def rejection_key(source_sha256: str, rej: Rejection) -> str:
    """Identity of a rejection: its content hash and reason when known, else its place."""
    if rej.content_sha256:
        text = f"content\n{rej.content_sha256}\n{rej.reason}"
    else:
        text = f"{source_sha256}\n{rej.source.name}\n{rej.source.line}\n{rej.reason}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class BatchInfo:
    id: int
    kind: str
    source_name: str
    source_sha256: str
    status: str
    lines_committed: int


@dataclass(frozen=True)
class ChunkOutcome:
    inserted: int
    already_known: int
    rejected_new: int
    inserted_keys: frozenset[str]


def _make_sqlite_files_private(database: str | None) -> None:
    """The store links voter serials to selections and times: its file is 0600 (SQLite
    creates the -wal and -shm files with the database file's mode)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite reports the missing directory itself
    try:
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if p == path or p.exists():
                make_private(p)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the store file: {exc.strerror}") from None


class Store:
    """Repository over one database. Open with :meth:`open` (creates tables if needed)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True) -> Store:
        url = db_url_from_env(url)
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 60}
        try:
            engine = create_engine(url, **kwargs)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StoreError(f"{safe_url(url)}: not a usable database URL ({exc})") from None
        if engine.dialect.name == "sqlite":
            _make_sqlite_files_private(engine.url.database)

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=60000")
                cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: keeps the ballot_key index in memory
                cur.close()

        store = cls(engine)
        if create:
            # Alembic revisions are the schema's history (engine/storage/migrations);
            # create_all then only adds a table whose revision is still missing, which
            # tests/integration/test_migrations.py reports as a failure.
            try:
                upgrade_to_head(engine)
                metadata.create_all(engine)
            except OperationalError as exc:  # server down, wrong password, unwritable file...
                engine.dispose()
                raise StoreError(f"{safe_url(url)}: cannot open the store: {exc.orig}") from None
        return store

    def close(self) -> None:
        self.engine.dispose()

    def sqlite_file(self) -> Path | None:
        """The database file of a SQLite store (None for PostgreSQL or an in-memory store)."""
        db = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        return Path(db) if db and db != ":memory:" else None

    # ------------------------------------------------------------------ election

    def _insert_ignore(self, table: Any) -> Any:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        if self.engine.dialect.name == "sqlite":
            return sqlite.insert(table).on_conflict_do_nothing()
        raise StoreError(f"unsupported database dialect {self.engine.dialect.name}")

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
        with self.engine.connect() as conn:
            row = conn.execute(select(election_table)).first()
        if row is None:
            raise StoreError("no election in this store yet (ingest votes with --election FILE first)")
        return election_from_dict(json.loads(row.definition_json), "stored election")

    def election_row(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(election_table)).first()
        return dict(row._mapping) if row is not None else None

    def closed_at(self) -> str | None:
        """When online intake was closed (:meth:`close_election`), or None while open."""
        row = self.election_row()
        return None if row is None or row.get("closed_at") is None else str(row["closed_at"])

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

    # ------------------------------------------------------------------ batches

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

    def list_batches(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(batches).order_by(batches.c.id))]

    # ------------------------------------------------------------------ ballots

    def commit_chunk(
        self,
        batch_id: int | None,
        source_sha256: str,
        items: Sequence[Ballot | Rejection],
        lines_committed: int | None = None,
        *,
        require_open: bool = False,
        audit: Callable[[ChunkOutcome], Sequence[tuple[str, str, dict[str, Any]]]] | None = None,
    ) -> ChunkOutcome:
        """Atomically record a chunk of validated ballots and rejections.

        Ballots already present (same ``ballot_key``) are counted as ``already_known``,
        and so is a repeat of a key within the chunk. Rejections are idempotent by
        (source hash, source, line, reason).

        ``require_open``: refuse the whole chunk with :class:`ElectionClosedError` if the
        election is closed. The check runs inside the transaction, under a lock that
        :meth:`close_election` also needs, so across any number of processes no chunk
        commits after a close has committed (the online-intake barrier of the API).
        ``audit``: audit entries ``(actor, action, details)`` computed from the outcome,
        appended in the same transaction (the chunk and its log entries commit together).
        """
        new_ballots: dict[str, Ballot] = {}
        repeats = 0
        rejs: dict[str, Rejection] = {}
        for it in items:
            if isinstance(it, Ballot):
                if it.ballot_key in new_ballots:
                    repeats += 1
                else:
                    new_ballots[it.ballot_key] = it
            else:
                rejs.setdefault(rejection_key(source_sha256, it), it)  # first occurrence is logged
        ts = now_iso()
        # Sorted keys: concurrent writers take the unique-index locks in the same order,
        # so two stations committing overlapping chunks wait for each other instead of
        # deadlocking. Inserted rows are counted from RETURNING, not from a pre-check,
        # so a ballot another process inserts meanwhile counts as already known here.
        ballot_rows: list[dict[str, Any]] = [
            {
                "ballot_key": b.ballot_key,
                "voter_serial": b.voter_serial,
                "channel": b.channel.value,
                "cast_at": b.cast_at,
                "selections": encode_selections(b.selections),
                "receipt_id": b.receipt_id,
                "image_sha256": b.image_sha256,
                "ballot_serial": b.ballot_serial,
                "source_name": b.source.name,
                "source_line": b.source.line,
                "batch_id": batch_id,
                "status": "received",
            }
            for _, b in sorted(new_ballots.items())
        ]
        rejection_rows = [
            {
                "rejection_key": k,
                "batch_id": batch_id,
                "source_name": r.source.name,
                "source_line": r.source.line,
                "channel": r.channel.value,
                "reason": r.reason,
                "detail": r.detail,
                "voter_serial": r.voter_serial,
                "created_at": ts,
            }
            for k, r in sorted(rejs.items())
        ]

        def write(conn: Connection) -> ChunkOutcome:
            if require_open:
                self._check_open(conn)
            inserted_keys = self._insert_new(conn, ballots, ballots.c.ballot_key, ballot_rows)
            if inserted_keys:
                serials = sorted({r["voter_serial"] for r in ballot_rows if r["ballot_key"] in inserted_keys})
                if self.engine.dialect.name == "sqlite":  # DB-API executemany: no per-row compilation
                    conn.exec_driver_sql(
                        "INSERT OR IGNORE INTO tokens_seen (voter_serial, first_batch_id) VALUES (?, ?)",
                        [(s, batch_id) for s in serials],
                    )
                else:
                    conn.execute(
                        self._insert_ignore(tokens_seen),
                        [{"voter_serial": s, "first_batch_id": batch_id} for s in serials],
                    )
            rej_new = len(self._insert_new(conn, rejections, rejections.c.rejection_key, rejection_rows))
            inserted = len(inserted_keys)
            known = len(new_ballots) - inserted + repeats
            if batch_id is not None:
                values: dict[str, Any] = {
                    "accepted": batches.c.accepted + inserted,
                    "already_known": batches.c.already_known + known,
                    "rejected": batches.c.rejected + rej_new,
                }
                if lines_committed is not None:
                    # never move backwards: two stations may work on the same file
                    values["lines_committed"] = case(
                        (batches.c.lines_committed < lines_committed, lines_committed),
                        else_=batches.c.lines_committed,
                    )
                conn.execute(update(batches).where(batches.c.id == batch_id).values(**values))
            outcome = ChunkOutcome(inserted, known, rej_new, frozenset(inserted_keys))
            for actor, action, details in audit(outcome) if audit is not None else ():
                self._append_audit_in(conn, actor, action, details)
            return outcome

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

    def _insert_new(
        self, conn: Connection, table: Any, key_col: Any, rows: list[dict[str, Any]]
    ) -> set[str]:
        """Insert-or-ignore ``rows``; returns the keys actually inserted by this call.

        PostgreSQL: ``INSERT … ON CONFLICT DO NOTHING RETURNING key``. SQLite: take the
        database write lock first (a no-op UPDATE), read the largest rowid, then one DB-API
        ``executemany`` of ``INSERT OR IGNORE`` (about 3x less CPU than the generic path on
        the ingest hot path); the inserted keys are the rows above that rowid. ``rows`` must
        have distinct keys.
        """
        if not rows:
            return set()
        key = key_col.name
        if self.engine.dialect.name == "sqlite":
            # Under the write lock nobody else inserts, and a new row's rowid is above every
            # existing one: the rows this call inserted are exactly those above the max rowid
            # read before. Usually all rows are new (rowcount says so) and that is one
            # O(log n) read; after a crash or a re-run, one range read names them.
            conn.exec_driver_sql(f"UPDATE {table.name} SET {key} = {key} WHERE 0")  # write lock
            before = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {table.name}").scalar_one()
            cols = list(rows[0])
            sql = (f"INSERT OR IGNORE INTO {table.name} ({', '.join(cols)}) "
                   f"VALUES ({', '.join('?' * len(cols))})")
            result = conn.exec_driver_sql(sql, [tuple(r.values()) for r in rows])  # rows share one key order
            if result.rowcount == len(rows):  # executemany's rowcount: rows really inserted (keys are distinct)
                return {r[key] for r in rows}
            # some rows were ignored: already stored, or clashing on another unique column
            # (e.g. a paper receipt id already counted under another image)
            return set(conn.exec_driver_sql(
                f"SELECT {key} FROM {table.name} WHERE rowid > ?", (before,)).scalars())
        inserted: set[str] = set()
        stmt = self._insert_ignore(table).returning(key_col)
        for i in range(0, len(rows), 2000):
            inserted.update(conn.execute(stmt, rows[i : i + 2000]).scalars())
        return inserted

    def _transaction(self, work: Callable[[Connection], T], attempts: int = 8) -> T:
        """Run ``work`` in one transaction, retried on transient conflicts.

        Retried: PostgreSQL serialization failure (40001) and deadlock (40P01), SQLite
        "database is locked" (busy beyond the timeout). The whole transaction is rerun, so
        ``work`` must only write through ``conn``. Backoff: 50 ms doubling, with jitter.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except OperationalError as exc:
                if attempt == attempts or not is_transient(exc):
                    raise
                time.sleep(min(2.0, 0.05 * 2 ** (attempt - 1)) * (0.5 + random.random()))
        raise AssertionError("unreachable")  # pragma: no cover

    def _row_to_ballot(self, r: Any) -> Ballot:
        return Ballot(
            ballot_key=r.ballot_key,
            voter_serial=r.voter_serial,
            channel=Channel(r.channel),
            cast_at=r.cast_at,
            selections=decode_selections(r.selections),
            source=SourceRef(r.source_name, r.source_line),
            image_sha256=r.image_sha256,
            ballot_serial=r.ballot_serial,
            receipt_id=r.receipt_id,
        )

    def iter_ballots(self) -> Iterator[Ballot]:
        """Every stored ballot (counted or superseded), by ballot key; streamed.

        Hot path of counting and publishing: plain tuples, a cache of decoded selections
        (many ballots share the same selection) and of source names.
        """
        cols = (ballots.c.ballot_key, ballots.c.voter_serial, ballots.c.channel, ballots.c.cast_at,
                ballots.c.selections, ballots.c.source_name, ballots.c.source_line, ballots.c.image_sha256,
                ballots.c.ballot_serial, ballots.c.receipt_id)
        channels = {c.value: c for c in Channel}
        sel_cache: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=10000).execute(
                select(*cols).order_by(ballots.c.ballot_key)
            )
            for key, serial, channel, cast_at, sel, src, line, img, bserial, receipt in result:
                selections = sel_cache.get(sel)
                if selections is None:
                    selections = sel_cache[sel] = decode_selections(sel)
                yield Ballot(key, serial, channels[channel], cast_at, selections, SourceRef(src, line), img,
                             bserial, receipt)

    def ballot_by_key(self, key: str) -> Ballot | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(ballots).where(ballots.c.ballot_key == key)).first()
        return self._row_to_ballot(r) if r is not None else None

    def ballots_of_voter(self, voter_serial: str) -> list[Ballot]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ballots).where(ballots.c.voter_serial == voter_serial)).all()
        return [self._row_to_ballot(r) for r in rows]

    def voter_ballot_counts(self, serials: set[str]) -> dict[str, int]:
        """Number of stored ballots of each of these voters (absent: none)."""
        if not serials:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ballots.c.voter_serial, func.count())
                .where(ballots.c.voter_serial.in_(sorted(serials)))
                .group_by(ballots.c.voter_serial)
            ).all()
        return {r[0]: int(r[1]) for r in rows}

    def was_counted(self) -> bool:
        """True once a count has recorded its dedup (some ballot is no longer ``received``)."""
        with self.engine.connect() as conn:
            return conn.execute(select(ballots.c.id).where(ballots.c.status != "received").limit(1)).first() is not None

    def ballot_count(self) -> int:
        """How many ballots are stored (counted or superseded). Not to be confused with
        :func:`engine.counting.count.count_ballots`, which runs the count."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ballots)).scalar_one())

    def record_dedup(self, dedup: DedupResult) -> None:
        """Persist the dedup outcome: counted, or superseded with reason and winner."""
        from sqlalchemy import bindparam

        rows = [{"k": s.ballot.ballot_key, "reason": s.reason, "by": s.by} for s in dedup.superseded]

        def write(conn: Connection) -> None:
            conn.execute(update(ballots).values(status="counted", status_reason=None, superseded_by=None))
            if rows:
                conn.execute(
                    update(ballots)
                    .where(ballots.c.ballot_key == bindparam("k"))
                    .values(status="superseded", status_reason=bindparam("reason"), superseded_by=bindparam("by")),
                    rows,
                )

        self._transaction(write)

    # ------------------------------------------------------------------ rejections

    def rejection_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(rejections.c.reason, func.count()).group_by(rejections.c.reason)
            ).all()
        return {r[0]: int(r[1]) for r in rows}

    def iter_rejections(self) -> Iterable[dict[str, Any]]:
        with self.engine.connect() as conn:
            for r in conn.execute(
                select(rejections).order_by(rejections.c.source_name, rejections.c.source_line)
            ):
                yield dict(r._mapping)

    # ------------------------------------------------------------------ audit log

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
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        return [AuditEntry(r.seq, r.at, r.actor, r.action, json.loads(r.details), r.prev_hash, r.entry_hash)
                for r in rows]

    # ------------------------------------------------------------------ publications (engine/formats/bundle.py)

    def publications(self) -> list[PublicationRow]:
        """Every results publication (tree heads), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(publications).order_by(publications.c.seq)).all()
        return [PublicationRow(r.seq, r.tree_size, r.root_hash, r.content_digest, r.audit_seq, r.published_at)
                for r in rows]

    def frozen_definition_hash(self) -> str | None:
        """The SHA-256 the election definition was frozen with, or None before any election."""
        with self.engine.connect() as conn:
            return conn.execute(select(election_table.c.definition_hash)).scalar_one_or_none()

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

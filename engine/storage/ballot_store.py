"""Ballots and rejections (tables ``ballots``, ``rejections``, ``tokens_seen``): commit a
validated chunk atomically and idempotently, read ballots back for counting, record the
dedup outcome, list rejections.

Writes are idempotent (unique keys + insert-or-ignore), so re-ingesting a batch changes
nothing, and each chunk commits atomically with the batch's progress, so a crash leaves
the store consistent and a rerun resumes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import msgspec
from sqlalchemy import Connection, case, func, select, update

from engine.counting.dedup import DedupResult
from engine.model.ballots import Ballot, Channel, Rejection, Selections, SourceRef
from engine.storage.election_store import ElectionStore
from engine.storage.engine_config import now_iso
from engine.storage.rows import ChunkOutcome, RejectionRow
from engine.storage.schema import ballots, batches, rejections, tokens_seen

_SELECTIONS_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # built once: json.dumps
# with arguments builds a new encoder per call, a third of the cost on the ingest hot path


def encode_selections(selections: Selections) -> str:
    """The ``selections`` column: compact JSON ``[[envelope, [project, ...]], ...]``."""
    return _SELECTIONS_JSON.encode([[e, list(p)] for e, p in selections])


_SELECTIONS_DECODER = msgspec.json.Decoder(tuple[tuple[str, tuple[str, ...]], ...])


def decode_selections_reference(text: str) -> Selections:
    """:func:`decode_selections` with the standard library (the reference the tests compare to)."""
    return cast(Selections, tuple((e, tuple(p)) for e, p in json.loads(text)))


def decode_selections(text: str) -> Selections:
    """Inverse of :func:`encode_selections` (the ids were checked when the ballot was stored).

    msgspec decodes straight into the nested tuples (about 2x ``json.loads`` plus the tuple
    conversion, the hot path of counting and publishing); any text it refuses (e.g. an
    escaped lone surrogate) goes through :func:`decode_selections_reference`.
    """
    try:
        return cast(Selections, _SELECTIONS_DECODER.decode(text))
    except (msgspec.DecodeError, UnicodeError):
        return decode_selections_reference(text)


def rejection_key(source_sha256: str, rej: Rejection) -> str:
    """Identity of a rejection: its content hash and reason when known, else its place."""
    if rej.content_sha256:
        text = f"content\n{rej.content_sha256}\n{rej.reason}"
    else:
        text = f"{source_sha256}\n{rej.source.name}\n{rej.source.line}\n{rej.reason}"
    return hashlib.sha256(text.encode()).hexdigest()


class BallotStore(ElectionStore):
    """Ballot and rejection part of :class:`engine.storage.store.Store` (an election store
    because a chunk may require the election to be open)."""

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
        sel_cache: dict[str, Selections] = {}
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
        """The stored ballot with this ballot key, or None."""
        with self.engine.connect() as conn:
            r = conn.execute(select(ballots).where(ballots.c.ballot_key == key)).first()
        return self._row_to_ballot(r) if r is not None else None

    def ballots_of_voter(self, voter_serial: str) -> list[Ballot]:
        """Every stored ballot of this voter serial (counted or superseded)."""
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

    def rejection_counts(self) -> dict[str, int]:
        """Number of logged rejections by reason."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(rejections.c.reason, func.count()).group_by(rejections.c.reason)
            ).all()
        return {r[0]: int(r[1]) for r in rows}

    def iter_rejections(self) -> Iterator[RejectionRow]:
        """Every logged rejection, by source name and line; streamed."""
        with self.engine.connect() as conn:
            for r in conn.execute(
                select(rejections).order_by(rejections.c.source_name, rejections.c.source_line)
            ):
                yield RejectionRow(r.rejection_key, r.batch_id, r.source_name, r.source_line, r.channel,
                                   r.reason, r.detail, r.voter_serial, r.created_at)

"""The store on SQLite and PostgreSQL: idempotent chunks, exact insert counts, batch
progress, retries on transient conflicts, atomic freeze + audit entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError

from engine.formats.election_definition import load_election
from engine.model.audit import verify_chain
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef
from engine.services.count import count_store
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import load_public_key, load_receipt_secret
from engine.storage.schema import ballots, tokens_seen
from engine.storage.store import Store, is_transient


def ballot(n: int, serial: str | None = None, line: int | None = None) -> Ballot:
    return Ballot(
        ballot_key=f"{n:064x}",
        voter_serial=serial or f"V{n:05d}",
        channel=Channel.ONLINE,
        cast_at="2026-05-03T10:00:00.000000Z",
        selections=(("paris", ("P001",)),),
        source=SourceRef("f.jsonl", line or n),
        receipt_id=f"R{n:08d}",
    )


def rejection(line: int, reason: str = "malformed_line") -> Rejection:
    return Rejection(SourceRef("f.jsonl", line), reason, "invalid JSON")


@pytest.fixture
def store(store_url: str) -> Any:
    s = Store.open(store_url)
    yield s
    s.close()


def test_chunk_counts_new_known_and_in_chunk_repeats(store: Store) -> None:
    batch = store.open_batch("evotes", "f.jsonl", "a" * 64)
    first = store.commit_chunk(batch.id, "a" * 64, [ballot(1), ballot(2), ballot(2), rejection(9)], 10)
    assert (first.inserted, first.already_known, first.rejected_new) == (2, 1, 1)
    assert first.inserted_keys == {ballot(1).ballot_key, ballot(2).ballot_key}
    again = store.commit_chunk(batch.id, "a" * 64, [ballot(1), ballot(2), ballot(3), rejection(9)], 12)
    assert (again.inserted, again.already_known, again.rejected_new) == (1, 2, 0)
    assert again.inserted_keys == {ballot(3).ballot_key}
    assert store.ballot_count() == 3
    assert store.rejection_counts() == {"malformed_line": 1}
    row = next(b for b in store.list_batches() if b.id == batch.id)
    assert (row.accepted, row.already_known, row.rejected, row.lines_committed) == (3, 3, 1, 12)
    with store.engine.connect() as conn:
        assert sorted(conn.execute(select(tokens_seen.c.voter_serial)).scalars()) == ["V00001", "V00002",
                                                                                     "V00003"]


def test_ballot_inserted_by_another_station_counts_as_known_not_inserted(store: Store) -> None:
    """Another station's batch stored ballot 2 first: this chunk must not count it as new."""
    other = store.open_batch("evotes", "g.jsonl", "b" * 64)
    store.commit_chunk(other.id, "b" * 64, [ballot(2)], 1)
    mine = store.open_batch("evotes", "f.jsonl", "a" * 64)
    out = store.commit_chunk(mine.id, "a" * 64, [ballot(1), ballot(2)], 2)
    assert (out.inserted, out.already_known) == (1, 1)
    with store.engine.connect() as conn:
        owner = dict(conn.execute(select(ballots.c.ballot_key, ballots.c.batch_id)).all())
    assert owner[ballot(2).ballot_key] == other.id and owner[ballot(1).ballot_key] == mine.id


def test_batch_progress_never_moves_backwards(store: Store) -> None:
    """Two stations on the same file commit chunks out of order; resume point is the max."""
    batch = store.open_batch("evotes", "f.jsonl", "a" * 64)
    store.commit_chunk(batch.id, "a" * 64, [ballot(5)], 4000)
    store.commit_chunk(batch.id, "a" * 64, [ballot(1)], 2000)
    assert store.open_batch("evotes", "f.jsonl", "a" * 64).lines_committed == 4000


def test_same_file_under_two_names_is_one_batch(store: Store) -> None:
    a = store.open_batch("evotes", "votes.jsonl", "c" * 64)
    b = store.open_batch("evotes", "votes-copy.jsonl", "c" * 64)
    assert a.id == b.id and b.source_name == "votes.jsonl"


class FakeDriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def op_error(message: str, sqlstate: str | None = None) -> OperationalError:
    return OperationalError("INSERT ...", {}, FakeDriverError(message, sqlstate))


@pytest.mark.parametrize(
    ("message", "sqlstate", "transient"),
    [
        ("could not serialize access", "40001", True),
        ("deadlock detected", "40P01", True),
        ("database is locked", None, True),
        ("disk I/O error", None, False),
        ("connection refused", "08006", False),
    ],
)
def test_transient_error_classification(message: str, sqlstate: str | None, transient: bool) -> None:
    assert is_transient(op_error(message, sqlstate)) is transient


def test_transaction_is_rerun_after_serialization_failure(store: Store, monkeypatch: Any) -> None:
    monkeypatch.setattr("engine.storage.engine_config.time.sleep", lambda _s: None)
    calls: list[int] = []

    def work(conn: Connection) -> str:
        calls.append(1)
        conn.execute(select(1))
        if len(calls) < 3:
            raise op_error("could not serialize access due to concurrent update", "40001")
        return "done"

    assert store._transaction(work) == "done"
    assert len(calls) == 3


def test_transaction_gives_up_and_does_not_retry_real_errors(store: Store, monkeypatch: Any) -> None:
    monkeypatch.setattr("engine.storage.engine_config.time.sleep", lambda _s: None)
    calls: list[int] = []

    def deadlock(conn: Connection) -> None:
        calls.append(1)
        raise op_error("deadlock detected", "40P01")

    with pytest.raises(OperationalError):
        store._transaction(deadlock, attempts=4)
    assert len(calls) == 4
    calls.clear()

    def broken(conn: Connection) -> None:
        calls.append(1)
        raise op_error("disk I/O error")

    with pytest.raises(OperationalError):
        store._transaction(broken)
    assert len(calls) == 1


def test_rolled_back_chunk_leaves_nothing_behind(store: Store, monkeypatch: Any) -> None:
    """A failure in the middle of a chunk (after ballots were inserted) rolls it all back."""
    batch = store.open_batch("evotes", "f.jsonl", "a" * 64)
    real = store._insert_new

    def fail_on_rejections(conn: Connection, table: Any, key_col: Any, rows: list[dict[str, Any]]) -> Any:
        if table.name == "rejections":
            raise RuntimeError("power cut")
        return real(conn, table, key_col, rows)

    monkeypatch.setattr(store, "_insert_new", fail_on_rejections)
    with pytest.raises(RuntimeError):
        store.commit_chunk(batch.id, "a" * 64, [ballot(1), rejection(2)], 2)
    assert store.ballot_count() == 0
    assert store.open_batch("evotes", "f.jsonl", "a" * 64).lines_committed == 0


def test_freeze_and_its_audit_entry_commit_together(
    store: Store, small_paris: Path, monkeypatch: Any
) -> None:
    election = load_election(small_paris / "election.toml")

    def no_audit(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("crash while writing the audit entry")

    monkeypatch.setattr(store, "_append_audit_in", no_audit)
    with pytest.raises(RuntimeError):
        store.freeze_election(election)
    assert store.election_row() is None  # the definition was rolled back with it
    monkeypatch.undo()
    h = store.freeze_election(election, actor="op-1")
    store.freeze_election(election, actor="op-2")  # same definition again: no new entry
    entries = store.audit_entries()
    assert [(e.action, e.actor, e.details["definition_hash"]) for e in entries] == [
        ("election_frozen", "op-1", h)
    ]


def test_ingest_matches_the_fixture_manifest_on_each_backend(store: Store, small_paris: Path) -> None:
    """The manifest is the generator's own account of what it wrote (not our output)."""
    manifest = json.loads((small_paris / "manifest.json").read_text())
    exp = manifest["expected"]
    keys = small_paris / "keys"
    report = ingest_evote_file(
        store, small_paris / "evotes.jsonl", load_election(small_paris / "election.toml"),
        load_public_key(keys), load_receipt_secret(keys), workers=1, chunk_lines=500,
    )
    assert (report.accepted, report.already_known, report.rejected) == (
        exp["accepted"], exp["already_known"], exp["rejected_total"])
    assert store.rejection_counts() == exp["rejected"]
    result = count_store(store)
    assert len(result.dedup.counted) == exp["counted"]
    assert verify_chain(e.to_dict() for e in store.audit_entries()) is None
    assert [e.action for e in store.audit_entries()] == ["election_frozen", "batch_ingested"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql+psycopg://pb:s3cretpw@127.0.0.1:1/pb", "cannot open the store"),
        ("sqlite:////nonexistent-dir/pbcount.db", "cannot open the store"),
        ("not a url", "not a usable database URL"),
        ("nosuchdb://x/y", "not a usable database URL"),
    ],
)
def test_unusable_store_is_one_clear_error_without_password(url: str, says: str) -> None:
    from engine.errors import StoreError

    with pytest.raises(StoreError) as err:
        Store.open(url)
    assert says in str(err.value) and "s3cretpw" not in str(err.value)

"""The online-intake close barrier: no chunk commits after a close has committed.

``Store.commit_chunk(require_open=True)`` checks the election inside its transaction,
under a lock that ``Store.close_election`` also needs. Checked on SQLite and PostgreSQL:
a chunk after the close is refused and stores nothing; a close waits for a chunk in
flight; and with two processes committing flat out while a third closes, the number of
ballots never changes after the close returned.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ElectionClosedError
from engine.formats.election_definition import load_election
from engine.model.audit import verify_chain
from engine.model.ballots import Ballot, Channel, SourceRef
from engine.model.election import Election
from engine.storage.store import Store


def ballot(election: Election, tag: str) -> Ballot:
    serial = hashlib.sha256(tag.encode()).hexdigest()[:20]
    return Ballot(
        ballot_key=hashlib.sha256(f"key-{tag}".encode()).hexdigest(), voter_serial=serial,
        channel=Channel.ONLINE, cast_at="2026-09-10T10:00:00Z",
        selections=(("paris", (election.projects_in("paris")[0].id,)),),
        receipt_id="R" + hashlib.sha256(f"r-{tag}".encode()).hexdigest()[:15].upper(),
        source=SourceRef("test", 1),
    )


def open_store(url: str, fixture: Path) -> tuple[Store, Election]:
    store = Store.open(url)
    election = load_election(fixture / "election.toml")
    store.freeze_election(election)
    return store, election


def test_chunk_after_close_is_refused_and_stores_nothing(store_url: str, small_paris: Path) -> None:
    store, election = open_store(store_url, small_paris)
    assert store.commit_chunk(None, "s", [ballot(election, "a")], require_open=True).inserted == 1
    store.close_election()
    with pytest.raises(ElectionClosedError, match="closed at"):
        store.commit_chunk(None, "s", [ballot(election, "b")], require_open=True,
                           audit=lambda o: [("t", "votes_received", {"n": o.inserted})])
    assert store.ballot_count() == 1
    assert [e.action for e in store.audit_entries()] == ["election_frozen"]  # the refused audit entry too
    # without require_open (paper scanning goes on after the online close) the write is taken
    assert store.commit_chunk(None, "s", [ballot(election, "c")]).inserted == 1


def test_close_waits_for_a_chunk_in_flight(store_url: str, small_paris: Path) -> None:
    store, election = open_store(store_url, small_paris)
    closer_store = Store.open(store_url)  # its own connection pool, like another process
    inside, release = threading.Event(), threading.Event()

    def audit(outcome: Any) -> list[tuple[str, str, dict[str, Any]]]:
        inside.set()  # the chunk's transaction holds the barrier now
        assert release.wait(30)
        return [("station", "votes_received", {"accepted": outcome.inserted})]

    chunk = threading.Thread(target=lambda: store.commit_chunk(
        None, "s", [ballot(election, f"x{i}") for i in range(5)], require_open=True, audit=audit))
    chunk.start()
    assert inside.wait(30)
    closed: list[str] = []
    closer = threading.Thread(target=lambda: closed.append(closer_store.close_election()[0]))
    closer.start()
    closer.join(0.5)
    blocked = closer.is_alive()
    release.set()
    chunk.join(30)
    closer.join(30)
    assert blocked, "the close did not wait for the chunk in flight"
    assert closed and store.ballot_count() == 5  # the chunk committed before the close
    with pytest.raises(ElectionClosedError):
        store.commit_chunk(None, "s", [ballot(election, "late")], require_open=True)
    assert verify_chain([e.to_dict() for e in store.audit_entries()]) is None
    closer_store.close()


def test_close_is_idempotent_and_logged_once(store_url: str, small_paris: Path) -> None:
    store, _ = open_store(store_url, small_paris)
    other = Store.open(store_url)  # another process's store
    ts, already = store.close_election("admin:a")
    assert already is False
    assert other.close_election("admin:b") == (ts, True)
    closes = [(e.actor, e.details["closed_at"]) for e in store.audit_entries() if e.action == "election_closed"]
    assert closes == [("admin:a", ts)]
    other.close()


def commit_until_closed(url: str, fixture: str, station: str, started: Any, out: Any) -> None:
    store = Store.open(url, create=False)
    election = load_election(Path(fixture) / "election.toml")
    committed = refused = 0
    i = 0
    while refused == 0 and i < 5000:
        items = [ballot(election, f"{station}-{i}-{j}") for j in range(3)]
        i += 1
        try:
            store.commit_chunk(None, "s", items, require_open=True,
                               audit=lambda o: [(station, "votes_received", {"accepted": o.inserted})])
            committed += 1
            if committed == 20:
                started.release()
        except ElectionClosedError:
            refused += 1
    out.put((station, committed, refused))
    store.close()


def test_no_commit_after_close_with_processes_writing(store_url: str, small_paris: Path) -> None:
    store, _ = open_store(store_url, small_paris)
    ctx = multiprocessing.get_context("spawn")
    started, out = ctx.Semaphore(0), ctx.Queue()
    procs = [ctx.Process(target=commit_until_closed, args=(store_url, str(small_paris), f"st{k}", started, out))
             for k in range(2)]
    for p in procs:
        p.start()
    for _ in procs:
        assert started.acquire(timeout=120)  # both stations are committing
    store.close_election()
    at_close = store.ballot_count()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
    assert all(refused == 1 for _, _, refused in results), results  # each saw the close
    committed = sum(c for _, c, _ in results)
    assert store.ballot_count() == at_close == 3 * committed  # nothing after the close, nothing lost
    entries = store.audit_entries()
    assert sum(1 for e in entries if e.action == "votes_received") == committed
    assert verify_chain([e.to_dict() for e in entries]) is None

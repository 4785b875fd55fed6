"""Several stations ingesting overlapping e-vote files into one store at the same time.

Four processes start together (a barrier) on four files cut from the fixture with
overlaps — one file is an exact copy of another (the same file delivered to two
stations), the others share hundreds of lines. Small chunks make their transactions
interleave. Afterwards every ballot is stored exactly once, every bad line is logged
once, each insert is credited to exactly one batch, the audit chain is intact, and the
count (dedup under the precedence rule, tally, allocation, CSVs) equals a single-process
run of the original file. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from engine.counting.count import CountResult
from engine.formats.election_definition import load_election
from engine.formats.results_csv import envelopes_csv, projects_csv
from engine.model.audit import verify_chain
from engine.services.count import count_store
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import load_public_key, load_receipt_secret
from engine.storage.store import Store


def ingest_as_station(fixture: str, path: str, url: str, barrier: Any, actor: str) -> None:
    fx = Path(fixture)
    store = Store.open(url)
    election = load_election(fx / "election.toml")
    pub, secret = load_public_key(fx / "keys"), load_receipt_secret(fx / "keys")
    barrier.wait(timeout=120)
    ingest_evote_file(store, Path(path), election, pub, secret, workers=1, chunk_lines=60, actor=actor)
    store.close()


def single_run(fx: Path, url: str) -> CountResult:
    store = Store.open(url)
    ingest_evote_file(store, fx / "evotes.jsonl", load_election(fx / "election.toml"),
                      load_public_key(fx / "keys"), load_receipt_secret(fx / "keys"), workers=1)
    result = count_store(store)
    store.close()
    return result


def overlapping_files(fx: Path, out: Path) -> list[Path]:
    lines = (fx / "evotes.jsonl").read_bytes().splitlines(keepends=True)
    n = len(lines)
    parts = {
        "station-a.jsonl": lines[: n * 6 // 10],
        "station-b.jsonl": lines[n * 4 // 10 :],
        "station-c.jsonl": list(reversed(lines[n * 2 // 10 : n * 8 // 10])),  # other order
    }
    paths = []
    for name, part in parts.items():
        p = out / name
        p.write_bytes(b"".join(part))
        paths.append(p)
    twin = out / "station-d.jsonl"  # same bytes as station-a: the same batch, concurrently
    twin.write_bytes(paths[0].read_bytes())
    # the union covers every line
    assert set(lines) == set().union(*(set(p.read_bytes().splitlines(keepends=True)) for p in paths))
    return [*paths, twin]


def outcome(result: CountResult) -> dict[str, Any]:
    return {
        "counted": sorted(b.ballot_key for b in result.dedup.counted),
        "superseded": sorted((s.ballot.ballot_key, s.reason, s.by) for s in result.dedup.superseded),
        "projects_csv": projects_csv(result),
        "envelopes_csv": envelopes_csv(result),
        "rejected": result.rejected_by_reason,
    }


def run_stations(fixture: Path, files: list[Path], url: str) -> None:
    """One process per file, started together (a barrier), each ingesting into ``url``."""
    ctx = multiprocessing.get_context("fork")  # children open their own Store
    barrier = ctx.Barrier(len(files))
    procs = [ctx.Process(target=ingest_as_station, args=(str(fixture), str(p), url, barrier, f"station-{i}"))
             for i, p in enumerate(files)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def test_four_stations_at_once_count_equals_single_process(
    store_url: str, small_paris: Path, tmp_path: Path
) -> None:
    files = overlapping_files(small_paris, tmp_path)
    Store.open(store_url).close()  # schema first; racing migrations are tested elsewhere
    run_stations(small_paris, files, store_url)

    store = Store.open(store_url)
    manifest = json.loads((small_paris / "manifest.json").read_text())
    exp = manifest["expected"]
    # exactly once: every distinct valid ballot stored once, every bad line logged once
    assert store.ballot_count() == exp["accepted"]
    assert store.rejection_counts() == exp["rejected"]
    batches = store.list_batches()
    assert len(batches) == 3  # station-a and station-d are the same file: one batch
    assert sum(b.accepted for b in batches) == exp["accepted"]  # no insert credited twice
    assert all(b.status == "done" for b in batches)

    entries = store.audit_entries()
    assert verify_chain(e.to_dict() for e in entries) is None
    actions = [e.action for e in entries]
    assert actions.count("election_frozen") == 1
    assert actions.count("batch_ingested") == len(files)

    concurrent = count_store(store)
    store.close()
    reference = single_run(small_paris, f"sqlite:///{tmp_path / 'single.sqlite'}")
    assert len(reference.dedup.counted) == exp["counted"]
    assert outcome(concurrent) == outcome(reference)


@pytest.mark.postgres
def test_stations_under_serializable_isolation_retry_and_still_count_once(
    pg_url: str, small_paris: Path, tmp_path: Path
) -> None:
    """A server configured for SERIALIZABLE aborts conflicting transactions (SQLSTATE
    40001); the stations rerun them and the count is still that of one process."""
    url = pg_url + "%20-cdefault_transaction_isolation%3Dserializable"
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "serializable"
    engine.dispose()
    files = overlapping_files(small_paris, tmp_path)
    Store.open(url).close()
    run_stations(small_paris, files, url)
    store = Store.open(url)
    exp = json.loads((small_paris / "manifest.json").read_text())["expected"]
    assert store.ballot_count() == exp["accepted"]
    assert sum(b.accepted for b in store.list_batches()) == exp["accepted"]
    assert verify_chain(e.to_dict() for e in store.audit_entries()) is None
    concurrent = count_store(store)
    store.close()
    reference = single_run(small_paris, f"sqlite:///{tmp_path / 'single.sqlite'}")
    assert outcome(concurrent) == outcome(reference)

"""Crash safety: ``pbcount ingest evotes`` killed with SIGKILL at random points, restarted.

Each round starts the real CLI in a subprocess (small chunks), waits until the store
shows a randomly chosen amount of progress, and kills the whole process group with
SIGKILL (no chance to clean up). After every kill the store must be consistent: nothing
stored beyond the committed point, progress on a chunk boundary (no half chunk). The
restart resumes after the committed point, and the final count equals an uninterrupted
run. Runs on SQLite and PostgreSQL. The random seed is printed for reproduction.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select

from engine.formats.election_definition import load_election
from engine.formats.results_csv import envelopes_csv, projects_csv
from engine.model.audit import verify_chain
from engine.services.count import count_store
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import load_public_key, load_receipt_secret
from engine.storage.schema import ballots, batches, rejections
from engine.storage.store import Store

CHUNK = 20
REPO = Path(__file__).resolve().parents[2]


def start_ingest(fx: Path, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PBCOUNT_CHUNK_LINES": str(CHUNK), "PBCOUNT_PROGRESS": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "pbcount", "ingest", "evotes", str(fx / "evotes.jsonl"),
         "-e", str(fx / "election.toml"), "--keys", str(fx / "keys"), "--db", url, "-j", "1"],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def progress(url: str) -> int | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.max(batches.c.lines_committed))).scalar()
    except Exception:  # tables not created yet by the starting process
        return None
    finally:
        engine.dispose()


def kill_when_past(proc: subprocess.Popen[bytes], url: str, target: int) -> bool:
    """SIGKILL the process group once ``target`` lines are committed; False if it finished."""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        done = progress(url)
        if done is not None and done >= target:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.wait()
    return False


def assert_consistent(url: str, total_lines: int) -> int:
    """Nothing beyond the committed point; progress on a chunk boundary. Returns it."""
    engine = create_engine(url)
    with engine.connect() as conn:
        committed = conn.execute(select(batches.c.lines_committed)).scalar_one()
        last_ballot = conn.execute(select(func.max(ballots.c.source_line))).scalar() or 0
        last_rej = conn.execute(select(func.max(rejections.c.source_line))).scalar() or 0
    engine.dispose()
    assert committed % CHUNK == 0 or committed == total_lines
    assert max(last_ballot, last_rej) <= committed
    return int(committed)


def outcome(store: Store) -> dict[str, Any]:
    result = count_store(store)
    return {
        "counted": sorted(b.ballot_key for b in result.dedup.counted),
        "superseded": sorted((s.ballot.ballot_key, s.reason) for s in result.dedup.superseded),
        "projects_csv": projects_csv(result),
        "envelopes_csv": envelopes_csv(result),
        "rejected": store.rejection_counts(),
    }


def test_sigkill_at_random_points_then_restart_counts_like_an_uninterrupted_run(
    store_url: str, small_paris: Path, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    print(f"crash test seed {seed}")
    rng = random.Random(seed)
    total = len((small_paris / "evotes.jsonl").read_bytes().splitlines())
    kills = 0
    resumed_points: list[int] = []
    for round_no in range(3):
        target = rng.randrange(CHUNK, total - 3 * CHUNK)
        log = tmp_path / f"round{round_no}.log"
        proc = start_ingest(small_paris, store_url, log)
        if kill_when_past(proc, store_url, target):
            kills += 1
            assert proc.returncode == -signal.SIGKILL
        else:
            assert proc.returncode == 0, log.read_text()
        resumed_points.append(assert_consistent(store_url, total))
        assert "Traceback" not in log.read_text()
    assert kills >= 1, "the ingestion always finished before the kill: the test proved nothing"

    log = tmp_path / "final.log"
    proc = start_ingest(small_paris, store_url, log)
    assert proc.wait(timeout=300) == 0, log.read_text()
    text = " ".join(log.read_text().split())  # rich wraps long lines
    if 0 < resumed_points[-1] < total:
        assert f"resumed after line {resumed_points[-1]}" in text
    assert assert_consistent(store_url, total) == total

    store = Store.open(store_url)
    crashed = outcome(store)
    assert verify_chain(e.to_dict() for e in store.audit_entries()) is None
    store.close()

    reference = Store.open(f"sqlite:///{tmp_path / 'uninterrupted.sqlite'}")
    keys = small_paris / "keys"
    ingest_evote_file(reference, small_paris / "evotes.jsonl", load_election(small_paris / "election.toml"),
                      load_public_key(keys), load_receipt_secret(keys), workers=1)
    expected = outcome(reference)
    reference.close()
    manifest = json.loads((small_paris / "manifest.json").read_text())
    assert len(expected["counted"]) == manifest["expected"]["counted"]
    assert crashed == expected

"""Benchmark: 4 stations ingesting overlapping e-vote files into one PostgreSQL at once,
against one process ingesting the union into PostgreSQL, in the same run.

Run: ``.venv/bin/python benchmarks/bench_concurrency.py [--per-station 25000] [--repeat 3]``

Files: a Paris-like fixture is generated; each of the 4 station files has
``--per-station`` lines, of which 20 % (the same block) is in all four files and 80 %
is the station's own; the union (``0.2 n + 4 x 0.8 n`` lines, 85,000 for 25,000) is
what the single process ingests. Stations run as 4 separate processes (``workers=1``
each: 4 processes on the machine's cores); the single process uses
``default_workers()`` verification processes. Each run uses a fresh PostgreSQL schema.

Prints, per mode, the median wall time, input lines/s and union lines/s; the ratio
(concurrent / single, on union lines/s); and the check that both stores give the same
count (same counted ballots, same superseded, identical projects.csv / envelopes.csv).

PostgreSQL: ``PBCOUNT_BENCH_PG_URL`` or ``PBCOUNT_TEST_PG_URL`` if set, otherwise a
throwaway cluster is started (initdb + pg_ctl on 127.0.0.1, as the ``postgres`` user
when run as root) and removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine  # noqa: E402

from engine.formats.election_definition import load_election  # noqa: E402
from engine.formats.results_csv import envelopes_csv, projects_csv  # noqa: E402
from engine.services.count import count_store  # noqa: E402
from engine.services.ingest import ingest_evote_file  # noqa: E402
from engine.services.workers import default_workers  # noqa: E402
from engine.storage.keyfiles import load_public_key, load_receipt_secret  # noqa: E402
from engine.storage.store import Store  # noqa: E402
from fixtures.paris import generate_paris  # noqa: E402

STATIONS = 4
OVERLAP = 0.2


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    url = os.environ.get("PBCOUNT_BENCH_PG_URL") or os.environ.get("PBCOUNT_TEST_PG_URL")
    if url:
        yield url
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        sys.exit("PostgreSQL not found: install the 'postgresql' package or set PBCOUNT_BENCH_PG_URL")
    pgbin = bins[-1].parent
    root = os.geteuid() == 0
    as_pg = ["runuser", "-u", "postgres", "--"] if root else []
    tmp = Path(tempfile.mkdtemp(prefix="pbcount-bench-pg."))
    tmp.chmod(0o755)
    if root:
        shutil.chown(tmp, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp / "data"
    try:
        subprocess.run([*as_pg, str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        # durable settings (fsync on) as on a real server: the benchmark measures commits
        subprocess.run([*as_pg, str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "start",
                        "-o", f"-h 127.0.0.1 -p {port} -k {tmp} -c max_connections=50"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_pg, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def fresh_schema(admin_url: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in admin_url else "?"
        yield f"{admin_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


def make_files(fx: Path, out: Path, per_station: int) -> tuple[list[Path], Path, int]:
    lines = (fx / "evotes.jsonl").read_bytes().splitlines(keepends=True)
    shared_n = int(per_station * OVERLAP)
    own_n = per_station - shared_n
    need = shared_n + STATIONS * own_n
    if len(lines) < need:
        sys.exit(f"fixture has {len(lines)} lines, need {need}")
    shared = lines[:shared_n]
    files = []
    for i in range(STATIONS):
        own = lines[shared_n + i * own_n : shared_n + (i + 1) * own_n]
        p = out / f"station-{i + 1}.jsonl"
        p.write_bytes(b"".join(own[: own_n // 2] + shared + own[own_n // 2 :]))  # shared block mid-file
        files.append(p)
    union = out / "union.jsonl"
    union.write_bytes(b"".join(lines[:need]))
    return files, union, need


def station(fx: str, path: str, url: str, barrier: Any) -> None:
    f = Path(fx)
    store = Store.open(url)
    election = load_election(f / "election.toml")
    pub, secret = load_public_key(f / "keys"), load_receipt_secret(f / "keys")
    barrier.wait()
    ingest_evote_file(store, Path(path), election, pub, secret, workers=1)
    store.close()


def run_concurrent(fx: Path, files: list[Path], url: str) -> float:
    Store.open(url).close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(files) + 1)
    procs = [ctx.Process(target=station, args=(str(fx), str(p), url, barrier)) for p in files]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    dt = time.perf_counter() - t0
    if any(p.exitcode != 0 for p in procs):
        sys.exit(f"a station failed: exit codes {[p.exitcode for p in procs]}")
    return dt


def run_single(fx: Path, union: Path, url: str) -> float:
    store = Store.open(url)
    election = load_election(fx / "election.toml")
    pub, secret = load_public_key(fx / "keys"), load_receipt_secret(fx / "keys")
    t0 = time.perf_counter()
    ingest_evote_file(store, union, election, pub, secret, workers=default_workers())
    dt = time.perf_counter() - t0
    store.close()
    return dt


def outcome(url: str) -> dict[str, Any]:
    store = Store.open(url)
    result = count_store(store, persist=False)
    out = {
        "stored": store.ballot_count(),
        "rejections": store.rejection_counts(),
        "counted": sorted(b.ballot_key for b in result.dedup.counted),
        "superseded": sorted((s.ballot.ballot_key, s.reason) for s in result.dedup.superseded),
        "projects_csv": projects_csv(result),
        "envelopes_csv": envelopes_csv(result),
    }
    store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-station", type=int, default=25_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="pbcount-bench-conc.") as tmp_s:
        tmp = Path(tmp_s)
        need = int(args.per_station * OVERLAP) + STATIONS * (args.per_station - int(args.per_station * OVERLAP))
        voters = int(need / 1.02) + 500
        t0 = time.perf_counter()
        generate_paris(tmp / "fx", seed=2026, voters=voters, paper_voters=0)
        print(f"fixture: {voters} voters generated in {time.perf_counter() - t0:.1f} s")
        files, union, n_union = make_files(tmp / "fx", tmp, args.per_station)
        n_input = STATIONS * args.per_station
        print(f"{STATIONS} station files x {args.per_station} lines ({OVERLAP:.0%} shared by all); "
              f"union {n_union} lines")
        conc_times: list[float] = []
        single_times: list[float] = []
        identical = True
        with postgres_server() as admin:
            for i in range(args.repeat):
                with fresh_schema(admin) as url_c, fresh_schema(admin) as url_s:
                    # alternate the order so drift in machine load hits both modes alike
                    if i % 2 == 0:
                        conc_times.append(run_concurrent(tmp / "fx", files, url_c))
                        single_times.append(run_single(tmp / "fx", union, url_s))
                    else:
                        single_times.append(run_single(tmp / "fx", union, url_s))
                        conc_times.append(run_concurrent(tmp / "fx", files, url_c))
                    same = outcome(url_c) == outcome(url_s)
                    identical &= same
                print(f"  run {i + 1}: concurrent {conc_times[-1]:.2f} s, single {single_times[-1]:.2f} s, "
                      f"identical counts: {same}")
        tc, ts = statistics.median(conc_times), statistics.median(single_times)
        print()
        print(f"concurrent ({STATIONS} processes): {tc:.2f} s, {n_input / tc:,.0f} input lines/s, "
              f"{n_union / tc:,.0f} union lines/s")
        print(f"single process ({default_workers()} workers): {ts:.2f} s, {n_union / ts:,.0f} union lines/s")
        print(f"ratio concurrent/single (union lines/s): {ts / tc:.2f}")
        print(f"counts identical in every run: {identical}")
        print(f"machine: {os.cpu_count()} cores, {platform.python_version()}, "
              f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; medians of {args.repeat}")
        if not identical:
            sys.exit(1)


if __name__ == "__main__":
    main()

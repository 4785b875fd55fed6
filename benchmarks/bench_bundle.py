"""Benchmark: publish and verify the results bundle of a 100,000-ballot election.

Run: ``.venv/bin/python benchmarks/bench_bundle.py [--ballots 100000] [--repeat 3]``

Setup (not timed): the Paris-like election of ``fixtures/paris.py``; 100,000 valid counted
ballots (95% online, 5% paper, 2% of the online voters revote so dedup has work) written
straight into a SQLite store with ``Store.commit_chunk`` (token signing/verification is
ingestion's cost, measured by ``bench_ingest.py``). Each run copies that store.

Timed (medians of ``--repeat``):

* ``publish`` — :func:`engine.formats.bundle.publish_store`: read the store, dedup, tally,
  allocate, build and sign every file, record the publication, write the bundle;
* ``verify`` — :func:`engine.verifier.verify_bundle` on that bundle (every check);
* baseline, same run: bare SHA-256 of the same ``ballots.jsonl`` lines (the RFC 6962
  leaf hashes alone), the floor any Merkle-based publication pays.

Target (issue 4): publish and verify each under 10 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import typing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.formats.bundle import publish_store  # noqa: E402
from engine.formats.election_definition import load_election  # noqa: E402
from engine.model.ballots import Ballot, Channel, Selections, SourceRef, ballot_key  # noqa: E402
from engine.model.crockford import encode_bytes  # noqa: E402
from engine.model.election import Election  # noqa: E402
from engine.model.receipts import online_receipt_id, paper_receipt_id  # noqa: E402
from engine.storage.keyfiles import load_private_key  # noqa: E402
from engine.storage.store import Store  # noqa: E402
from engine.verifier import verify_bundle  # noqa: E402
from fixtures.paris import generate_paris  # noqa: E402


def selection(rng: random.Random, election: Election, env_id: str) -> tuple[str, ...]:
    env = election.envelope(env_id)
    assert env is not None
    projects = list(election.projects_in(env_id))
    for _ in range(50):
        chosen = rng.sample(projects, rng.randint(1, env.max_selections))
        cats: dict[str, int] = {}
        for p in chosen:
            cats[p.category or ""] = cats.get(p.category or "", 0) + 1
        if any(cats.get(c, 0) > lim for c, lim in env.category_limits.items()):
            continue
        if env.max_selection_cost is not None and sum(p.cost for p in chosen) > env.max_selection_cost:
            continue
        return tuple(sorted(p.id for p in chosen))
    return (min(projects, key=lambda p: p.cost).id,)


def make_ballots(election: Election, n: int, secret: bytes, seed: int = 4) -> list[Ballot]:
    rng = random.Random(seed)
    districts = [e.id for e in election.envelopes if e.kind == "district"]
    start = datetime(2026, 9, 7, tzinfo=UTC)
    out: list[Ballot] = []
    voters = [encode_bytes(rng.randbytes(10)) for _ in range(n)]
    revoters = rng.sample(voters, n // 50)
    for i, serial in enumerate([*voters, *revoters]):
        paper = i < n and rng.random() < 0.05
        city = (("paris", selection(rng, election, "paris")),) if rng.random() < 0.88 else ()
        d = rng.choice(districts)
        sel = typing.cast(Selections, tuple(sorted((*city, (d, selection(rng, election, d))))))
        cast = "" if paper else (start + timedelta(seconds=rng.randrange(28 * 86400))).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        image = hashlib.sha256(f"page {i}".encode()).hexdigest() if paper else None
        channel = Channel.PAPER if paper else Channel.ONLINE
        key = ballot_key(channel, serial, cast, sel, image)
        stub = encode_bytes(rng.randbytes(10))
        b = Ballot(key, serial, channel, cast, sel, SourceRef("bench", i + 1), image, stub if paper else None)
        out.append(replace(b, receipt_id=paper_receipt_id(stub) if paper else online_receipt_id(secret, key)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ballots", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp_s:
        tmp = Path(tmp_s)
        t0 = time.perf_counter()
        generate_paris(tmp / "fx", seed=11, voters=200, paper_voters=10)
        election = load_election(tmp / "fx" / "election.toml")
        secret = hashlib.sha256(b"bench receipt secret").digest()
        ballots = make_ballots(election, args.ballots, secret)
        template = tmp / "template.sqlite"
        store = Store.open(f"sqlite:///{template}")
        store.freeze_election(election)
        for i in range(0, len(ballots), 20_000):
            store.commit_chunk(None, "bench", ballots[i:i + 20_000])
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        key = load_private_key(tmp / "fx" / "keys", "results")
        pem = (tmp / "fx" / "keys" / "results.pub").read_bytes()
        print(f"setup: {len(ballots):,} ballots stored in {time.perf_counter() - t0:.1f} s", flush=True)

        publish_s: list[float] = []
        verify_s: list[float] = []
        sha_s: list[float] = []
        publish_cpu: list[float] = []
        verify_cpu: list[float] = []
        counted = size = 0
        for run in range(args.repeat):
            db = tmp / f"run{run}.sqlite"
            shutil.copyfile(template, db)
            store = Store.open(f"sqlite:///{db}")
            out = tmp / f"bundle{run}"
            t, c = time.perf_counter(), time.process_time()
            report = publish_store(store, key, out, actor="bench")
            publish_s.append(time.perf_counter() - t)
            publish_cpu.append(time.process_time() - c)
            store.close()
            t, c = time.perf_counter(), time.process_time()
            v = verify_bundle(out, key_pem=pem)
            verify_s.append(time.perf_counter() - t)
            verify_cpu.append(time.process_time() - c)
            counted, size = v.counted, v.tree_size
            assert report.head.root_hash == v.root_hash
            lines = [x.encode() for x in (out / "ballots.jsonl").read_text(encoding="utf-8").split("\n")[:-1]]
            for _ in range(3):
                t = time.perf_counter()
                sha256 = hashlib.sha256
                for line in lines:
                    sha256(b"\x00" + line).digest()
                sha_s.append(time.perf_counter() - t)
            print(f"run {run + 1}: publish {publish_s[-1]:.2f} s (CPU {publish_cpu[-1]:.2f} s), "
                  f"verify {verify_s[-1]:.2f} s (CPU {verify_cpu[-1]:.2f} s), "
                  f"bare SHA-256 of the lines {sha_s[-1] * 1000:.0f} ms", flush=True)
        pub, ver, sha = (statistics.median(x) for x in (publish_s, verify_s, sha_s))
        print(f"\n{counted:,} counted ballots, tree size {size:,} ({len(ballots):,} stored incl. revotes)")
        pc, vc = statistics.median(publish_cpu), statistics.median(verify_cpu)
        print(f"publish (median of {args.repeat}): {pub:.2f} s wall, {pc:.2f} s CPU "
              f"= {pub / sha:.0f} x bare SHA-256 ({sha * 1000:.0f} ms)")
        print(f"verify  (median of {args.repeat}): {ver:.2f} s wall, {vc:.2f} s CPU = {ver / sha:.0f} x bare SHA-256")
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        verdict = {True: "met", False: "MISSED"}
        print(f"target < 10 s each: publish {verdict[pub < 10]}, verify {verdict[ver < 10]}")
        print(f"machine: {platform.machine()}, Python {platform.python_version()}, "
              f"{datetime.now(UTC):%Y-%m-%d}")


if __name__ == "__main__":
    main()

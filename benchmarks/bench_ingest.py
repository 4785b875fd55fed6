"""Benchmark: ingest 100,000 signed e-votes into SQLite vs bare Ed25519 verification.

Run: ``.venv/bin/python benchmarks/bench_ingest.py [--voters 100000] [--repeat 3]``

Baseline measured in the same run: decode the same tokens, then time only
``Ed25519PublicKey.verify`` on one core, and the same verifications split over
``--workers`` processes at once (the machine's ceiling: ingestion cannot verify faster).
Prints end-to-end votes/s (all cores), the baselines, the ratios, and peak memory
(parent and workers). Medians of ``--repeat``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.exceptions import InvalidSignature  # noqa: E402

from engine.model.crockford import decode_bytes  # noqa: E402
from engine.model.election import load_election  # noqa: E402
from engine.model.tokens import TOKEN_BYTES, TOKEN_PREFIX, _signed_message  # noqa: E402
from engine.services.ingest import ingest_evote_file  # noqa: E402
from engine.services.workers import default_workers  # noqa: E402
from engine.storage import Store  # noqa: E402
from engine.storage.keyfiles import load_public_key, load_receipt_secret  # noqa: E402
from fixtures.paris import generate_paris  # noqa: E402


def bare_verify_rate(path: Path, pub, election_id: str) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    msgs: list[tuple[bytes, bytes]] = []
    pat = re.compile(rb'"token": "(PB1-[0-9A-Z]+)"')
    with path.open("rb") as f:
        for line in f:
            m = pat.search(line)
            if not m:
                continue
            try:
                raw = decode_bytes(m.group(1).decode()[len(TOKEN_PREFIX):], TOKEN_BYTES)
            except ValueError:
                continue
            msgs.append((raw[19:], _signed_message(election_id, raw[9:19])))
    t0 = time.perf_counter()
    for sig, msg in msgs:
        with contextlib.suppress(InvalidSignature):  # forged tokens are part of the file
            pub.verify(sig, msg)
    return len(msgs) / (time.perf_counter() - t0), len(msgs)


def _verify_all(args: tuple[bytes, list[tuple[bytes, bytes]]]) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem, msgs = args
    pub = load_pem_public_key(pem)
    assert isinstance(pub, Ed25519PublicKey)
    for sig, msg in msgs:
        with contextlib.suppress(InvalidSignature):
            pub.verify(sig, msg)
    return len(msgs)


def parallel_verify_rate(path: Path, pub, election_id: str, workers: int) -> float:  # type: ignore[no-untyped-def]
    """The verification ceiling of the whole machine: the same bare verifications split
    over ``workers`` processes running at once (what ingestion could reach at best)."""
    from concurrent.futures import ProcessPoolExecutor

    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    msgs: list[tuple[bytes, bytes]] = []
    pat = re.compile(rb'"token": "(PB1-[0-9A-Z]+)"')
    with path.open("rb") as f:
        for line in f:
            m = pat.search(line)
            if m:
                with contextlib.suppress(ValueError):
                    raw = decode_bytes(m.group(1).decode()[len(TOKEN_PREFIX):], TOKEN_BYTES)
                    msgs.append((raw[19:], _signed_message(election_id, raw[9:19])))
    pem = pub.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    parts = [(pem, msgs[i::workers]) for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_verify_all, [(pem, msgs[:200])] * workers))  # start the processes first
        t0 = time.perf_counter()
        n = sum(pool.map(_verify_all, parts))
        return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voters", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=default_workers())
    args = ap.parse_args()
    os.environ.setdefault("PBCOUNT_PROGRESS", "0")
    with tempfile.TemporaryDirectory() as tmp:
        fx = Path(tmp) / "fx"
        t0 = time.perf_counter()
        m = generate_paris(fx, seed=99, voters=args.voters, paper_voters=10)
        print(f"fixture: {m['lines']:,} lines in {time.perf_counter() - t0:.1f} s")
        e = load_election(fx / "election.toml")
        pub, secret = load_public_key(fx / "keys"), load_receipt_secret(fx / "keys")
        path = fx / "evotes.jsonl"
        rates, base, ceiling = [], [], []
        for i in range(args.repeat):
            store = Store.open(f"sqlite:///{tmp}/run{i}.sqlite")
            store.freeze_election(e)
            t0 = time.perf_counter()
            report = ingest_evote_file(store, path, e, pub, secret, workers=args.workers, keep_rejections=False)
            dt = time.perf_counter() - t0
            assert report.accepted == m["expected"]["accepted"], report.summary()
            rates.append(report.lines / dt)
            base.append(bare_verify_rate(path, pub, e.id)[0])
            ceiling.append(parallel_verify_rate(path, pub, e.id, args.workers))
            store.close()
            print(f"run {i + 1}: ingest {rates[-1]:,.0f} lines/s ({dt:.2f} s), bare verify {base[-1]:,.0f}/s "
                  f"on one core, {ceiling[-1]:,.0f}/s on {args.workers} processes")
        peak_parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        r, b = statistics.median(rates), statistics.median(base)
        print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"ingest (SQLite, {args.workers} workers): median {r:,.0f} votes/s for {m['lines']:,} lines")
        print(f"bare Ed25519 verify (1 core):          median {b:,.0f} verifications/s")
        c = statistics.median(ceiling)
        print(f"bare Ed25519 verify ({args.workers} processes):    median {c:,.0f} verifications/s "
              "(the machine's ceiling for ingestion)")
        print(f"ratio ingest / bare verify: {r / b:.2f} of one core, {r / c:.2f} of the {args.workers}-process ceiling")
        print(f"peak RSS: parent {peak_parent:.0f} MB, largest worker {peak_child:.0f} MB")


if __name__ == "__main__":
    main()

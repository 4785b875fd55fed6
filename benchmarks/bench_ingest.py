"""Benchmark: ingest 100,000 signed e-votes into SQLite vs bare Ed25519 verification.

Run: ``.venv/bin/python benchmarks/bench_ingest.py [--voters 100000] [--repeat 3] [--verify-only]``

Baselines measured in the same run: decode the same tokens, then time only the bare
signature check on one core, and the same verifications split over ``--workers``
processes at once (the machine's ceiling: ingestion cannot verify faster) — with
libsodium (PyNaCl ``crypto_sign_open``, what ``TokenVerifier`` uses) and, next to it,
with ``cryptography``'s ``Ed25519PublicKey.verify`` (the previous verifier). Prints
end-to-end votes/s (all cores), the baselines, the ratios, and peak memory (parent and
workers). Medians of ``--repeat``. ``--verify-only`` skips the ingestion (ceilings only).
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
from nacl.bindings import crypto_sign_open  # noqa: E402
from nacl.exceptions import BadSignatureError  # noqa: E402

from engine.formats.election_definition import load_election  # noqa: E402
from engine.model.crockford import decode_bytes  # noqa: E402
from engine.model.tokens import TOKEN_BYTES, TOKEN_PREFIX, _signed_message  # noqa: E402
from engine.services.ingest import ingest_evote_file  # noqa: E402
from engine.services.workers import default_workers  # noqa: E402
from engine.storage import Store  # noqa: E402
from engine.storage.keyfiles import load_public_key, load_receipt_secret  # noqa: E402
from fixtures.paris import generate_paris  # noqa: E402


def token_messages(path: Path, election_id: str) -> list[tuple[bytes, bytes]]:
    """(signature, signed message) of every decodable token in the e-vote file."""
    msgs: list[tuple[bytes, bytes]] = []
    pat = re.compile(rb'"token": "(PB1-[0-9A-Z]+)"')
    with path.open("rb") as f:
        for line in f:
            m = pat.search(line)
            if m:
                with contextlib.suppress(ValueError):
                    raw = decode_bytes(m.group(1).decode()[len(TOKEN_PREFIX):], TOKEN_BYTES)
                    msgs.append((raw[19:], _signed_message(election_id, raw[9:19])))
    return msgs


def _verify_all(args: tuple[str, bytes, list[tuple[bytes, bytes]]]) -> int:
    """Bare verification of every message with ``lib`` (``sodium`` or ``cryptography``)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    lib, raw_key, msgs = args
    if lib == "sodium":
        for sig, msg in msgs:
            with contextlib.suppress(BadSignatureError):  # forged tokens are part of the file
                crypto_sign_open(sig + msg, raw_key)
    else:
        pub = Ed25519PublicKey.from_public_bytes(raw_key)
        for sig, msg in msgs:
            with contextlib.suppress(InvalidSignature):
                pub.verify(sig, msg)
    return len(msgs)


def bare_verify_rate(msgs: list[tuple[bytes, bytes]], raw_key: bytes, lib: str) -> float:
    """Verifications per second on one core (this process)."""
    t0 = time.perf_counter()
    _verify_all((lib, raw_key, msgs))
    return len(msgs) / (time.perf_counter() - t0)


def parallel_verify_rate(msgs: list[tuple[bytes, bytes]], raw_key: bytes, lib: str, workers: int) -> float:
    """The verification ceiling of the whole machine: the same bare verifications split
    over ``workers`` processes running at once (what ingestion could reach at best)."""
    from concurrent.futures import ProcessPoolExecutor

    parts = [(lib, raw_key, msgs[i::workers]) for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_verify_all, [(lib, raw_key, msgs[:200])] * workers))  # start the processes first
        t0 = time.perf_counter()
        n = sum(pool.map(_verify_all, parts))
        return n / (time.perf_counter() - t0)


def main() -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    ap = argparse.ArgumentParser()
    ap.add_argument("--voters", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--verify-only", action="store_true", help="only the bare verification ceilings")
    args = ap.parse_args()
    os.environ.setdefault("PBCOUNT_PROGRESS", "0")
    libs = ("sodium", "cryptography")
    with tempfile.TemporaryDirectory() as tmp:
        fx = Path(tmp) / "fx"
        t0 = time.perf_counter()
        m = generate_paris(fx, seed=99, voters=args.voters, paper_voters=10)
        print(f"fixture: {m['lines']:,} lines in {time.perf_counter() - t0:.1f} s")
        e = load_election(fx / "election.toml")
        pub, secret = load_public_key(fx / "keys"), load_receipt_secret(fx / "keys")
        raw_key = pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
        path = fx / "evotes.jsonl"
        msgs = token_messages(path, e.id)
        rates: list[float] = []
        base: dict[str, list[float]] = {lib: [] for lib in libs}
        ceiling: dict[str, list[float]] = {lib: [] for lib in libs}
        for i in range(args.repeat):
            line = f"run {i + 1}:"
            if not args.verify_only:
                store = Store.open(f"sqlite:///{tmp}/run{i}.sqlite")
                store.freeze_election(e)
                t0 = time.perf_counter()
                report = ingest_evote_file(store, path, e, pub, secret, workers=args.workers,
                                           keep_rejections=False)
                dt = time.perf_counter() - t0
                assert report.accepted == m["expected"]["accepted"], report.summary()
                rates.append(report.lines / dt)
                store.close()
                line += f" ingest {rates[-1]:,.0f} lines/s ({dt:.2f} s);"
            for lib in libs:  # alternate the libraries inside each run (the machine is shared)
                base[lib].append(bare_verify_rate(msgs, raw_key, lib))
                ceiling[lib].append(parallel_verify_rate(msgs, raw_key, lib, args.workers))
                line += f" {lib} {base[lib][-1]:,.0f}/s on one core, {ceiling[lib][-1]:,.0f}/s on {args.workers};"
            print(line, flush=True)
        peak_parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"load average {os.getloadavg()[0]:.1f}; {len(msgs):,} tokens, medians of {args.repeat} runs")
        for lib in libs:
            b, c = statistics.median(base[lib]), statistics.median(ceiling[lib])
            print(f"bare verify, {lib:12s}: 1 core {b:,.0f}/s ({1e6 / b:.0f} µs each), "
                  f"{args.workers} processes {c:,.0f}/s (the machine's ceiling with {lib})")
        s_c, c_c = statistics.median(ceiling["sodium"]), statistics.median(ceiling["cryptography"])
        print(f"libsodium / cryptography ceiling: {s_c / c_c:.2f}x")
        if rates:
            r = statistics.median(rates)
            print(f"ingest (SQLite, {args.workers} workers): median {r:,.0f} votes/s for {m['lines']:,} lines; "
                  f"{r / s_c:.2f} of the libsodium ceiling, {r / c_c:.2f} of the cryptography ceiling")
        print(f"peak RSS: parent {peak_parent:.0f} MB, largest worker {peak_child:.0f} MB")


if __name__ == "__main__":
    main()

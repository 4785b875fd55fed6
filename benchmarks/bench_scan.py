"""Benchmark: scan a degraded test deck of 2,000 ballot images vs bare image decoding.

Run: ``.venv/bin/python benchmarks/bench_scan.py [--count 2000] [--workers 2] [--repeat 1]``

1. Generates a Paris-like fixture and a test deck (``ballot_scan.testdeck``, default
   options: realistic mix of marks, 6 % ballots with a deliberately ambiguous mark,
   damaged QR codes, upside-down, blank and foreign pages; JPEG/PNG at 200 dpi).
2. Baseline, same run, same files, same number of processes: read + decode each image
   to greyscale (``cv2.imdecode``) and nothing else.
3. ``scan_paths`` into a fresh SQLite store (process pool, OCR, store writes, report).

With ``--deck DIR`` (a deck made by ``python -m fixtures.judging_deck``, e.g. a moderate
*judging* deck of a few hundred images) steps 1 is skipped and the accuracy is scored by
the deck's own harness (:func:`fixtures.judging_deck.score.score_deck`).

Prints ballots/s, decode images/s, their ratio, accuracy against ``expected.json``
(silent misreads, ambiguous marks not sent to review, review rate of unambiguous
ballots) and peak RSS of the parent and of the largest worker. Medians of ``--repeat``.
With ``--deck`` also the CPU time per page of bare decode and of the whole page read in one
process (:func:`cpu_per_page`): on a shared machine wall-clock rates follow the other
jobs' load, CPU time does not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ballot_scan.pipeline import read_register, scan_paths  # noqa: E402
from ballot_scan.read import list_tasks  # noqa: E402
from ballot_scan.render import read_token_register  # noqa: E402
from ballot_scan.testdeck import make_testdeck  # noqa: E402
from engine.formats.election_definition import load_election  # noqa: E402
from engine.storage.keyfiles import load_public_key  # noqa: E402
from engine.storage.store import Store  # noqa: E402
from fixtures.paris import generate_paris  # noqa: E402


def _decode(path: str) -> int:
    img = cv2.imdecode(np.frombuffer(Path(path).read_bytes(), dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"{path}: not a decodable image")
    return int(img.shape[0])


def bare_decode_rate(paths: list[str], workers: int) -> float:
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        for _ in pool.map(_decode, paths, chunksize=8):
            pass
    return len(paths) / (time.perf_counter() - t0)


def accuracy(report: dict, expected: dict) -> dict[str, float]:
    truth = {b["image"]: b for b in expected["ballots"]}
    misreads = ambiguous_missed = clean = clean_reviewed = 0
    for p in report["pages"]:
        t = truth[p["image"]]
        if p["status"] == "accepted" and (t["kind"] != "ballot" or t["ambiguous"]
                                          or p["selections"] != t["selections"]):
            misreads += 1
        if t["ambiguous"] and p["status"] != "needs_review":
            ambiguous_missed += 1
        if t["kind"] == "ballot" and not t["ambiguous"] and t["expected_status"] == "accepted":
            clean += 1
            clean_reviewed += p["status"] != "accepted"
    return {"misreads": misreads, "ambiguous_missed": ambiguous_missed, "clean": clean,
            "clean_reviewed": clean_reviewed, "review_rate": clean_reviewed / max(1, clean)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--deck", type=Path, help="an existing judging-deck folder (fixtures.judging_deck)")
    args = ap.parse_args()
    if args.deck:
        bench_deck(args.deck, args.workers, args.repeat)
        return
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp_:
        tmp = Path(tmp_)
        generate_paris(tmp / "fx", seed=args.seed, voters=2000, paper_voters=max(1200, args.count))
        election = load_election(tmp / "fx" / "election.toml")
        tokens = read_token_register(tmp / "fx" / "paper_tokens.csv")
        deck = tmp / "deck"
        t0 = time.perf_counter()
        make_testdeck(election, [e.id for e in election.envelopes], tokens, deck, count=args.count,
                      seed=args.seed, workers=args.workers)
        gen_s = time.perf_counter() - t0
        expected = json.loads((deck / "expected.json").read_text())
        paths = [t.path for t in list_tasks([deck])]
        size_mb = sum(os.path.getsize(p) for p in paths) / 1e6
        decode_rates, scan_rates = [], []
        acc: dict[str, float] = {}
        for i in range(args.repeat):
            decode_rates.append(bare_decode_rate(paths, args.workers))
            store = Store.open(f"sqlite:///{tmp / f'scan{i}.db'}")
            report_path = tmp / f"report{i}.json"
            t0 = time.perf_counter()
            s = scan_paths(store, election, load_public_key(tmp / "fx" / "keys"), [deck],
                           register=read_register(tmp / "fx" / "paper_tokens.csv"), workers=args.workers,
                           report_path=report_path)
            scan_rates.append(s.pages / (time.perf_counter() - t0))
            store.close()
            acc = accuracy(json.loads(report_path.read_text()), expected)
        parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    scan_rate, decode_rate = statistics.median(scan_rates), statistics.median(decode_rates)
    print(f"deck: {args.count} images ({size_mb:.0f} MB, 200 dpi), generated in {gen_s:.0f} s")
    print(f"scan: {scan_rate:.1f} ballots/s with {args.workers} processes (runs: "
          + ", ".join(f"{r:.1f}" for r in scan_rates) + ")")
    print(f"bare decode: {decode_rate:.1f} images/s with {args.workers} processes")
    print(f"ratio scan / bare decode: {scan_rate / decode_rate:.2f}")
    print(f"accuracy: {acc['misreads']} silent misreads, {acc['ambiguous_missed']} ambiguous marks not reviewed, "
          f"review rate of unambiguous ballots {acc['review_rate'] * 100:.2f} % "
          f"({acc['clean_reviewed']} of {acc['clean']})")
    print(f"peak RSS: parent {parent_mb:.0f} MB, largest child {child_mb:.0f} MB")
    print(f"| {datetime.now(UTC).date()} | {args.count} | {scan_rate:.1f} | {decode_rate:.1f} | "
          f"{scan_rate / decode_rate:.2f} | {acc['misreads']} | {acc['ambiguous_missed']} | "
          f"{acc['review_rate'] * 100:.2f} % | {parent_mb:.0f} MB / {child_mb:.0f} MB | "
          f"{platform.python_version()}, {args.workers} workers, load {os.getloadavg()[0]:.1f} |")


def cpu_per_page(election: object, paths: list[str], repeat: int) -> tuple[float, float]:
    """CPU milliseconds per page in this one process (medians of ``repeat``): bare decode,
    and the worker's whole read (:meth:`PageReader.read_batch`: decode, align, QR, page
    code, OCR when needed, marks). CPU time, unlike wall time, does not count the other
    jobs of a shared machine, so the ratio stays comparable between runs."""
    from ballot_scan.read import PageReader

    tasks = list_tasks([Path(p) for p in paths])
    reader = PageReader(election)  # type: ignore[arg-type]
    reader.read_batch(tasks[:8])  # warm-up (OCR engine, templates)
    dec, rd = [], []
    for _ in range(repeat):
        t0 = time.process_time()
        for p in paths:
            _decode(p)
        dec.append((time.process_time() - t0) * 1000 / len(paths))
        t0 = time.process_time()
        for i in range(0, len(tasks), 8):
            reader.read_batch(tasks[i : i + 8])
        rd.append((time.process_time() - t0) * 1000 / len(tasks))
    return statistics.median(dec), statistics.median(rd)


def bench_deck(deck: Path, workers: int, repeat: int) -> None:
    """Scan an existing judging deck ``repeat`` times; print medians and the harness's figures."""
    from fixtures.judging_deck.score import score_deck

    expected = json.loads((deck / "expected.json").read_text())
    fixture = Path(expected["fixture"])
    election = load_election(fixture / "election.toml")
    paths = [t.path for t in list_tasks([deck])]
    decode_rates, scan_rates = [], []
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp_:
        tmp = Path(tmp_)
        for i in range(repeat):
            decode_rates.append(bare_decode_rate(paths, workers))
            store = Store.open(f"sqlite:///{tmp / f'scan{i}.db'}")
            report_path = tmp / f"report{i}.json"
            t0 = time.perf_counter()
            s = scan_paths(store, election, load_public_key(fixture / "keys"), [deck],
                           register=read_register(fixture / "paper_tokens.csv"), workers=workers,
                           report_path=report_path)
            scan_rates.append(s.pages / (time.perf_counter() - t0))
            store.close()
        score = score_deck(expected, json.loads(report_path.read_text())["pages"])
    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    scan_rate, decode_rate = statistics.median(scan_rates), statistics.median(decode_rates)
    print(f"deck {deck}: {len(paths)} images, {expected.get('profile')} / {expected.get('mixture')}")
    print(f"scan: {scan_rate:.1f} ballots/s (median of " + ", ".join(f"{r:.1f}" for r in scan_rates)
          + f"), bare decode {decode_rate:.1f} images/s, ratio {scan_rate / decode_rate:.2f}, {workers} workers")
    print(f"accuracy: {len(score.silent_misreads)} silent misreads, {score.ambiguous_missed} of "
          f"{score.ambiguous_marks} ambiguous marks not to review, {score.clear_not_accepted_pct:.1f} % of "
          f"{score.clear} clear ballots not accepted, {score.rejected_pct:.1f} % rejected")
    print(f"peak RSS: parent {parent_mb:.0f} MB, largest child {child_mb:.0f} MB; load {os.getloadavg()[0]:.1f}")
    dec_ms, read_ms = cpu_per_page(election, paths, repeat)
    print(f"CPU per page, one process: bare decode {dec_ms:.1f} ms, read {read_ms:.1f} ms, ratio "
          f"{dec_ms / read_ms:.2f}; {workers} idle cores would read {workers * 1000 / read_ms:.0f} pages/s "
          f"(the main process's decisions and store writes apart)")


if __name__ == "__main__":
    main()

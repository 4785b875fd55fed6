"""Benchmark: a Paris-scale election night, end to end, on this machine.

Run: ``.venv/bin/python benchmarks/bench_night.py [--online 45000] [--paper 5000] [--deck DIR] [--record]``

Stages, each timed (wall clock), in the order an operator runs them:

1. ``online`` — ``--online`` signed e-votes (distinct voters, Paris-like election of
   ``fixtures/paris.py``) posted one per request to a real ``pbcount serve --workers 2``
   (uvicorn, SQLite) on 127.0.0.1 by 64 keep-alive connections (the load generator of
   ``bench_api.py``, in this process: it shares the 2 cores with the server, as the
   city's own front-end would not).
2. ``close`` — ``POST /v1/election/close`` (admin key); the server is then stopped.
3. ``paper`` — ``scan_paths`` (what ``pbcount scan`` does) of a realistic judging deck
   (``python -m fixtures.judging_deck --mixture judging --profile moderate``) into the same
   store. The deck is made first (not timed) unless ``--deck`` names one made for this
   fixture. Its rate is **extrapolated to 47,000 sheets** (Paris 2016's paper count) and said so.
4. ``count`` — ``engine.services.count.count_store`` (dedup by precedence, tally, allocation).
5. ``publish`` — ``engine.services.publish.publish_store`` (bundle signed, ``allow_pending``:
   pages sent to review are listed as pending, as on a real night before adjudication).
6. ``verify`` — ``engine.verifier.verify_bundle`` (the stand-alone verifier, both cores).

The total (online + close + paper at 47,000 + count + publish + verify) is compared with
the 15-minute goal (issue 14.7). Signing the votes and making the deck are preparation, not
part of the night, and are printed apart. Only 127.0.0.1 is ever contacted; the server is
stopped at the end whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
from bench_api import free_port, make_votes, post_all, start_server, stop_server  # noqa: E402

from ballot_scan.pipeline import read_register, scan_paths  # noqa: E402
from ballot_scan.render import read_token_register  # noqa: E402
from engine.formats.election_definition import load_election  # noqa: E402
from engine.services.count import count_store  # noqa: E402
from engine.services.publish import publish_store  # noqa: E402
from engine.storage.apikey_store import ApiKeyStore  # noqa: E402
from engine.storage.keyfiles import load_private_key, load_public_key  # noqa: E402
from engine.storage.store import Store  # noqa: E402
from engine.verifier import verify_bundle  # noqa: E402
from fixtures.judging_deck.deck import make_deck  # noqa: E402
from fixtures.paris import generate_paris  # noqa: E402

PARIS_PAPER = 47_000
GOAL_SECONDS = 15 * 60


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--online", type=int, default=45_000, help="online votes posted to the API")
    ap.add_argument("--paper", type=int, default=5_000, help="judging-deck images scanned (extrapolated to 47,000)")
    ap.add_argument("--deck", type=Path, help="reuse a deck made by an earlier run (--keep) for the same --seed")
    ap.add_argument("--workers", type=int, default=2, help="server and scan processes")
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--keep", type=Path, help="keep the work folder (fixture, deck, store, bundle) here")
    ap.add_argument("--record", action="store_true", help="append the figures to benchmarks/RESULTS.md")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="pbcount-bench-night-"))
    work.mkdir(parents=True, exist_ok=True)
    prep: dict[str, float] = {}
    stages: dict[str, float] = {}

    # ---- preparation (not part of the night)
    t0 = time.perf_counter()
    fx = work / "fixture"
    if not (fx / "election.toml").exists():
        generate_paris(fx, seed=args.seed, voters=1000, paper_voters=max(200, args.paper))
    election = load_election(fx / "election.toml")
    keys = fx / "keys"
    votes = make_votes(election, keys, args.online, args.seed)
    bodies = [json.dumps(v).encode() for v in votes]
    prep["sign votes"] = time.perf_counter() - t0
    deck = args.deck or work / "deck"
    if not (deck / "expected.json").exists():
        t0 = time.perf_counter()
        print(f"making a judging deck of {args.paper:,} images (moderate damage)…", flush=True)
        make_deck(election, "all", read_token_register(fx / "paper_tokens.csv"), deck, count=args.paper,
                  profile="moderate", mixture="judging", seed=args.seed, workers=args.workers, dpi=200,
                  fixture_dir=fx)
        prep["make deck"] = time.perf_counter() - t0
    n_images = len(json.loads((deck / "expected.json").read_text())["ballots"]) if (
        deck / "expected.json").exists() else args.paper
    print("preparation: " + ", ".join(f"{k} {v:.1f} s" for k, v in prep.items()), flush=True)

    db = work / "night.db"
    db.unlink(missing_ok=True)
    db_url = f"sqlite:///{db}"
    store = Store.open(db_url)
    store.freeze_election(election)
    _, op_key = ApiKeyStore(store).create("operator", "bench-night")
    _, admin_key = ApiKeyStore(store).create("admin", "bench-night")

    # ---- 1-2: online intake through the real server, then the close
    port = free_port()
    server = start_server(db_url, keys, port, args.workers)
    try:
        time.sleep(1.0)  # let every worker finish starting
        latencies, answers, wall = asyncio.run(post_all(port, op_key, bodies, 64))
        stages["online"] = wall
        t0 = time.perf_counter()
        r = httpx.post(f"http://127.0.0.1:{port}/v1/election/close",
                       headers={"Authorization": f"Bearer {admin_key}"}, timeout=60)
        stages["close"] = time.perf_counter() - t0
        if r.status_code != 200:
            print(f"FAIL: close answered {r.status_code}: {r.text[:200]}")
            return 1
    finally:
        stop_server(server)
    accepted = sum(1 for a in answers if a.get("http") == 201)
    lat = sorted(latencies)
    print(f"online: {len(bodies):,} votes in {stages['online']:.1f} s = {len(bodies) / stages['online']:,.0f}/s, "
          f"{accepted:,} accepted (201), p99 {1000 * lat[int(0.99 * (len(lat) - 1))]:.0f} ms; "
          f"close {stages['close'] * 1000:.0f} ms", flush=True)

    # ---- 3: paper
    t0 = time.perf_counter()
    s = scan_paths(store, election, load_public_key(keys), [deck], register=read_register(fx / "paper_tokens.csv"),
                   workers=args.workers, report_path=work / "scan-report.json")
    scanned_s = time.perf_counter() - t0
    paper_rate = s.pages / scanned_s
    stages["paper"] = PARIS_PAPER / paper_rate
    print(f"paper: {s.pages:,} images of {n_images:,} in {scanned_s:.1f} s = {paper_rate:.1f}/s, "
          f"{s.accepted:,} accepted; EXTRAPOLATED to {PARIS_PAPER:,} sheets: {stages['paper']:.0f} s", flush=True)

    # ---- 4-6: count, publish, verify
    t0 = time.perf_counter()
    result = count_store(store, actor="bench-night")
    stages["count"] = time.perf_counter() - t0
    bundle = work / "bundle"
    shutil.rmtree(bundle, ignore_errors=True)
    t0 = time.perf_counter()
    report = publish_store(store, load_private_key(keys, "results"), bundle, actor="bench-night", allow_pending=True)
    stages["publish"] = time.perf_counter() - t0
    store.close()
    t0 = time.perf_counter()
    v = verify_bundle(bundle, key_pem=(keys / "results.pub").read_bytes())
    stages["verify"] = time.perf_counter() - t0
    ok = v.root_hash == report.head.root_hash and accepted == args.online
    print(f"count {stages['count']:.1f} s ({len(result.dedup.counted):,} counted), publish {stages['publish']:.1f} s, "
          f"verify {stages['verify']:.1f} s ({v.counted:,} counted, tree {v.tree_size:,}): "
          f"{'OK' if ok else 'FAIL'}")

    total = sum(stages.values())
    load = os.getloadavg()[0]
    print("\nstage      seconds")
    for k, val in stages.items():
        note = f"  (extrapolated from {s.pages:,} images)" if k == "paper" else ""
        print(f"{k:<10} {val:8.1f}{note}")
    print(f"{'total':<10} {total:8.1f}  = {total / 60:.1f} min, {total / GOAL_SECONDS:.2f} of the 15-minute goal: "
          f"{'met' if total <= GOAL_SECONDS else 'NOT met'}  (load average {load:.1f}; "
          f"{platform.machine()}, Python {platform.python_version()})")
    if args.record:
        record(args, stages, s.pages, total, load)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


def record(args: argparse.Namespace, stages: dict[str, float], pages: int, total: float, load: float) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    text = path.read_text(encoding="utf-8")
    header = "## The whole night — `bench_night.py` (issue 14.7)"
    if header not in text:
        text += (f"\n{header}\n\nOnline votes through `pbcount serve --workers 2` (load generator in the same "
                 "machine), a moderate judging deck scanned and its rate **extrapolated to 47,000 sheets**, then "
                 "close, count, publish, verify. Goal: 15 min (900 s) in all.\n\n"
                 "| date (UTC) | online votes | online s | close s | paper images scanned | paper s (47,000, "
                 "extrapolated) | count s | publish s | verify s | total s | of goal | load |\n"
                 "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    row = (f"| {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} | {args.online:,} | {stages['online']:.1f} | "
           f"{stages['close']:.2f} | {pages:,} | {stages['paper']:.0f} | {stages['count']:.1f} | "
           f"{stages['publish']:.1f} | {stages['verify']:.1f} | {total:.0f} | {total / GOAL_SECONDS:.2f} | "
           f"{load:.1f} |\n")
    start = text.index(header)
    nxt = text.find("\n## ", start + len(header))
    end = len(text) if nxt == -1 else nxt
    lines = text[start:end].splitlines(keepends=True)
    last_row = max(i for i, ln in enumerate(lines) if ln.startswith("|"))
    lines.insert(last_row + 1, row)
    path.write_text(text[:start] + "".join(lines) + text[end:], encoding="utf-8")
    print(f"recorded in {path}")


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: time to compute a sortition lottery (leximin, maximin) on a synthetic pool.

Run: ``.venv/bin/python benchmarks/bench_sortition.py [--people 300] [--seats 30]
[--method leximin maximin] [--baseline]``

The pool (fixed seed) has three features: gender (f/m/x, x capped at 2 seats), four age
bands and five districts, with quotas around proportionality. Prints CPU seconds, the
column generation rounds, the number of panels in the lottery and the smallest and
largest selection probabilities for each method. ``--baseline`` also runs leximin as it was
before the typed pricing and warm-started stages (``pricing="people", warm=False, extra=0``) in the
same run and prints the ratio (slow: at 1,000 people the baseline does not finish in minutes).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

from engine.sortition import parse_features, parse_pool
from engine.sortition.leximin import leximin
from engine.sortition.maximin import Lottery, maximin
from fixtures.sortition_pool import sortition_world


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=300)
    ap.add_argument("--seats", type=int, default=30)
    ap.add_argument("--method", nargs="+", default=["maximin", "leximin"], choices=["maximin", "leximin"])
    ap.add_argument("--baseline", action="store_true", help="also run the old leximin and print the ratio")
    args = ap.parse_args()
    pool_text, features_text = sortition_world(args.people, args.seats)
    f = parse_features(features_text)
    p = parse_pool(pool_text, f)
    runs: list[tuple[str, Callable[..., Lottery]]] = [
        (name, {"maximin": maximin, "leximin": leximin}[name]) for name in args.method]
    if args.baseline:
        runs.append(("leximin-baseline", partial(leximin, pricing="people", warm=False, extra=0)))
    times: dict[str, float] = {}
    for name, fn in runs:
        t = time.process_time()
        lot = fn(p, f, args.seats)
        dt = times[name] = time.process_time() - t
        probs = sorted(a / b for a, b in lot.probabilities(len(p.ids)))
        print(f"{name}: {args.people} people, {args.seats} seats: {dt:.1f} s CPU, {lot.rounds} rounds, "
              f"{len(lot.panels)} panels, probabilities {probs[0]:.4f}..{probs[-1]:.4f}", flush=True)
    if "leximin" in times and "leximin-baseline" in times:
        print(f"leximin / baseline CPU time: {times['leximin'] / times['leximin-baseline']:.2f}")


if __name__ == "__main__":
    main()

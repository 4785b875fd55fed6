"""Benchmark: time to compute a sortition lottery (leximin, maximin) on a synthetic pool.

Run: ``.venv/bin/python benchmarks/bench_sortition.py [--people 300] [--seats 30]
[--method leximin-types leximin maximin] [--baseline] [--repeat 3]``

The pool (fixed seed) has three features: gender (f/m/x, x capped at 2 seats), four age
bands and five districts, with quotas around proportionality. Prints CPU seconds, the
column generation rounds, the number of panels in the lottery and the smallest and
largest selection probabilities for each method (median CPU time of ``--repeat`` runs).
``leximin-types`` is the default algorithm (``leximin-types/1``, one LP column per type of
interchangeable people); ``leximin`` the per-person one (``leximin-colgen/2``), the ratio
of the two is printed when both run (same probabilities: the largest per-person difference
is printed too). ``--baseline`` also runs leximin as it was
before the typed pricing and warm-started stages (``pricing="people", warm=False, extra=0``) in the
same run and prints the ratio (slow: at 1,000 people the baseline does not finish in minutes).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

from engine.sortition import parse_features, parse_pool
from engine.sortition.leximin import leximin
from engine.sortition.leximin_types import TypeLottery, leximin_types
from engine.sortition.maximin import Lottery, maximin
from fixtures.sortition_pool import sortition_world


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=300)
    ap.add_argument("--seats", type=int, default=30)
    ap.add_argument("--method", nargs="+", default=["leximin-types", "maximin", "leximin"],
                    choices=["leximin-types", "maximin", "leximin"])
    ap.add_argument("--baseline", action="store_true", help="also run the old leximin and print the ratio")
    ap.add_argument("--repeat", type=int, default=1, help="runs per method (median CPU time)")
    args = ap.parse_args()
    pool_text, features_text = sortition_world(args.people, args.seats)
    f = parse_features(features_text)
    p = parse_pool(pool_text, f)
    fns: dict[str, Callable[..., Lottery | TypeLottery]] = {
        "leximin-types": leximin_types, "maximin": maximin, "leximin": leximin}
    runs: list[tuple[str, Callable[..., Lottery | TypeLottery]]] = [(name, fns[name]) for name in args.method]
    if args.baseline:
        runs.append(("leximin-baseline", partial(leximin, pricing="people", warm=False, extra=0)))
    times: dict[str, float] = {}
    person_probs: dict[str, list[float]] = {}
    for name, fn in runs:
        samples = []
        for _ in range(max(1, args.repeat)):
            t = time.process_time()
            lot = fn(p, f, args.seats)
            samples.append(time.process_time() - t)
        dt = times[name] = statistics.median(samples)
        person_probs[name] = [a / b for a, b in lot.probabilities(len(p.ids))]
        probs = sorted(person_probs[name])
        panels = len(lot.compositions) if isinstance(lot, TypeLottery) else len(lot.panels)
        print(f"{name}: {args.people} people, {args.seats} seats: {dt:.2f} s CPU (median of {len(samples)}), "
              f"{lot.rounds} rounds, {panels} panels, probabilities {probs[0]:.4f}..{probs[-1]:.4f}", flush=True)
    if "leximin" in times and "leximin-baseline" in times:
        print(f"leximin / baseline CPU time: {times['leximin'] / times['leximin-baseline']:.2f}")
    if "leximin-types" in times and "leximin" in times:
        diff = max(abs(u - v) for u, v in zip(person_probs["leximin-types"], person_probs["leximin"], strict=True))
        print(f"leximin-types / leximin CPU time: {times['leximin-types'] / times['leximin']:.3f}; "
              f"largest per-person probability difference {diff:.1e}")


if __name__ == "__main__":
    main()

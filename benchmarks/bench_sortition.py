"""Benchmark: time to compute a sortition lottery (leximin, maximin) on a synthetic pool.

Run: ``.venv/bin/python benchmarks/bench_sortition.py [--people 300] [--seats 30]
[--method leximin maximin]``

The pool (fixed seed) has three features: gender (f/m/x, x capped at 2 seats), four age
bands and five districts, with quotas around proportionality. Prints CPU seconds, the
column generation rounds, the number of panels in the lottery and the smallest and
largest selection probabilities for each method.
"""

from __future__ import annotations

import argparse
import random
import time

from engine.sortition import parse_features, parse_pool
from engine.sortition.leximin import leximin
from engine.sortition.maximin import maximin


def world(people: int, seats: int) -> tuple[str, str]:
    rng = random.Random(1)
    pool = "id,gender,age,district\n" + "".join(
        f"P{i},{rng.choice('ffffmmmmx')},{rng.choice('abcd')},d{rng.randint(1, 5)}\n" for i in range(people))
    k = seats
    features = ("feature,value,min,max\n" f"gender,f,{k * 4 // 10},{k // 2 + 1}\n"
                f"gender,m,{k * 4 // 10},{k // 2 + 1}\ngender,x,0,2\n"
                + "".join(f"age,{a},{k // 5},{k // 3}\n" for a in "abcd")
                + "".join(f"district,d{j},{k // 6},{k // 4 + 1}\n" for j in range(1, 6)))
    return pool, features


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=300)
    ap.add_argument("--seats", type=int, default=30)
    ap.add_argument("--method", nargs="+", default=["maximin", "leximin"], choices=["maximin", "leximin"])
    args = ap.parse_args()
    pool_text, features_text = world(args.people, args.seats)
    f = parse_features(features_text)
    p = parse_pool(pool_text, f)
    for name in args.method:
        fn = {"maximin": maximin, "leximin": leximin}[name]
        t = time.process_time()
        lot = fn(p, f, args.seats)
        dt = time.process_time() - t
        probs = sorted(a / b for a, b in lot.probabilities(len(p.ids)))
        print(f"{name}: {args.people} people, {args.seats} seats: {dt:.1f} s CPU, {lot.rounds} rounds, "
              f"{len(lot.panels)} panels, probabilities {probs[0]:.4f}..{probs[-1]:.4f}", flush=True)


if __name__ == "__main__":
    main()

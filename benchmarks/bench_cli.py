"""Benchmark: how fast the ``pbcount`` command starts, against a bare ``python -c pass``.

Run: ``.venv/bin/python benchmarks/bench_cli.py [--repeat 15]``

Times (wall, fresh process each) ``python -c pass`` (the baseline, same interpreter),
``pbcount --help``, ``pbcount --version`` and a few commands' own ``--help`` (which import
that command's module only), interleaved so that machine noise hits all alike; prints the
medians and the ratio to the baseline (target for ``pbcount --help``: at most 6x).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PBCOUNT = [sys.executable, "-m", "pbcount"]
CASES: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "pbcount --help": [*PBCOUNT, "--help"],
    "pbcount --version": [*PBCOUNT, "--version"],
    "pbcount verify --help": [*PBCOUNT, "verify", "--help"],
    "pbcount keys --help": [*PBCOUNT, "keys", "--help"],
    "pbcount allocate --help": [*PBCOUNT, "allocate", "--help"],
    "pbcount scan --help": [*PBCOUNT, "scan", "--help"],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    times: dict[str, list[float]] = {k: [] for k in CASES}
    for _ in range(args.repeat):
        for name, cmd in CASES.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["python -c pass"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; medians of {args.repeat} runs")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:26s} {med * 1000:7.1f} ms  {med / base:5.1f}x bare python")


if __name__ == "__main__":
    main()

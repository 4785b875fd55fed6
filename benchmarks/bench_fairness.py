"""Benchmark: majority judgment at Paris scale, and the fairness report vs pabutools (issue 15).

Run: ``.venv/bin/python benchmarks/bench_fairness.py [--repeat 5] [--pabutools-file NAME]``

* **Majority judgment**: 100,000 voters x 200 projects, four grades (generated; every
  voter grades every project, the worst case: 20 M grades), timed after generation (the
  flat arrays a parser would give): building the :class:`GradeProfile` (one bincount) plus
  the rule (gauges, order, greedy fill), and the rule alone on the built profile.
* **Fairness report** on Łódź 2022 (90,494 voters x 160 projects) and Warsaw 2026
  (61,668 x 83) from ``../shared/pabulib`` (``PBCOUNT_PABULIB_DIR`` elsewhere), outcome:
  ``greedy``; ours = :func:`engine.counting.fairness.fairness_report` (histograms, Gini,
  EJR/PJR search). Baseline in the same run: pabutools' analysis functions for the same
  figures (``satisfaction_histogram`` x 2, ``percent_non_empty_handed``,
  ``gini_coefficient_of_satisfaction`` x 2), on each file, once (exact fractions). pabutools'
  EJR/PJR checks enumerate every group of voters (2^n) and cannot run on these files; they
  are compared on small instances in ``tests/unit/test_fairness.py``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.counting.fairness import fairness_report  # noqa: E402
from engine.formats.pabulib import allocation_problem, read_pabulib  # noqa: E402
from engine.model.ids import ProjectId  # noqa: E402
from engine.rules import RULES, AllocationProblem  # noqa: E402
from engine.rules.grades import PARIS_GRADES, GradeProfile  # noqa: E402

PABULIB = Path(os.environ.get("PBCOUNT_PABULIB_DIR") or ROOT.parent / "shared" / "pabulib")
FILES = {"Łódź 2022": "Poland_Lodz_2022.pb", "Warsaw 2026": "Poland_Warszawa_2026.pb"}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bench_mj(repeat: int, n_voters: int = 100_000, n_projects: int = 200) -> None:
    rng = np.random.default_rng(2026)
    # each project has its own grade distribution; every voter grades every project
    probs = rng.dirichlet(np.ones(4), size=n_projects)
    given: np.ndarray = np.stack([rng.choice(4, size=n_voters, p=probs[j]) for j in range(n_projects)], axis=1)
    # voter-major (voter 0's 200 grades, then voter 1's...), as a parser would store them:
    # grades in a byte, project indices in int32
    given = given.astype(np.uint8).ravel()
    projects = np.tile(np.arange(n_projects, dtype=np.int32), n_voters)
    ids = tuple(ProjectId(f"P{j}") for j in range(n_projects))
    costs = tuple(int(x) for x in rng.integers(10_000, 1_000_000, n_projects))
    budget = sum(costs) // 4

    def build_and_run() -> Any:
        gp = GradeProfile.from_flat(PARIS_GRADES, n_projects, n_voters, projects, given)
        p = AllocationProblem(ids, costs, (0.0,) * n_projects, budget, grades=gp)
        return RULES["majority-judgment"](p, "votes-cost-id")

    t_all, result = timed(build_and_run, repeat)
    gp = GradeProfile.from_flat(PARIS_GRADES, n_projects, n_voters, projects, given)
    p = AllocationProblem(ids, costs, (0.0,) * n_projects, budget, grades=gp)
    t_rule, _ = timed(lambda: RULES["majority-judgment"](p, "votes-cost-id"), repeat)
    print(f"majority judgment, {n_voters:,} voters x {n_projects} projects ({len(given):,} grades): "
          f"profile + rule {t_all:.3f} s, rule alone {t_rule:.4f} s (median of {repeat}); "
          f"{len(result.selected)} funded")


def bench_fairness(repeat: int, with_pabutools: bool) -> None:
    for label, name in FILES.items():
        f = PABULIB / name
        if not f.exists():
            print(f"{label}: {f} not found, skipped")
            continue
        inst = read_pabulib(f)
        problem = allocation_problem(inst, apply_threshold=False)
        result = RULES["greedy"](problem, "votes-cost-id")
        t_ours, rep = timed(partial(fairness_report, problem, result), repeat)
        line = (f"{label} ({len(inst.votes):,} voters x {len(inst.projects)} projects): fairness report "
                f"{t_ours:.3f} s (median of {repeat}; EJR search {rep['search']['sets_visited']} sets, "
                f"exhaustive {rep['search']['exhaustive']}; ejr {rep['ejr']['satisfied']}, "
                f"pjr {rep['pjr']['satisfied']})")
        if with_pabutools:
            t_pb = pabutools_figures(f, result.selected, len(rep["funded_projects_histogram"]) - 1)
            line += f"; pabutools same figures {t_pb:.1f} s (one run) = x{t_pb / t_ours:,.0f}"
        print(line, flush=True)


def pabutools_figures(f: Path, selected: tuple[str, ...], top: int) -> float:
    from pabutools.analysis.votersatisfaction import (
        gini_coefficient_of_satisfaction,
        percent_non_empty_handed,
        satisfaction_histogram,
    )
    from pabutools.election import Cardinality_Sat, Cost_Sat, parse_pabulib, total_cost
    from pabutools.election.satisfaction.additivesatisfaction import AdditiveSatisfaction
    from pabutools.fractions import frac

    class ShareOfApprovedCost(AdditiveSatisfaction):
        def __init__(self, instance: Any, profile: Any, ballot: Any) -> None:
            whole = total_cost(ballot)
            AdditiveSatisfaction.__init__(
                self, instance, profile, ballot,
                lambda i, pr, b, p, pre: frac(p.cost, whole) if whole and p in b else 0)

    inst, prof = parse_pabulib(str(f))
    funded = [inst.get_project(pid) for pid in selected]
    gc.collect()
    t = time.perf_counter()
    satisfaction_histogram(inst, prof, funded, Cardinality_Sat, max(top, 1), max(top, 1) + 1)
    satisfaction_histogram(inst, prof, funded, ShareOfApprovedCost, 1, 11)
    percent_non_empty_handed(inst, prof, funded)
    gini_coefficient_of_satisfaction(inst, prof, funded, Cost_Sat)
    gini_coefficient_of_satisfaction(inst, prof, funded, Cardinality_Sat)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-pabutools", action="store_true", help="skip the pabutools baseline")
    args = ap.parse_args()
    bench_mj(args.repeat)
    bench_fairness(args.repeat, not args.no_pabutools)


if __name__ == "__main__":
    main()

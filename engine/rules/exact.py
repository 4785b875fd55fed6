"""``exact`` — maximum total score (utilitarian welfare) within the budget, solved exactly.

Definition: choose ``x_j`` in {0, 1} maximising ``sum_j score_j x_j`` subject to
``sum_j cost_j x_j <= budget`` (a 0/1 knapsack), with projects under the threshold
excluded and, when the problem has quotas, for every quota ``q``:
``min_amount_q <= sum_{j in q} cost_j x_j <= max_amount_q``.

Solved as an integer program with HiGHS (``highspy``, branch and cut, relative and
absolute MIP gap 0, one thread), so the optimum is proven, not approximated. If a quota's
minimum cannot be reached at all, the largest reachable amount for the group is computed
first (a second ILP) and used as the minimum; the result reports the shortfall.

Tie-break: among welfare-maximising sets, the first in the tie-break order
(:func:`~engine.rules.tiebreak.project_order`): walk the projects in that order and include
each one if some optimal set contains it together with every project already included and
none already excluded (one extra ILP per project the current optimum leaves out). The
result is fully determined (it does not depend on the solver or on the order projects are
listed), so ``engine/verifier/rules_reference.py`` recomputes it with a plain branch and bound.

Complexity: NP-hard in general; HiGHS solves real PB instances (hundreds of projects) in
milliseconds to seconds; the tie-break adds up to n small ILPs. Scores are used as given
(votes; points for cumulative ballots).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from engine.highs import new_solver, rowwise_model
from engine.rules.problem import (
    AllocationProblem,
    AllocationResult,
    ProjectOutcome,
    QuotaReport,
)
from engine.rules.tiebreak import project_order

Detail = Callable[[int, int], str]  # (position in the order, project index) -> an outcome detail


def _solve(
    weights: np.ndarray,
    rows: list[tuple[np.ndarray, float, float]],
    upper: np.ndarray,
    lower: np.ndarray | None = None,
) -> np.ndarray | None:
    """Maximise ``weights @ x`` over binary x with ``lo <= a @ x <= hi`` rows; None if infeasible."""
    import highspy

    n = len(weights)
    h = new_solver(mip_abs_gap=0.0)
    sparse = [((np.nonzero(a)[0].tolist(), a[np.nonzero(a)[0]].tolist()), lo, hi) for a, lo, hi in rows]
    lp = rowwise_model(-weights, np.zeros(n) if lower is None else lower, upper, sparse, [True] * n)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        raise RuntimeError(f"HiGHS did not solve the knapsack: {h.modelStatusToString(status)}")
    x = np.asarray(h.getSolution().col_value)
    return x > 0.5


def optimal_set_outcomes(
    problem: AllocationProblem, order: Sequence[int], x: np.ndarray, eligible: np.ndarray, chosen_reason: str,
    chosen_detail: Detail, below_detail: Detail, other_detail: Detail,
) -> list[ProjectOutcome]:
    """Outcomes of an optimal set ``x`` (one flag per position of ``order``), as ``exact`` and
    ``cuts-exact`` publish them: the chosen projects first, in ``order`` (``chosen_reason``),
    then the others in ``order``: ``below_threshold`` if not ``eligible``, else
    ``not_in_optimum``. Each detail function gets ``(position in order, project index)``."""
    outcomes: list[ProjectOutcome] = []
    committed = 0
    rank = 0
    for pos, i in enumerate(order):
        if x[pos]:
            rank += 1
            committed += problem.costs[i]
            outcomes.append(ProjectOutcome(problem.project_ids[i], rank, True, committed, chosen_reason,
                                           chosen_detail(pos, i)))
    for pos, i in enumerate(order):
        if not x[pos]:
            rank += 1
            reason, detail = (("below_threshold", below_detail(pos, i)) if not eligible[pos]
                              else ("not_in_optimum", other_detail(pos, i)))
            outcomes.append(ProjectOutcome(problem.project_ids[i], rank, False, committed, reason, detail))
    return outcomes


def _first_optimum(
    scores: np.ndarray, costs: np.ndarray, rows: list[tuple[np.ndarray, float, float]],
    upper: np.ndarray, x: np.ndarray, welfare: float, budget: int,
) -> np.ndarray:
    """Among sets with the optimal welfare, the first in tie-break order: walking the
    projects in that order, include each one if some optimal set includes it together with
    every project already included (and none already excluded)."""
    n = len(scores)
    integral = bool(np.all(scores == np.round(scores)))
    slack = 0.5 if integral else 1e-9 * max(1.0, abs(welfare))
    keep = (scores, welfare - slack, np.inf)
    lower, upper = np.zeros(n), upper.copy()
    current, committed = x.copy(), 0.0
    for pos in range(n):
        if upper[pos] == 0:
            continue
        if current[pos]:
            lower[pos] = 1.0
            committed += costs[pos]
            continue
        if committed + costs[pos] > budget:
            upper[pos] = 0.0
            continue
        lower[pos] = 1.0
        y = _solve(scores, [*rows, keep], upper, lower)
        if y is not None and float(scores @ y) >= welfare - (1e-6 if integral else slack):
            current = y
            committed += costs[pos]
        else:
            lower[pos] = upper[pos] = 0.0
    return current


def exact(problem: AllocationProblem, tie_break: str = "votes-cost-id") -> AllocationResult:
    """``exact``: the set of maximum total score within the budget (0/1 knapsack, HiGHS ILP).

    Definition: see the module docstring (quotas as linear constraints).

    Parameters: ``problem`` (projects, costs, scores, budget, threshold, quotas); ``tie_break``
    (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`).
    Returns: an :class:`~engine.rules.problem.AllocationResult` (selected projects, one
    outcome per project with its rank, reason and detail).
    Tie-break: among optimal sets, the first in the tie-break order (one ILP per project left out).
    Complexity: NP-hard; one ILP plus at most one per project.
    """
    order = project_order(problem, tie_break)
    n = len(order)
    # canonical column order (tie-break order) so the answer does not depend on input order
    costs = np.array([problem.costs[i] for i in order], dtype=np.float64)
    scores = np.array([problem.scores[i] for i in order], dtype=np.float64)
    eligible = scores >= problem.threshold
    ub = np.where(eligible, 1.0, 0.0)
    rows: list[tuple[np.ndarray, float, float]] = [(costs, -np.inf, float(problem.budget))]
    notes: list[str] = []
    reports: list[QuotaReport] = []
    member_masks = []
    for q in problem.quotas:
        mask = np.array([problem.project_ids[i] in q.members for i in order], dtype=np.float64)
        member_masks.append(mask)
        hi = float(q.max_amount) if q.max_amount is not None else np.inf
        lo = float(q.min_amount)
        rows.append((costs * mask, lo, hi))
    x = _solve(scores, rows, ub) if n else np.zeros(0, dtype=bool)
    shortfalls: dict[str, tuple[int, str]] = {}
    if x is None:
        # relax each quota minimum to the most money the group can get, one at a time
        for qi, q in enumerate(problem.quotas):
            k = 1 + qi
            a, lo, hi = rows[k]
            best = _solve(a, [r for i, r in enumerate(rows) if i != k] + [(a, 0.0, hi)], ub)
            reachable = int(round(float(a @ best))) if best is not None else 0
            if reachable < lo:
                group_total = int(round(float(a @ eligible)))
                why = (f"its eligible projects cost {group_total} in total" if group_total < lo
                       else f"no combination of its projects within the budget reaches {int(lo)}")
                shortfalls[q.name] = (int(lo) - reachable, why)
                rows[k] = (a, float(reachable), hi)
        x = _solve(scores, rows, ub)
        if x is None:
            raise ValueError("quotas are contradictory (maximums below minimums?)")
    welfare = float(scores @ x)
    x = _first_optimum(scores, costs, rows, ub, x, welfare, problem.budget)
    for qi, q in enumerate(problem.quotas):
        got = int(round(float((costs * member_masks[qi]) @ x)))
        short, why = shortfalls.get(q.name, (0, ""))
        reports.append(QuotaReport(q.name, q.min_amount, q.max_amount, got, short == 0, short, why))
        if short:
            notes.append(f"quota {q.name!r} not met: group got {got} of {q.min_amount} (short by {short}): {why}")
    outcomes = optimal_set_outcomes(
        problem, order, x, eligible, "funded",
        lambda pos, i: f"{problem.scores[i]:g} votes; in the optimal set",
        lambda pos, i: f"{problem.scores[i]:g} votes < threshold {problem.threshold:g}",
        lambda pos, i: "funding it would lower the total votes of the funded set")
    spent = outcomes[-1].cumulative_cost if outcomes else 0
    notes.insert(0, f"total score {welfare:g} (proven optimal by HiGHS)")
    selected = tuple(o.project_id for o in outcomes if o.selected)
    return AllocationResult("exact", tie_break, problem.budget, selected, spent, tuple(outcomes),
                            tuple(notes), tuple(reports))

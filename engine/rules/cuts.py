"""Savings rules (reverse participatory budgeting): which spending lines to cut.

The problem is an :class:`~engine.rules.problem.AllocationProblem` read the other way:
``project_ids`` are spending lines, ``costs`` the amount saved if a line is cut,
``scores`` the votes to cut it (approvals), ``budget`` the savings target, and
``profile.n_voters`` the number of voters. A line's *opposition* is the number of voters
who did not vote to cut it (``n_voters - votes``). Lines under ``threshold`` votes are
never cut. :class:`SectorLimit` bounds the cuts within a sector: at most ``max_cuts`` lines,
and/or at most ``max_amount`` saved (e.g. 30 % of the sector's spending).

Cut order (both rules' tie-break), for ``tie_break``:

* ``votes-cost-id`` (default): more votes to cut first, then the larger saving (fewer cuts
  reach the target), then line id in natural order;
* ``votes-id``: votes, then id in natural order; ``lexicographic``: votes, then id as a string.

``cuts-greedy`` — Definition: walk the lines in cut order and cut each one (unless its
sector is already at a limit: ``sector_limit``) until the savings reach the target; later
lines are ``not_needed``. The overshoot (savings − target) is reported. Lines nobody voted
to cut come last and are cut only if the target needs them. Complexity O(n log n).

``cuts-exact`` — Definition: the set of cuts reaching the target with the least total
opposition, ``min sum_j (n_voters - votes_j) x_j`` s.t. ``sum_j saving_j x_j >= target``
and the sector limits, ``x`` binary: an ILP solved by HiGHS with zero gap (proven optimum).
Ties, in this order: (1) among least-opposition sets, the smallest total saving (least
overshoot); (2) then the first in cut order: walk the lines in cut order and keep each one
cut if some set with the same opposition and saving contains it and every line already
kept (one ILP per line). The result is fully determined. Complexity: NP-hard (a knapsack);
HiGHS solves hundreds of lines in milliseconds; the tie-break adds up to n small ILPs.

Infeasible target (both rules): :class:`TargetUnreachable` (a ``ValueError``) says the most
that can be saved under the threshold and the sector limits (an ILP). If greedy's order
stops short because of sector limits while another set would reach the target, the error
says so and names ``cuts-exact``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from engine.errors import TargetUnreachable
from engine.rules.exact import _solve, optimal_set_outcomes
from engine.rules.problem import AllocationProblem, AllocationResult, ProjectOutcome
from engine.rules.tiebreak import natural_key, tie_break_named

CUT_REASONS = {
    "cut": "cut: in order of votes to cut, needed to reach the target",
    "cut_optimal": "cut: part of the least-opposition set reaching the target",
    "not_needed": "kept: the target was already reached",
    "not_in_optimum": "kept: cutting it would add opposition or overshoot",
    "sector_limit": "kept: its sector already reached its limit",
    "below_threshold": "kept: fewer votes to cut than the threshold",
}


@dataclass(frozen=True)
class SectorLimit:
    """At most ``max_cuts`` cuts and/or at most ``max_amount`` saved among ``members``."""

    sector: str
    members: frozenset[str]
    max_cuts: int | None = None
    max_amount: int | None = None


def sectors_from_categories(categories: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """Sectors from each line's category text (a comma list: a line may be in several
    sectors; every limit applies to each). ValueError when no line has a category."""
    sectors: dict[str, set[str]] = {}
    for line, text in categories.items():
        for cat in filter(None, (c.strip() for c in text.split(","))):
            sectors.setdefault(cat, set()).add(line)
    if not sectors:
        raise ValueError("sector limits need a sector (category) for the lines")
    return {k: frozenset(v) for k, v in sectors.items()}


def sector_limits(sectors: dict[str, frozenset[str]], *, max_cuts: int | None = None,
                  max_share: float | None = None, spending: dict[str, int] | None = None,
                  savings: dict[str, int] | None = None) -> tuple[SectorLimit, ...]:
    """The same limit for every sector: ``max_share`` is a fraction (0.3 = 30 %) of the
    sector's spending (``spending[sector]``, default: the sum of its lines' savings),
    rounded down."""
    out = []
    for name in sorted(sectors, key=natural_key):
        members = sectors[name]
        amount = None
        if max_share is not None:
            total = (spending or {}).get(name)
            if total is None:
                total = sum((savings or {}).get(m, 0) for m in members)
            amount = int(np.floor(max_share * total + 1e-9))
        out.append(SectorLimit(name, members, max_cuts, amount))
    return tuple(out)


def cut_order(problem: AllocationProblem, tie_break: str) -> list[int]:
    """Line indices in cut order (see the module docstring)."""
    return tie_break_named(tie_break).order(problem, larger_cost_first=True)


def _limit_rows(problem: AllocationProblem, order: list[int], limits: Sequence[SectorLimit],
                savings: np.ndarray) -> list[tuple[np.ndarray, float, float]]:
    rows = []
    known = set(problem.project_ids)
    for lim in limits:
        if not lim.members <= known:
            raise ValueError(f"sector {lim.sector!r} names lines not in the problem")
        mask = np.array([problem.project_ids[i] in lim.members for i in order], dtype=np.float64)
        if lim.max_cuts is not None:
            rows.append((mask, -np.inf, float(lim.max_cuts)))
        if lim.max_amount is not None:
            rows.append((savings * mask, -np.inf, float(lim.max_amount)))
    return rows


def most_savings(problem: AllocationProblem, limits: Sequence[SectorLimit] = ()) -> int:
    """The most that can be saved by eligible lines under the sector limits (an ILP)."""
    order = list(range(len(problem.project_ids)))
    savings = np.array(problem.costs, dtype=np.float64)
    ub = np.array([1.0 if problem.scores[i] >= problem.threshold else 0.0 for i in order])
    if not order:
        return 0
    x = _solve(savings, _limit_rows(problem, order, limits, savings), ub)
    return int(round(float(savings @ x))) if x is not None else 0


def _money(problem: AllocationProblem, units: float) -> str:
    """Money in currency units (costs may be scaled by ``problem.unit``, e.g. cents)."""
    x = Fraction(int(round(units)), problem.unit)
    return f"{x.numerator:,}" if x.denominator == 1 else f"{float(x):,.2f}"


def _unreachable(problem: AllocationProblem, limits: Sequence[SectorLimit]) -> TargetUnreachable:
    most = most_savings(problem, limits)
    why = []
    if problem.threshold:
        why.append(f"lines under {problem.threshold:g} votes excluded")
    if limits:
        why.append("sector limits applied")
    tail = f" ({'; '.join(why)})" if why else ""
    return TargetUnreachable(f"savings target {_money(problem, problem.budget)} cannot be reached: at most "
                             f"{_money(problem, most)} can be saved{tail}", most)


def _limit_hit(problem: AllocationProblem, i: int, limits: Sequence[SectorLimit],
               cuts: dict[str, int], saved: dict[str, int]) -> SectorLimit | None:
    pid = problem.project_ids[i]
    for lim in limits:
        if pid not in lim.members:
            continue
        if lim.max_cuts is not None and cuts[lim.sector] + 1 > lim.max_cuts:
            return lim
        if lim.max_amount is not None and saved[lim.sector] + problem.costs[i] > lim.max_amount:
            return lim
    return None


def _result(rule: str, problem: AllocationProblem, tie_break: str, outcomes: list[ProjectOutcome],
            notes: list[str]) -> AllocationResult:
    selected = tuple(o.project_id for o in outcomes if o.selected)
    saved = sum(problem.costs[problem.project_ids.index(p)] for p in selected)
    notes.insert(0, f"saved {_money(problem, saved)} for a target of {_money(problem, problem.budget)}: "
                    f"overshoot {_money(problem, saved - problem.budget)}")
    return AllocationResult(rule, tie_break, problem.budget, selected, saved, tuple(outcomes), tuple(notes))


def cuts_greedy(problem: AllocationProblem, tie_break: str = "votes-cost-id", *,
                limits: Sequence[SectorLimit] = ()) -> AllocationResult:
    """``cuts-greedy``: cut lines in order of votes to cut until the target is reached (module docstring).

    Parameters: ``problem`` and ``tie_break`` (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`);
    the target is ``problem.budget``.
    Returns: an :class:`~engine.rules.problem.AllocationResult`.
    Tie-break: as greedy (the project order). Complexity: O(n log n).
    """
    order = cut_order(problem, tie_break)
    target = problem.budget
    cuts = {lim.sector: 0 for lim in limits}
    by_sector = {lim.sector: 0 for lim in limits}
    saved = 0
    outcomes: list[ProjectOutcome] = []
    for rank, i in enumerate(order, start=1):
        pid, amount, votes = problem.project_ids[i], problem.costs[i], problem.scores[i]
        if votes < problem.threshold:
            outcomes.append(ProjectOutcome(pid, rank, False, saved, "below_threshold",
                                           f"{votes:g} votes to cut < threshold {problem.threshold:g}"))
            continue
        if saved >= target:
            outcomes.append(ProjectOutcome(pid, rank, False, saved, "not_needed",
                                           f"target {_money(problem, target)} reached before its turn"))
            continue
        hit = _limit_hit(problem, i, limits, cuts, by_sector)
        if hit is not None:
            what = (f"at most {hit.max_cuts} cuts" if hit.max_cuts is not None and cuts[hit.sector] + 1 >
                    hit.max_cuts else f"at most {_money(problem, hit.max_amount or 0)} saved")
            outcomes.append(ProjectOutcome(pid, rank, False, saved, "sector_limit",
                                           f"sector {hit.sector}: {what}"))
            continue
        saved += amount
        for lim in limits:
            if pid in lim.members:
                cuts[lim.sector] += 1
                by_sector[lim.sector] += amount
        outcomes.append(ProjectOutcome(pid, rank, True, saved, "cut", f"{votes:g} votes to cut"))
    if saved < target:
        err = _unreachable(problem, limits)
        if err.most >= target:
            raise TargetUnreachable(
                f"cuts-greedy stops at {_money(problem, saved)} of the target {_money(problem, target)}: the "
                f"sector limits block its order, but {_money(problem, err.most)} can be saved with other cuts "
                "(use cuts-exact)", err.most)
        raise err
    return _result("cuts-greedy", problem, tie_break, outcomes, [])


def cuts_exact(problem: AllocationProblem, tie_break: str = "votes-cost-id", *,
               limits: Sequence[SectorLimit] = ()) -> AllocationResult:
    """``cuts-exact``: the least-opposition set of cuts reaching the target (module docstring).

    Parameters: ``problem`` and ``tie_break`` (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`);
    the target is ``problem.budget``.
    Returns: an :class:`~engine.rules.problem.AllocationResult`.
    Tie-break: the first optimal set in the tie-break order (one ILP per line). Complexity: NP-hard (a knapsack ILP).
    """
    if problem.profile is None:
        raise ValueError("cuts-exact needs the number of voters (the problem's approval profile)")
    n_voters = problem.profile.n_voters
    order = cut_order(problem, tie_break)
    n = len(order)
    savings = np.array([problem.costs[i] for i in order], dtype=np.float64)
    votes = np.array([problem.scores[i] for i in order], dtype=np.float64)
    opposition = n_voters - votes
    eligible = votes >= problem.threshold
    ub = eligible.astype(np.float64)
    rows = [(savings, float(problem.budget), np.inf), *_limit_rows(problem, order, limits, savings)]
    x = _solve(-opposition, rows, ub) if n else None
    if x is None:
        if problem.budget <= 0:
            x = np.zeros(n, dtype=bool)
        else:
            raise _unreachable(problem, limits)
    best_opp = float(opposition @ x)
    integral = bool(np.all(opposition == np.round(opposition)))
    slack = 0.5 if integral else 1e-9 * max(1.0, abs(best_opp))
    rows.append((opposition, -np.inf, best_opp + slack))
    y = _solve(-savings, rows, ub)  # least saving among least-opposition sets
    x = y if y is not None else x
    least = float(savings @ x)
    rows.append((savings, -np.inf, least + 0.5))
    lower, upper = np.zeros(n), ub.copy()
    for pos in range(n):
        if upper[pos] == 0:
            continue
        if x[pos]:
            lower[pos] = 1.0
            continue
        lower[pos] = 1.0
        z = _solve(np.zeros(n), rows, upper, lower)
        if z is not None:
            x = z
        else:
            lower[pos] = upper[pos] = 0.0
    outcomes = optimal_set_outcomes(
        problem, order, x, eligible, "cut_optimal",
        lambda pos, i: f"{votes[pos]:g} votes to cut, opposition {opposition[pos]:g}",
        lambda pos, i: f"{votes[pos]:g} votes to cut < threshold {problem.threshold:g}",
        lambda pos, i: f"opposition {opposition[pos]:g}")
    notes = [f"total opposition {float(opposition @ x):g} (proven least by HiGHS)"]
    return _result("cuts-exact", problem, tie_break, outcomes, notes)

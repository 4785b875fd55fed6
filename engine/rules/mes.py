"""Method of Equal Shares (MES) with cost utilities, and its completions.

``mes`` — Definition (Peters & Skowron; equalshares.net): every voter gets an equal share
``b = budget / n_voters`` of the budget. A project ``c`` costing ``cost(c)`` is
*affordable* if its supporters together still hold at least ``cost(c)``. With cost
utilities (a supporter's utility for ``c`` is ``cost(c)``), the price per unit of utility
of ``c`` is the smallest ``rho`` such that ``sum_i min(b_i, rho * cost(c)) = cost(c)``
over its supporters ``i``, i.e. each supporter pays ``rho * cost(c)`` or all they have
left. Repeatedly fund the affordable project with the smallest ``rho`` (equivalently the
largest *effective vote count* ``1 / rho``) and charge its supporters; stop when no
project is affordable. Projects that nobody approved or that cost 0 are handled as in
pabutools (zero-cost supported projects are funded first). Used in Wieliczka, Świecie,
Aarau and Assen.

Tie-break (equal ``rho`` up to a relative 1e-9): the rule's tie-break
(:func:`~engine.rules.tiebreak.tie_rank`); ``lexicographic`` is pabutools' default (the
project id as a string).

``mes-add1`` — the "add1" completion as cities run it (pabutools
``exhaustion_by_budget_increase(..., budget_step=n_voters, exhaustive_stop=False)``): run
MES with a per-voter budget of ``b + k`` currency units for ``k = 0, 1, 2, ...``; return
the last outcome whose total cost stays within the real budget (stop early when every
fundable project is funded).

``mes-greedy`` / ``mes-add1-greedy`` — then fill the money left greedily in vote order
(as pabutools ``completion_by_rule_combination`` with ``greedy_utilitarian_welfare``).

``*-comparison`` (pabulib ``equalshares/add1-comparison``, Wieliczka) — compare the MES
outcome with the plain greedy outcome: each voter supports the outcome that gives them
the most money for projects they approved (both when equal); the greedy outcome is used
only if strictly more voters support it.

Complexity: each round evaluates candidates lazily in increasing order of their previous
``rho`` (prices only grow, so the previous value is a lower bound) and stops when it cannot
beat the best; a candidate costs O(s) for ``s`` supporters (O(s log s) when some supporter
cannot pay the equal share). With ``R`` rounds: O(R * approvals * log) worst case, far
less in practice. ``mes-add1`` runs MES once per increment.

Satisfaction is approval-based (pabutools ``Cost_Sat``): for cumulative or scoring ballots
the points are ignored, only which projects were supported matters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import numpy as np

from engine.model.ids import ProjectId
from engine.rules.greedy import greedy
from engine.rules.problem import (
    AllocationProblem,
    AllocationResult,
    ProjectOutcome,
)
from engine.rules.profile import ApprovalProfile
from engine.rules.tiebreak import project_order, tie_rank

REL_TOL = 1e-9


@dataclass
class MesRun:
    """One run of MES at a given per-voter budget."""

    per_voter: float
    selected: list[int]
    rho: dict[int, float]  # price per unit of utility paid by each funded project
    unaffordable: dict[int, float]  # project -> money its supporters had left when dropped
    tied_with: dict[int, list[int]]  # funded project -> projects it beat on a tie


def _profile(problem: AllocationProblem) -> ApprovalProfile:
    if problem.profile is None:
        raise ValueError("Method of Equal Shares needs the voters' approvals (problem.profile)")
    return problem.profile


def mes_run(problem: AllocationProblem, per_voter: float, rank: list[int]) -> MesRun:
    """MES at ``per_voter`` money per voter (see the module docstring).

    Hot loop (add1 calls it once per increment): each candidate's supporters' money is
    gathered once per evaluation and reused to charge them when it wins; when even the
    poorest supporter can pay the equal share (the common case), the minimum alone decides
    (then the sum is at least ``cost`` and :func:`_equal_payment` would return the equal
    share: the margin ``1e-12`` keeps this identical to computing the sum first, whose
    rounding is ~1e-15 relative).
    """
    prof = _profile(problem)
    costs = [float(c) for c in problem.costs]
    counts = prof.approval_counts().tolist()
    n = len(costs)
    eligible = [j for j in range(n) if problem.scores[j] >= problem.threshold and counts[j] > 0]
    selected = [j for j in eligible if costs[j] == 0]
    alive = [j for j in eligible if costs[j] > 0]
    afford = [np.inf] * n
    for j in alive:
        afford[j] = 1.0 / counts[j]
    budget = np.full(prof.n_voters, per_voter, dtype=np.float64)
    run = MesRun(per_voter, list(selected), {j: 0.0 for j in selected}, {}, {})
    supp = _supporters(prof)
    lo, hi_tol = 1 - REL_TOL, 1 + REL_TOL
    sure = lo * (1 + 1e-12)
    key = afford.__getitem__
    while alive:
        best = np.inf
        tied: list[int] = []
        dropped: list[int] = []
        gathered: dict[int, np.ndarray] = {}
        for j in sorted(alive, key=key):
            if afford[j] > best * hi_tol:
                break
            c = costs[j]
            b = budget[supp[j]]
            m = len(b)
            pay = c / m
            if float(b.min()) >= pay * sure:  # everyone can pay the equal share
                rho = pay / c
            else:
                total = float(b.sum())
                if total < c * lo:
                    dropped.append(j)
                    run.unaffordable[j] = total
                    continue
                rho = _equal_payment(b, c, total) / c
            afford[j] = rho
            gathered[j] = b
            if rho < best * lo:
                best, tied = rho, [j]
            elif rho <= best * hi_tol:
                tied.append(j)
        for j in dropped:
            alive.remove(j)
        if not tied:
            break
        win = min(tied, key=rank.__getitem__)
        if len(tied) > 1:
            run.tied_with[win] = [j for j in tied if j != win]
        pay = afford[win] * costs[win]
        b = gathered[win]
        b -= pay
        np.maximum(b, 0.0, out=b)
        budget[supp[win]] = b
        run.selected.append(win)
        run.rho[win] = afford[win]
        alive.remove(win)
    return run


_SUPPORTERS: WeakKeyDictionary[ApprovalProfile, list[np.ndarray]] = WeakKeyDictionary()


def _supporters(prof: ApprovalProfile) -> list[np.ndarray]:
    """Per project, the indices of its supporters (views into the profile; cached per profile)."""
    cached = _SUPPORTERS.get(prof)
    if cached is None:
        ip, v = prof.indptr.tolist(), prof.voters
        cached = _SUPPORTERS[prof] = [v[ip[j]:ip[j + 1]] for j in range(prof.n_projects)]
    return cached


def _equal_payment(b: np.ndarray, cost: float, total: float) -> float:
    """Smallest ``pay`` with ``sum(min(b_i, pay)) = cost`` (supporters hold ``total >= cost``).

    Poor/rich iteration: supporters who hold less than the equal share pay all they have,
    the others split the rest equally; repeat until no one else becomes poor. The poor set
    only grows, so at most ``len(b)`` rounds; in practice 1-4 vectorised passes, O(s) each.
    """
    m = len(b)
    pay = cost / m
    if float(b.min()) >= pay * (1 - REL_TOL):  # fast path: everyone can pay the equal share
        return pay
    poor = b < pay * (1 - REL_TOL)
    n_poor = int(np.count_nonzero(poor))
    while n_poor:
        if n_poor == m:  # everyone pays all they have (total == cost up to rounding)
            return float(b.max())
        pay = (cost - float(b[poor].sum())) / (m - n_poor)
        poor = b < pay * (1 - REL_TOL)
        new = int(np.count_nonzero(poor))
        if new == n_poor:
            break
        n_poor = new
    return pay


def _fundable(problem: AllocationProblem) -> int:
    counts = _profile(problem).approval_counts()
    return sum(
        1 for j in range(len(problem.costs)) if counts[j] > 0 and problem.scores[j] >= problem.threshold
    )


def mes_add1_run(problem: AllocationProblem, rank: list[int]) -> tuple[MesRun, int]:
    """Add1: raise the per-voter budget one currency unit at a time (returns run, steps)."""
    n = _profile(problem).n_voters
    base = problem.budget / max(n, 1)
    run = mes_run(problem, base, rank)
    fundable = _fundable(problem)
    k = 0
    while len(run.selected) < fundable:
        nxt = mes_run(problem, base + (k + 1) * problem.unit, rank)
        if sum(problem.costs[j] for j in nxt.selected) > problem.budget:
            break
        run, k = nxt, k + 1
    return run, k


def _result(
    problem: AllocationProblem,
    rule: str,
    tie_break: str,
    run: MesRun,
    notes: list[str],
    completion: list[int] | None = None,
) -> AllocationResult:
    prof = _profile(problem)
    counts = prof.approval_counts()
    ids, costs = problem.project_ids, problem.costs
    outcomes: list[ProjectOutcome] = []
    spent = 0
    done: set[int] = set()
    for r, j in enumerate(run.selected, start=1):
        spent += costs[j]
        done.add(j)
        detail = (
            f"round {r}: each supporter paid up to {run.rho[j] * costs[j] / problem.unit:.2f} "
            f"(effective votes {1 / run.rho[j] if run.rho[j] else float('inf'):.1f})"
        )
        if j in run.tied_with:
            detail += "; won a tie against " + ", ".join(ids[x] for x in run.tied_with[j])
        outcomes.append(ProjectOutcome(ids[j], r, True, spent, "funded", detail))
    rank = len(outcomes)
    for j in completion or []:
        rank += 1
        spent += costs[j]
        done.add(j)
        outcomes.append(ProjectOutcome(ids[j], rank, True, spent, "funded_completion",
                                       f"{problem.scores[j]:g} votes; fitted in the money left"))
    winners_tie = {x: w for w, xs in run.tied_with.items() for x in xs}
    for j in project_order(problem, tie_break):
        if j in done:
            continue
        rank += 1
        if problem.scores[j] < problem.threshold:
            reason, detail = "below_threshold", f"{problem.scores[j]:g} votes < threshold {problem.threshold:g}"
        elif counts[j] == 0:
            reason, detail = "no_supporters", "nobody approved it"
        elif j in run.unaffordable:
            reason = "not_affordable"
            detail = (f"its {counts[j]} supporters had {run.unaffordable[j] / problem.unit:.2f} left, "
                      f"cost {costs[j] / problem.unit:g}")
            if j in winners_tie:
                detail += f"; earlier lost a tie to {ids[winners_tie[j]]}"
        else:
            reason, detail = "not_affordable", "not affordable when the rule ended"
        outcomes.append(ProjectOutcome(ids[j], rank, False, spent, reason, detail))
    selected = tuple(o.project_id for o in outcomes if o.selected)
    return AllocationResult(rule, tie_break, problem.budget, selected, spent, tuple(outcomes), tuple(notes))


def _complete_greedily(problem: AllocationProblem, tie_break: str, chosen: list[int]) -> list[int]:
    left = problem.budget - sum(problem.costs[j] for j in chosen)
    taken = set(chosen)
    extra: list[int] = []
    for j in project_order(problem, tie_break):
        if j in taken or problem.scores[j] < problem.threshold:
            continue
        if problem.costs[j] <= left:
            left -= problem.costs[j]
            extra.append(j)
    return extra


# the docstring sections the four MES entry points share (see _variant)
_ENTRY_POINT_DOC = """
    Definition: see the module docstring (needs ``problem.profile``, the approvals).

    Parameters: ``problem`` (projects, costs, scores, budget, threshold, approval profile); ``tie_break``
    (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`).
    Returns: an :class:`~engine.rules.problem.AllocationResult` (selected projects, one
    outcome per project with its rank, reason and detail).
    Tie-break: equal ``rho`` (relative 1e-9) by :func:`~engine.rules.tiebreak.tie_rank`.
    Complexity: O(R * approvals * log) worst case for R rounds (add1: once per increment).
"""


def _run_variant(problem: AllocationProblem, tie_break: str, add1: bool) -> tuple[MesRun, list[str]]:
    rank = tie_rank(problem, tie_break)
    n = _profile(problem).n_voters
    if add1:
        run, k = mes_add1_run(problem, rank)
        base = problem.budget / max(n, 1) / problem.unit
        return run, [f"add1: per-voter budget raised by {k} from {base:.2f} to {base + k:.2f}"]
    return mes_run(problem, problem.budget / max(n, 1), rank), []


def _variant(name: str, summary: str, *, add1: bool, complete: bool) -> Callable[..., AllocationResult]:
    """The entry point of one MES variant: ``add1`` raises the per-voter budget, ``complete``
    fills the money left greedily (:func:`_complete_greedily`)."""

    def rule(problem: AllocationProblem, tie_break: str = "votes-cost-id") -> AllocationResult:
        run, notes = _run_variant(problem, tie_break, add1=add1)
        completion = _complete_greedily(problem, tie_break, run.selected) if complete else None
        return _result(problem, name, tie_break, run, notes, completion)

    rule.__name__ = rule.__qualname__ = name.replace("-", "_")
    rule.__doc__ = f"``{name}``: {summary}\n" + _ENTRY_POINT_DOC
    return rule


mes = _variant("mes", "Method of Equal Shares with cost utilities.", add1=False, complete=False)
mes_add1 = _variant("mes-add1", "MES with the add1 completion (per-voter budget raised by 1 until the budget "
                    "is exceeded).", add1=True, complete=False)
mes_greedy = _variant("mes-greedy", "MES, then the money left filled greedily in vote order.",
                      add1=False, complete=True)
mes_add1_greedy = _variant("mes-add1-greedy", "MES add1, then the money left filled greedily in vote order.",
                           add1=True, complete=True)


def popularity_support(problem: AllocationProblem, outcomes: list[tuple[ProjectId, ...]]) -> list[int]:
    """For each outcome, how many voters like it best (money spent on projects they approved)."""
    prof = _profile(problem)
    index = {pid: j for j, pid in enumerate(problem.project_ids)}
    sats = []
    for sel in outcomes:
        sat = np.zeros(prof.n_voters, dtype=np.float64)
        for pid in sel:
            j = index[pid]
            sat[prof.supporters(j)] += problem.costs[j]
        sats.append(sat)
    mat = np.vstack(sats)
    best = mat.max(axis=0)
    return [int((mat[i] == best).sum()) for i in range(len(outcomes))]


def with_comparison(base_rule_name: str) -> Callable[..., AllocationResult]:
    """``<rule>-comparison``: keep the MES outcome unless greedy is preferred by more voters."""
    base = {"mes": mes, "mes-add1": mes_add1, "mes-greedy": mes_greedy,
            "mes-add1-greedy": mes_add1_greedy}[base_rule_name]

    def rule(problem: AllocationProblem, tie_break: str = "votes-cost-id") -> AllocationResult:
        m = base(problem, tie_break)
        g = greedy(problem, tie_break)
        if set(m.selected) == set(g.selected):
            support = popularity_support(problem, [m.selected])
            note = f"comparison: greedy gives the same projects ({support[0]} voters)"
            return _renamed(m, base_rule_name + "-comparison", note)
        s_m, s_g = popularity_support(problem, [m.selected, g.selected])
        note = f"comparison: {s_m} voters prefer the MES outcome, {s_g} the greedy outcome"
        if s_g > s_m:
            return _renamed(g, base_rule_name + "-comparison", note + "; greedy outcome used")
        return _renamed(m, base_rule_name + "-comparison", note + "; MES outcome kept")

    rule.__name__ = base_rule_name.replace("-", "_") + "_comparison"
    rule.__doc__ = (f"``{base_rule_name}-comparison``: the {base_rule_name} outcome unless strictly more voters "
                    "prefer greedy's (definition in the module doc).\n\n"
                    "Parameters: ``problem`` (with its approval profile) and ``tie_break``.\n"
                    "Returns: an AllocationResult (the kept outcome, renamed, with a note).\n"
                    f"Tie-break: as {base_rule_name} and greedy.\n"
                    f"Complexity: {base_rule_name}'s plus greedy's plus O(voters * selected).")

    return rule


def _renamed(r: AllocationResult, name: str, note: str) -> AllocationResult:
    return AllocationResult(name, r.tie_break, r.budget, r.selected, r.cost, r.outcomes,
                            (*r.notes, note), r.quota_reports)

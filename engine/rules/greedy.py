"""Greedy rules: fund projects in order of votes while money lasts.

``greedy`` — Definition: order projects by score (votes) descending, ties by the
tie-break rule (:func:`~engine.rules.tiebreak.project_order`). Walk the order; fund a
project if its cost fits in the budget left, otherwise skip it and go on. Projects whose
score is below ``threshold`` are not eligible. Complexity O(n log n).

``greedy-stop`` (pabulib ``greedy-no-skip``) — same order, but stop at the first
eligible project that does not fit; every later project is ``stopped``.

With quotas, ``greedy`` is :func:`engine.rules.quota.greedy_with_quotas`.

Reasons: ``funded``, ``did_not_fit`` (or ``tie_lost`` when a project with the same score
ranked before it by tie-break was funded and it then no longer fit), ``stopped``,
``below_threshold``.
"""

from __future__ import annotations

from engine.model.ids import ProjectId
from engine.rules.problem import AllocationProblem, AllocationResult, ProjectOutcome
from engine.rules.tiebreak import project_order


def greedy(problem: AllocationProblem, tie_break: str = "votes-cost-id", *, stop: bool = False) -> AllocationResult:
    """``greedy``: fund projects by score descending while their cost fits in the money left.

    Definition: walk the projects in :func:`~engine.rules.tiebreak.project_order`; a project
    below the threshold is not eligible; one whose cost fits is funded, else skipped (with
    ``stop``, the walk ends at the first that does not fit). With quotas: see
    :func:`engine.rules.quota.greedy_with_quotas`.

    Parameters: ``problem`` (projects, costs, scores, budget, threshold); ``tie_break``
    (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`).
    Returns: an :class:`~engine.rules.problem.AllocationResult` (selected projects, one
    outcome per project with its rank, reason and detail).
    Tie-break: equal scores in the tie-break order; a project that lost a tie is ``tie_lost``.
    Complexity: O(n log n) for n projects (the sort).
    """
    if problem.quotas:
        if stop:
            raise ValueError("greedy-stop does not support quotas; use greedy or exact")
        from engine.rules.quota import greedy_with_quotas

        return greedy_with_quotas(problem, tie_break)
    order = project_order(problem, tie_break)
    left = problem.budget
    spent = 0
    stopped = False
    selected: list[ProjectId] = []
    outcomes: list[ProjectOutcome] = []
    funded_by_score: dict[float, list[tuple[str, int]]] = {}
    for rank, i in enumerate(order, start=1):
        pid, cost, score = problem.project_ids[i], problem.costs[i], problem.scores[i]
        if score < problem.threshold:
            outcomes.append(
                ProjectOutcome(pid, rank, False, spent, "below_threshold",
                               f"{score:g} votes < threshold {problem.threshold:g}")
            )
            continue
        if stopped:
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "stopped", "rule stopped earlier"))
            continue
        if cost <= left:
            left -= cost
            spent += cost
            selected.append(pid)
            funded_by_score.setdefault(score, []).append((pid, cost))
            outcomes.append(ProjectOutcome(pid, rank, True, spent, "funded"))
            continue
        if stop:
            stopped = True
            outcomes.append(
                ProjectOutcome(pid, rank, False, spent, "stopped",
                               f"cost {cost} > {left} left; greedy-stop ends here")
            )
            continue
        tied = funded_by_score.get(score, [])
        rivals = [t for t, c in tied if cost <= left + c]
        if rivals:
            outcomes.append(
                ProjectOutcome(pid, rank, False, spent, "tie_lost",
                               f"tie on {score:g} votes lost to {', '.join(rivals)}; "
                               f"cost {cost} > {left} left")
            )
        else:
            outcomes.append(
                ProjectOutcome(pid, rank, False, spent, "did_not_fit", f"cost {cost} > {left} left")
            )
    return AllocationResult(
        rule="greedy-stop" if stop else "greedy",
        tie_break=tie_break,
        budget=problem.budget,
        selected=tuple(selected),
        cost=spent,
        outcomes=tuple(outcomes),
    )


def greedy_stop(problem: AllocationProblem, tie_break: str = "votes-cost-id") -> AllocationResult:
    """``greedy-stop``: :func:`greedy` that stops at the first project that does not fit.

    Parameters: ``problem`` (projects, costs, scores, budget, threshold); ``tie_break``
    (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`).
    Returns: an :class:`~engine.rules.problem.AllocationResult` (selected projects, one
    outcome per project with its rank, reason and detail).
    Tie-break: as :func:`greedy`. Complexity: O(n log n). Quotas: ValueError.
    """
    return greedy(problem, tie_break, stop=True)

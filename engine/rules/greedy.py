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

from collections.abc import Mapping, Sequence

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
    selected, spent, outcomes = greedy_walk(problem, tie_break, stop=stop)
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


def greedy_walk(problem: AllocationProblem, tie_break: str, *, stop: bool = False,
                groups_of: Mapping[str, Sequence[str]] | None = None,
                ) -> tuple[list[ProjectId], int, list[ProjectOutcome]]:
    """The walk :func:`greedy`, :func:`greedy_stop` and ``greedy-exclusive`` share.

    Walks :func:`~engine.rules.tiebreak.project_order`: below the threshold is
    ``below_threshold``; after a ``stop`` misfit, ``stopped``; a project of a group in
    ``groups_of`` (project id -> its exclusive group names) whose group already has a funded
    project is ``excluded``; then ``funded`` if it fits, else ``stopped`` (with ``stop``),
    ``tie_lost`` or ``did_not_fit``.
    Returns ``(selected ids in funding order, money spent, one outcome per project)``. O(n log n).
    """
    groups_of = groups_of or {}
    winner: dict[str, str] = {}  # group name -> the project of it that was funded
    left, spent, stopped = problem.budget, 0, False
    selected: list[ProjectId] = []
    outcomes: list[ProjectOutcome] = []
    funded_by_score: dict[float, list[tuple[str, int]]] = {}
    for rank, i in enumerate(project_order(problem, tie_break), start=1):
        pid, cost, score = problem.project_ids[i], problem.costs[i], problem.scores[i]
        if score < problem.threshold:
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "below_threshold",
                                           f"{score:g} votes < threshold {problem.threshold:g}"))
            continue
        if stopped:
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "stopped", "rule stopped earlier"))
            continue
        taken = [(g, winner[g]) for g in sorted(groups_of.get(pid, ())) if g in winner]
        if taken:
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "excluded", "; ".join(
                f"exclusive group {g!r}: {w} was funded first" for g, w in taken)))
            continue
        if cost <= left:
            left -= cost
            spent += cost
            selected.append(pid)
            funded_by_score.setdefault(score, []).append((pid, cost))
            for g in groups_of.get(pid, ()):
                winner[g] = pid
            outcomes.append(ProjectOutcome(pid, rank, True, spent, "funded"))
            continue
        if stop:
            stopped = True
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "stopped",
                                           f"cost {cost} > {left} left; greedy-stop ends here"))
            continue
        rivals = [t for t, c in funded_by_score.get(score, []) if cost <= left + c]
        if rivals:
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "tie_lost",
                                           f"tie on {score:g} votes lost to {', '.join(rivals)}; "
                                           f"cost {cost} > {left} left"))
        else:
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "did_not_fit", f"cost {cost} > {left} left"))
    return selected, spent, outcomes

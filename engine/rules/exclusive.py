"""``greedy-exclusive`` (pabulib ``greedy-exclusive``): greedy where some projects exclude each other.

Definition: as ``greedy`` (order by score descending, ties by the tie-break rule; fund a
project if its cost fits in the money left, otherwise skip it and go on; projects below
``threshold`` are not eligible), and ``problem.exclusive`` lists groups of projects that
cannot all be carried out (the same site, two versions of one idea): once a project of a
group is funded, every later project of that group is ``excluded`` (detail: the group and
the project funded), whatever its cost. A project may belong to several groups. Without
groups the rule is ``greedy`` (a note says so). Quotas are not supported (ValueError).

Tie-break: as greedy (:func:`~engine.rules.tiebreak.project_order`); a lost tie is
``tie_lost`` as in greedy. Complexity O(n log n + total group size).
"""

from __future__ import annotations

from engine.model.ids import ProjectId
from engine.rules.problem import AllocationProblem, AllocationResult, ProjectOutcome
from engine.rules.tiebreak import project_order


def greedy_exclusive(problem: AllocationProblem, tie_break: str = "votes-cost-id") -> AllocationResult:
    """``greedy-exclusive``: greedy where a funded project excludes the rest of its groups.

    Definition: see the module docstring.

    Parameters: ``problem`` (projects, costs, scores, budget, threshold, exclusive groups); ``tie_break``
    (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`).
    Returns: an :class:`~engine.rules.problem.AllocationResult` (selected projects, one
    outcome per project with its rank, reason and detail).
    Tie-break: as greedy. Complexity: O(n log n + total group size). Quotas: ValueError.
    """
    if problem.quotas:
        raise ValueError("greedy-exclusive does not support quotas; use greedy or exact")
    groups_of: dict[str, list[str]] = {}
    for group in problem.exclusive:
        for pid in group.members:
            groups_of.setdefault(pid, []).append(group.name)
    winner: dict[str, str] = {}  # group name -> the project of it that was funded
    left, spent = problem.budget, 0
    selected: list[ProjectId] = []
    outcomes: list[ProjectOutcome] = []
    funded_by_score: dict[float, list[tuple[str, int]]] = {}
    for rank, i in enumerate(project_order(problem, tie_break), start=1):
        pid, cost, score = problem.project_ids[i], problem.costs[i], problem.scores[i]
        if score < problem.threshold:
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "below_threshold",
                                           f"{score:g} votes < threshold {problem.threshold:g}"))
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
        rivals = [t for t, c in funded_by_score.get(score, []) if cost <= left + c]
        if rivals:
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "tie_lost",
                                           f"tie on {score:g} votes lost to {', '.join(rivals)}; "
                                           f"cost {cost} > {left} left"))
        else:
            outcomes.append(ProjectOutcome(pid, rank, False, spent, "did_not_fit", f"cost {cost} > {left} left"))
    notes = () if problem.exclusive else ("no exclusive groups given: the same as greedy",)
    return AllocationResult("greedy-exclusive", tie_break, problem.budget, tuple(selected), spent,
                            tuple(outcomes), notes)

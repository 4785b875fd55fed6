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

from engine.rules.greedy import greedy_walk
from engine.rules.problem import AllocationProblem, AllocationResult


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
    selected, spent, outcomes = greedy_walk(problem, tie_break, groups_of=groups_of)
    notes = () if problem.exclusive else ("no exclusive groups given: the same as greedy",)
    return AllocationResult("greedy-exclusive", tie_break, problem.budget, tuple(selected), spent,
                            tuple(outcomes), notes)

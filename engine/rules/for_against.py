"""For/against votes (Paris since 2023): a voter may support or oppose each project.

``for-against`` — Definition: a project's score is ``for - against`` (both counts come from
``problem.for_against``; ``problem.scores`` is ignored). Projects are then funded as by
``greedy``: by score descending, ties by the tie-break rule, skipping a project whose cost
does not fit in the money left, with quotas exactly as
:func:`engine.rules.quota.greedy_with_quotas`. A project whose score is below
``problem.threshold`` is not eligible; with the default threshold 0 a project opposed by
more voters than support it is never funded. ``for-against-stop`` stops at the first
project that does not fit (as ``greedy-stop``; no quotas).

Every outcome's detail starts with ``for F, against A: score S``; both counts are also in
:func:`counts_text` for the result files. Tie-break: as greedy
(:func:`~engine.rules.tiebreak.project_order`) on equal scores, so 10 - 2 and 9 - 1 tie.
Complexity O(n log n) (+ O(n q) with q quotas).
"""

from __future__ import annotations

import dataclasses
import re

from engine.rules.greedy import greedy
from engine.rules.problem import AllocationProblem, AllocationResult, ProjectOutcome

_TIE = re.compile(r"^tie on \S+ votes lost to")


def counts_text(votes_for: int, votes_against: int) -> str:
    """The head of each for-against outcome's detail: ``for F, against A: score F-A``."""
    return f"for {votes_for}, against {votes_against}: score {votes_for - votes_against}"


def for_against(problem: AllocationProblem, tie_break: str = "votes-cost-id", *,
                stop: bool = False) -> AllocationResult:
    """``for-against``: greedy on ``for - against`` (definition in the module doc).

    Parameters: ``problem`` and ``tie_break`` (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`).
    Returns: an :class:`~engine.rules.problem.AllocationResult`.
    Tie-break: as greedy (the project order). Complexity: O(n log n) (+ O(n q) with q quotas).
    """
    fa = problem.for_against
    if fa is None:
        raise ValueError("the for-against rule needs the for and against counts (AllocationProblem.for_against)")
    if any(x < 0 for x in (*fa.votes_for, *fa.votes_against)):
        raise ValueError("for and against counts must be >= 0")
    net = tuple(float(f - a) for f, a in zip(fa.votes_for, fa.votes_against, strict=True))
    base = greedy(dataclasses.replace(problem, scores=net), tie_break, stop=stop)
    index = {pid: j for j, pid in enumerate(problem.project_ids)}
    outcomes: list[ProjectOutcome] = []
    for o in base.outcomes:
        j = index[o.project_id]
        head = counts_text(fa.votes_for[j], fa.votes_against[j])
        detail = o.detail
        if o.reason == "below_threshold":
            detail = f"score {net[j]:g} < threshold {problem.threshold:g}"
        elif o.reason == "tie_lost":
            detail = _TIE.sub(f"tie on score {net[j]:g} lost to", detail)
        outcomes.append(dataclasses.replace(o, detail=head + (f"; {detail}" if detail else "")))
    return dataclasses.replace(base, rule="for-against-stop" if stop else "for-against", outcomes=tuple(outcomes))


def for_against_stop(problem: AllocationProblem, tie_break: str = "votes-cost-id") -> AllocationResult:
    """``for-against-stop``: as ``for-against`` but stop at the first project that does not fit.

    Parameters: ``problem`` and ``tie_break`` (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`).
    Returns: an :class:`~engine.rules.problem.AllocationResult`.
    Tie-break: as greedy. Complexity: O(n log n).
    """
    return for_against(problem, tie_break, stop=True)

"""Plain data in and out of every allocation rule.

An :class:`AllocationProblem` is one envelope (or one pabulib instance): projects with a
cost and a score (votes), and a budget. An :class:`AllocationResult` lists the selected
projects and, for every project, an :class:`ProjectOutcome` explaining the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# Reasons a project was or was not funded (ProjectOutcome.reason)
REASONS = {
    "funded": "funded in rank order",
    "did_not_fit": "cost exceeded the budget left when its turn came",
    "stopped": "the rule stops at the first project that does not fit (greedy-stop)",
    "below_threshold": "fewer votes than the eligibility threshold",
    "tie_lost": "did not fit after losing a tie to an equally voted project",
}


@dataclass(frozen=True)
class AllocationProblem:
    project_ids: tuple[str, ...]
    costs: tuple[int, ...]
    scores: tuple[float, ...]
    budget: int
    threshold: float = 0.0  # projects with score < threshold are not eligible

    def __post_init__(self) -> None:
        n = len(self.project_ids)
        if len(self.costs) != n or len(self.scores) != n:
            raise ValueError("project_ids, costs and scores must have the same length")
        if len(set(self.project_ids)) != n:
            raise ValueError("project ids must be unique")


@dataclass(frozen=True)
class ProjectOutcome:
    project_id: str
    rank: int  # 1-based position in the rule's order
    selected: bool
    cumulative_cost: int  # money committed after this project's turn
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class AllocationResult:
    rule: str
    tie_break: str
    budget: int
    selected: tuple[str, ...]
    cost: int
    outcomes: tuple[ProjectOutcome, ...] = field(default=())
    notes: tuple[str, ...] = ()

    def outcome(self, project_id: str) -> ProjectOutcome | None:
        for o in self.outcomes:
            if o.project_id == project_id:
                return o
        return None


def natural_key(text: str) -> tuple:
    """Order ids like a human: ``P2`` before ``P10``; digit runs compare as numbers."""
    out: list[tuple[int, int | str]] = []
    num = ""
    word = ""
    for ch in text:
        if ch.isdigit():
            if word:
                out.append((1, word))
                word = ""
            num += ch
        else:
            if num:
                out.append((0, int(num)))
                num = ""
            word += ch
    if num:
        out.append((0, int(num)))
    if word:
        out.append((1, word))
    return tuple(out)


def project_order(problem: AllocationProblem, tie_break: str) -> list[int]:
    """Indices of projects, best first, by score descending then the named tie-break.

    Tie-breaks (for equal scores):

    * ``votes-cost-id`` (default): cheaper first, then project id in natural order.
    * ``votes-id``: project id in natural order.
    * ``lexicographic``: project id as a plain string (pabutools' default: "10" < "9").
    """
    idx: Sequence[int] = range(len(problem.project_ids))
    ids, costs, scores = problem.project_ids, problem.costs, problem.scores
    if tie_break == "votes-cost-id":
        return sorted(idx, key=lambda i: (-scores[i], costs[i], natural_key(ids[i])))
    if tie_break == "votes-id":
        return sorted(idx, key=lambda i: (-scores[i], natural_key(ids[i])))
    if tie_break == "lexicographic":
        return sorted(idx, key=lambda i: (-scores[i], ids[i]))
    raise ValueError(f"unknown tie-break {tie_break!r}")


TIE_BREAKS = ("votes-cost-id", "votes-id", "lexicographic")

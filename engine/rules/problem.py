"""Plain data in and out of every allocation rule.

An :class:`AllocationProblem` is one envelope (or one pabulib instance): projects with a
cost and a score (votes), and a budget. An :class:`AllocationResult` lists the selected
projects and, for every project, an :class:`ProjectOutcome` explaining the decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.model.ids import ProjectId

if TYPE_CHECKING:
    from engine.rules.grades import GradeProfile
    from engine.rules.profile import ApprovalProfile

# Reasons a project was or was not funded (ProjectOutcome.reason)
REASONS = {
    "funded": "funded in rank order",
    "did_not_fit": "cost exceeded the budget left when its turn came",
    "stopped": "the rule stops at the first project that does not fit (greedy-stop)",
    "below_threshold": "fewer votes than the eligibility threshold",
    "tie_lost": "did not fit after losing a tie to an equally voted project",
    "quota_reserve": "would have eaten into money reserved for a quota group",
    "quota_max": "its group already reached the quota's maximum",
    "funded_after_release": "funded in the final pass, with reserved money the group could not use",
    "not_affordable": "Method of Equal Shares: its supporters' money left could not pay for it",
    "not_in_optimum": "exact rule: not part of the welfare-maximising selection",
    "funded_completion": "funded by the completion step (greedy fill) after the main rule",
    "no_supporters": "nobody voted for it",
    "excluded": "a project of its exclusive group was funded before its turn (greedy-exclusive)",
}


@dataclass(frozen=True)
class Quota:
    """Money reserved (``min_amount``) or capped (``max_amount``) for a group of projects.

    ``members`` are project ids. ``release_unused``: money the group cannot use is given to
    the other projects in a final pass (greedy). See ``docs/rules.md``.
    """

    name: str
    members: frozenset[ProjectId]
    min_amount: int = 0
    max_amount: int | None = None
    release_unused: bool = True


@dataclass(frozen=True)
class ExclusiveGroup:
    """Projects that exclude each other (the same site...): at most one of them is funded."""

    name: str
    members: frozenset[ProjectId]


@dataclass(frozen=True)
class ForAgainst:
    """For/against ballots: per project (problem order) how many voters supported / opposed it."""

    votes_for: tuple[int, ...]
    votes_against: tuple[int, ...]


@dataclass(frozen=True)
class AllocationProblem:
    """What every rule reads: the projects of one envelope (ids, costs, scores), the budget,
    the eligibility threshold and quotas, and what some rules need besides (approval profile,
    grades, for/against counts, exclusive groups). ``__post_init__`` checks they agree.
    """

    project_ids: tuple[ProjectId, ...]
    costs: tuple[int, ...]
    scores: tuple[float, ...]
    budget: int
    threshold: float = 0.0  # projects with score < threshold are not eligible
    quotas: tuple[Quota, ...] = ()
    unit: int = 1  # money units per currency unit (100 when costs were given in cents)
    # voters' approvals, needed by Method of Equal Shares (and the comparison step)
    profile: ApprovalProfile | None = field(default=None, compare=False, repr=False)
    # voters' grades, needed by majority judgment (engine/rules/grades.py)
    grades: GradeProfile | None = field(default=None, compare=False, repr=False)
    # for/against counts, needed by the for-against rule (engine/rules/for_against.py)
    for_against: ForAgainst | None = None
    # groups of mutually exclusive projects (greedy-exclusive)
    exclusive: tuple[ExclusiveGroup, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.project_ids)
        if len(self.costs) != n or len(self.scores) != n:
            raise ValueError("project_ids, costs and scores must have the same length")
        if len(set(self.project_ids)) != n:
            raise ValueError("project ids must be unique")
        if self.profile is not None and self.profile.n_projects != n:
            raise ValueError("profile has a different number of projects")
        known = set(self.project_ids)
        for q in self.quotas:
            if not q.members <= known:
                raise ValueError(f"quota {q.name!r} names projects not in the problem")
        if self.grades is not None and self.grades.n_projects != n:
            raise ValueError("grade profile has a different number of projects")
        if self.for_against is not None and not (
                len(self.for_against.votes_for) == len(self.for_against.votes_against) == n):
            raise ValueError("for/against counts have a different number of projects")
        for g in self.exclusive:
            if not g.members <= known:
                raise ValueError(f"exclusive group {g.name!r} names projects not in the problem")


@dataclass(frozen=True)
class ProjectOutcome:
    """What a rule decided for one project: its rank in the rule's order, whether it is funded,
    the money committed after its turn, and why (``reason`` code, human-readable ``detail``).
    """

    project_id: ProjectId
    rank: int  # 1-based position in the rule's order
    selected: bool
    cumulative_cost: int  # money committed after this project's turn
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class QuotaReport:
    """How a quota fared: money the group got vs the reserve, and why it fell short."""

    name: str
    min_amount: int
    max_amount: int | None
    group_spent: int
    met: bool
    shortfall: int = 0
    reason: str = ""


@dataclass(frozen=True)
class AllocationResult:
    """What a rule returns: the rule and tie-break used, the budget, the funded projects (in
    funding order) and their cost, one outcome per project, notes and quota reports.
    """

    rule: str
    tie_break: str
    budget: int
    selected: tuple[ProjectId, ...]
    cost: int
    outcomes: tuple[ProjectOutcome, ...] = field(default=())
    notes: tuple[str, ...] = ()
    quota_reports: tuple[QuotaReport, ...] = ()

    def outcome(self, project_id: str) -> ProjectOutcome | None:
        """The outcome of ``project_id``, or None if the problem had no such project."""
        for o in self.outcomes:
            if o.project_id == project_id:
                return o
        return None

    def to_dict(self, money: Callable[[int], int | float] = int) -> dict[str, Any]:
        """Plain-data form (``allocation.json`` in the bundle, ``allocate --json``, the API).

        ``money`` maps each amount in internal units (e.g. to the file's currency when costs
        were scaled). The fields are listed here on purpose: this is a published format.
        """
        return {
            "rule": self.rule,
            "tie_break": self.tie_break,
            "budget": money(self.budget),
            "cost": money(self.cost),
            "selected": list(self.selected),
            "notes": list(self.notes),
            "quota_reports": [
                {"name": r.name, "min_amount": r.min_amount, "max_amount": r.max_amount,
                 "group_spent": r.group_spent, "met": r.met, "shortfall": r.shortfall, "reason": r.reason}
                for r in self.quota_reports
            ],
            "outcomes": [
                {"project_id": o.project_id, "rank": o.rank, "selected": o.selected,
                 "cumulative_cost": money(o.cumulative_cost), "reason": o.reason, "detail": o.detail}
                for o in self.outcomes
            ],
        }

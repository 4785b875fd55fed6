"""Allocation rules: pure functions ``(AllocationProblem, tie_break) -> AllocationResult``.

:data:`RULES` maps the rule names used in election definitions and on the command line
to their functions. Each rule documents its definition, tie-break and complexity.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.rules.cuts import cuts_exact, cuts_greedy
from engine.rules.exact import exact
from engine.rules.exclusive import greedy_exclusive
from engine.rules.for_against import for_against, for_against_stop
from engine.rules.grades import GradeProfile, majority_judgment, majority_judgment_typical
from engine.rules.greedy import greedy, greedy_stop
from engine.rules.mes import mes, mes_add1, mes_add1_greedy, mes_greedy, with_comparison
from engine.rules.problem import (
    AllocationProblem,
    AllocationResult,
    ExclusiveGroup,
    ForAgainst,
    ProjectOutcome,
    Quota,
    QuotaReport,
)
from engine.rules.profile import ApprovalProfile
from engine.rules.tiebreak import TIE_BREAKS

Rule = Callable[[AllocationProblem, str], AllocationResult]

RULES: dict[str, Rule] = {
    "greedy": greedy,
    "greedy-stop": greedy_stop,
    "exact": exact,
    "mes": mes,
    "mes-add1": mes_add1,
    "mes-greedy": mes_greedy,
    "mes-add1-greedy": mes_add1_greedy,
    "mes-comparison": with_comparison("mes"),
    "mes-add1-comparison": with_comparison("mes-add1"),
    "mes-greedy-comparison": with_comparison("mes-greedy"),
    "mes-add1-greedy-comparison": with_comparison("mes-add1-greedy"),
    "greedy-exclusive": greedy_exclusive,
    "for-against": for_against,
    "for-against-stop": for_against_stop,
    "majority-judgment": majority_judgment,
    "majority-judgment-typical": majority_judgment_typical,
    # savings (reverse PB): lines to cut, costs = amount saved, budget = target (engine/rules/cuts.py)
    "cuts-greedy": cuts_greedy,
    "cuts-exact": cuts_exact,
}

# Rules that need the voters' approvals (AllocationProblem.profile)
PROFILE_RULES = frozenset(name for name in RULES if name.startswith("mes")) | {"cuts-exact"}
# Savings rules: the budget is a target to reach, not a limit (they take sector limits)
CUTS_RULES = frozenset({"cuts-greedy", "cuts-exact"})
# Rules that honour AllocationProblem.quotas
QUOTA_RULES = frozenset({"greedy", "exact", "for-against", "majority-judgment", "majority-judgment-typical"})
# Rules that need the voters' grades (AllocationProblem.grades)
GRADE_RULES = frozenset({"majority-judgment", "majority-judgment-typical"})
# Rules that are not approval rules of a spending envelope: the grade and for/against rules
# (an election envelope uses them with its ``ballot`` type, BALLOT_RULES below) and the
# savings rules (``kind = "savings"`` envelopes only) (docs/rules.md, "Ballot types").
# ``greedy-exclusive`` is an approval rule: an envelope using it declares its exclusive groups.
BALLOT_TYPE_RULES = GRADE_RULES | {"for-against", "for-against-stop"} | CUTS_RULES
ELECTION_RULES = frozenset(RULES) - BALLOT_TYPE_RULES
FOR_AGAINST_RULES = frozenset({"for-against", "for-against-stop"})
# The rules an election envelope may use, per ballot type (docs/election-format.md), and
# the rule it gets when it names none
BALLOT_RULES: dict[str, frozenset[str]] = {
    "approval": ELECTION_RULES, "grades": GRADE_RULES, "for-against": FOR_AGAINST_RULES,
}
DEFAULT_BALLOT_RULE = {"approval": "greedy", "grades": "majority-judgment", "for-against": "for-against"}

__all__ = [
    "BALLOT_RULES", "BALLOT_TYPE_RULES", "CUTS_RULES", "DEFAULT_BALLOT_RULE", "FOR_AGAINST_RULES",
    "ELECTION_RULES", "GRADE_RULES", "PROFILE_RULES", "QUOTA_RULES", "RULES",
    "TIE_BREAKS", "AllocationProblem", "AllocationResult", "ApprovalProfile", "ExclusiveGroup", "ForAgainst",
    "GradeProfile", "ProjectOutcome", "Quota", "QuotaReport", "Rule",
]

"""Allocation rules: pure functions ``(AllocationProblem, tie_break) -> AllocationResult``.

:data:`RULES` maps the rule names used in election definitions and on the command line
to their functions. Each rule documents its definition, tie-break and complexity.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.rules.greedy import greedy, greedy_stop
from engine.rules.problem import (
    TIE_BREAKS,
    AllocationProblem,
    AllocationResult,
    ProjectOutcome,
)

Rule = Callable[[AllocationProblem, str], AllocationResult]

RULES: dict[str, Rule] = {
    "greedy": greedy,
    "greedy-stop": greedy_stop,
}

__all__ = ["RULES", "TIE_BREAKS", "AllocationProblem", "AllocationResult", "ProjectOutcome", "Rule"]

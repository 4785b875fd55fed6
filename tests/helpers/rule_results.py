"""What the rule tests compare: an engine AllocationResult as a dict, and the verifier's problem shape.

``engine_dict`` writes an :class:`~engine.rules.problem.AllocationResult` with the keys and
order of an ``allocation.json`` entry (engine/formats/bundle.py), written here again from the
dataclass fields so that the tests do not rely on the code they check. ``VProblem`` is the
problem the verifier's rules read (``engine.verifier.rules_reference.Problem``); tests that
need more fields (grades, for/against counts, exclusive groups) subclass it.
"""

from __future__ import annotations

from typing import Any

from engine.rules.problem import AllocationResult
from engine.verifier.rules_reference import Problem as VProblem  # what the verifier's rules read

__all__ = ["VProblem", "engine_dict"]


def engine_dict(r: AllocationResult) -> dict[str, Any]:
    """An AllocationResult as engine/formats/bundle.py publishes it in allocation.json."""
    return {
        "rule": r.rule, "tie_break": r.tie_break, "budget": r.budget, "cost": r.cost,
        "selected": list(r.selected), "notes": list(r.notes),
        "quota_reports": [{"name": q.name, "min_amount": q.min_amount, "max_amount": q.max_amount,
                           "group_spent": q.group_spent, "met": q.met, "shortfall": q.shortfall,
                           "reason": q.reason} for q in r.quota_reports],
        "outcomes": [{"project_id": o.project_id, "rank": o.rank, "selected": o.selected,
                      "cumulative_cost": o.cumulative_cost, "reason": o.reason, "detail": o.detail}
                     for o in r.outcomes],
    }

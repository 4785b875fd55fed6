"""Allocation of a whole election: one :class:`AllocationProblem` per envelope.

Pure: takes the election and a :class:`~engine.tally.Tally`, returns per-envelope
results. The rule and tie-break of each envelope come from the election definition.
Projects need at least one vote to be eligible (threshold 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.election import Election
from engine.rules import RULES, AllocationProblem, AllocationResult
from engine.tally import Tally

ELIGIBILITY_THRESHOLD = 1


@dataclass(frozen=True)
class ElectionAllocation:
    envelopes: dict[str, AllocationResult]


def envelope_problem(election: Election, envelope_id: str, tally: Tally) -> AllocationProblem:
    env = election.envelope(envelope_id)
    if env is None:
        raise KeyError(envelope_id)
    projects = election.projects_in(envelope_id)
    et = tally.envelopes[envelope_id]
    return AllocationProblem(
        project_ids=tuple(p.id for p in projects),
        costs=tuple(p.cost for p in projects),
        scores=tuple(float(et.projects[p.id].total) for p in projects),
        budget=env.budget,
        threshold=ELIGIBILITY_THRESHOLD,
    )


def allocate_election(election: Election, tally: Tally) -> ElectionAllocation:
    results: dict[str, AllocationResult] = {}
    for env in election.envelopes:
        problem = envelope_problem(election, env.id, tally)
        results[env.id] = RULES[env.rule](problem, env.tie_break)
    return ElectionAllocation(results)

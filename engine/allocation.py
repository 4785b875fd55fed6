"""Allocation of a whole election: one :class:`AllocationProblem` per envelope.

Pure: takes the election, a :class:`~engine.tally.Tally` and (for rules that need the
voters' approvals, such as Method of Equal Shares) the counted ballots; returns
per-envelope results. The rule and tie-break of each envelope come from the election
definition; the election's quotas become :class:`~engine.rules.problem.Quota` reserves of
the envelopes they apply to. Projects need at least one vote to be eligible (threshold 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.ballots import Ballot
from engine.election import Election
from engine.rules import PROFILE_RULES, RULES, AllocationProblem, AllocationResult, ApprovalProfile, Quota
from engine.tally import Tally

ELIGIBILITY_THRESHOLD = 1


@dataclass(frozen=True)
class ElectionAllocation:
    envelopes: dict[str, AllocationResult]


def envelope_quotas(election: Election, envelope_id: str) -> tuple[Quota, ...]:
    env = election.envelope(envelope_id)
    if env is None:
        raise KeyError(envelope_id)
    out: list[Quota] = []
    for q in election.quotas:
        if not q.applies_to(envelope_id):
            continue
        lo, hi = q.amounts(env.budget)
        members = frozenset(p.id for p in election.projects_in(envelope_id) if q.matches(p))
        out.append(Quota(q.name, members, lo, hi, q.release_unused))
    return tuple(out)


def envelope_profiles(
    election: Election, envelope_ids: Iterable[str], counted: Iterable[Ballot]
) -> dict[str, ApprovalProfile]:
    """Approvals of the voters of each envelope (one row per ballot covering it), one pass."""
    wanted = set(envelope_ids)
    index = {env: {p.id: j for j, p in enumerate(election.projects_in(env))} for env in wanted}
    lengths: dict[str, list[int]] = {env: [] for env in wanted}
    flat: dict[str, list[int]] = {env: [] for env in wanted}
    for b in counted:
        for env, chosen in b.selections:
            if env in wanted and chosen:
                lengths[env].append(len(chosen))
                flat[env].extend(map(index[env].__getitem__, chosen))
    return {
        env: ApprovalProfile.from_flat(len(index[env]), np.asarray(lengths[env], dtype=np.int64),
                                       np.asarray(flat[env], dtype=np.int64))
        for env in wanted
    }


def envelope_profile(election: Election, envelope_id: str, counted: Iterable[Ballot]) -> ApprovalProfile:
    """Approvals of the voters who voted in this envelope (one row per ballot covering it)."""
    return envelope_profiles(election, [envelope_id], counted)[envelope_id]


def envelope_problem(
    election: Election,
    envelope_id: str,
    tally: Tally,
    counted: Iterable[Ballot] | None = None,
    profile: ApprovalProfile | None = None,
) -> AllocationProblem:
    env = election.envelope(envelope_id)
    if env is None:
        raise KeyError(envelope_id)
    projects = election.projects_in(envelope_id)
    et = tally.envelopes[envelope_id]
    if profile is None and env.rule in PROFILE_RULES:
        if counted is None:
            raise ValueError(f"rule {env.rule!r} of envelope {envelope_id!r} needs the counted ballots")
        profile = envelope_profile(election, envelope_id, counted)
    return AllocationProblem(
        project_ids=tuple(p.id for p in projects),
        costs=tuple(p.cost for p in projects),
        scores=tuple(float(et.projects[p.id].total) for p in projects),
        budget=env.budget,
        threshold=ELIGIBILITY_THRESHOLD,
        quotas=envelope_quotas(election, envelope_id),
        profile=profile,
    )


def allocate_election(
    election: Election, tally: Tally, counted: Iterable[Ballot] | None = None
) -> ElectionAllocation:
    need = [env.id for env in election.envelopes if env.rule in PROFILE_RULES]
    profiles = envelope_profiles(election, need, counted) if need and counted is not None else {}
    results: dict[str, AllocationResult] = {}
    for env in election.envelopes:
        problem = envelope_problem(election, env.id, tally, None, profiles.get(env.id))
        results[env.id] = RULES[env.rule](problem, env.tie_break)
    return ElectionAllocation(results)

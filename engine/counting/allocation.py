"""Allocation of a whole election: one :class:`AllocationProblem` per envelope.

Pure: takes the election, a :class:`~engine.counting.tally.Tally` and (for rules that need the
voters' approvals, such as Method of Equal Shares) the counted ballots; returns
per-envelope results. The rule and tie-break of each envelope come from the election
definition; the election's quotas become :class:`~engine.rules.problem.Quota` reserves of
the envelopes they apply to. Projects need at least one vote to be eligible (threshold 1;
for-against: a score for - against of at least 1; grades envelopes have no threshold). A
grades envelope's problem carries its :class:`~engine.rules.GradeProfile` (ungraded projects
counted as the default grade), a for-against one its :class:`~engine.rules.ForAgainst` counts,
a ``greedy-exclusive`` one its declared exclusive groups.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from engine.counting.savings import allocate_savings
from engine.counting.tally import Tally
from engine.model.ballots import Ballot
from engine.model.election import Election, QuotaSpec
from engine.model.ids import EnvelopeId
from engine.rules import (
    PROFILE_RULES,
    RULES,
    AllocationProblem,
    AllocationResult,
    ApprovalProfile,
    ExclusiveGroup,
    ForAgainst,
    GradeProfile,
    Quota,
)

ELIGIBILITY_THRESHOLD = 1


@dataclass(frozen=True)
class ElectionQuotaReport:
    """How an election-wide quota fared: money its group got over all its envelopes."""

    name: str
    required: int
    group_spent: int
    met: bool
    shortfall: int
    rounds: int  # rebalancing rounds run
    reason: str = ""


@dataclass(frozen=True)
class ElectionAllocation:
    """The allocation of a whole election: one result per envelope id, and the reports of the
    election-wide quotas (empty when the election has none).
    """

    envelopes: dict[EnvelopeId, AllocationResult]
    election_quotas: tuple[ElectionQuotaReport, ...] = ()


def apportion(amount: int, budgets: dict[EnvelopeId, int]) -> dict[EnvelopeId, int]:
    """Split ``amount`` over envelopes in proportion to their budgets, each part rounded up."""
    total = sum(budgets.values())
    return {e: -(-amount * b // total) for e, b in budgets.items()} if total else dict.fromkeys(budgets, 0)


def election_quota_target(election: Election, q: QuotaSpec) -> tuple[int, dict[EnvelopeId, int]]:
    """(money required for the group over the election, budgets of the envelopes it covers)."""
    budgets = {e.id: e.budget for e in election.envelopes if q.applies_to(e.id)}
    if q.min_amount is not None:
        return q.min_amount, budgets
    assert q.min_share is not None
    return math.ceil(q.min_share * sum(budgets.values())), budgets


def envelope_quotas(
    election: Election, envelope_id: EnvelopeId, extra: Mapping[tuple[str, str], int] | None = None
) -> tuple[Quota, ...]:
    """The reserves of one envelope. An election-wide quota gives each of its envelopes a
    part of the required money in proportion to its budget, plus ``extra[(name, envelope)]``
    added by the rebalancing rounds of :func:`allocate_election`."""
    env = election.envelope(envelope_id)
    if env is None:
        raise KeyError(envelope_id)
    out: list[Quota] = []
    for q in election.quotas:
        if not q.applies_to(envelope_id):
            continue
        if q.scope == "election":
            target, budgets = election_quota_target(election, q)
            lo = apportion(target, budgets)[envelope_id] + (extra or {}).get((q.name, envelope_id), 0)
            hi = None
        else:
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


def envelope_profile(election: Election, envelope_id: EnvelopeId, counted: Iterable[Ballot]) -> ApprovalProfile:
    """Approvals of the voters who voted in this envelope (one row per ballot covering it)."""
    return envelope_profiles(election, [envelope_id], counted)[envelope_id]


def envelope_problem(
    election: Election,
    envelope_id: EnvelopeId,
    tally: Tally,
    counted: Iterable[Ballot] | None = None,
    profile: ApprovalProfile | None = None,
) -> AllocationProblem:
    """The :class:`~engine.rules.problem.AllocationProblem` of one envelope: its projects in
    definition order, their costs, their vote totals from ``tally`` as scores, the budget, the
    eligibility threshold, the envelope's quotas and its exclusive groups.

    Rules in ``PROFILE_RULES`` (MES family) also need each ballot's approvals: pass ``profile``,
    or ``counted`` (the counted ballots) to build it; ValueError if neither is given.
    KeyError if ``envelope_id`` is not an envelope of ``election``.
    """
    env = election.envelope(envelope_id)
    if env is None:
        raise KeyError(envelope_id)
    projects = election.projects_in(envelope_id)
    et = tally.envelopes[envelope_id]
    if profile is None and env.rule in PROFILE_RULES:
        if counted is None:
            raise ValueError(f"rule {env.rule!r} of envelope {envelope_id!r} needs the counted ballots")
        profile = envelope_profile(election, envelope_id, counted)
    grades = for_against = None
    if env.ballot == "grades":
        grades = GradeProfile(env.grade_scale, np.asarray([et.grade_profile(p.id) for p in projects],
                                                          dtype=np.int64).reshape(len(projects), len(env.grades)),
                              env.default_grade)
    elif env.ballot == "for-against":
        for_against = ForAgainst(tuple(et.projects[p.id].total for p in projects),
                                 tuple(et.projects[p.id].against for p in projects))
    return AllocationProblem(
        project_ids=tuple(p.id for p in projects),
        costs=tuple(p.cost for p in projects),
        scores=tuple(float(et.projects[p.id].total) for p in projects),
        budget=env.budget,
        threshold=0 if env.ballot == "grades" else ELIGIBILITY_THRESHOLD,
        quotas=envelope_quotas(election, envelope_id),
        profile=profile,
        grades=grades,
        for_against=for_against,
        exclusive=tuple(ExclusiveGroup(g.name, frozenset(g.projects)) for g in env.exclusive),
    )


def _can_take_more(result: AllocationResult, problem: AllocationProblem, quota: str) -> bool:
    """The envelope used its reserve for ``quota`` and still has an eligible, unfunded group
    project that could fit its budget: a larger reserve could buy it."""
    report = next((r for r in result.quota_reports if r.name == quota), None)
    q = next((x for x in problem.quotas if x.name == quota), None)
    if report is None or q is None or not report.met:
        return False
    selected = set(result.selected)
    return any(pid in q.members and pid not in selected and score >= problem.threshold and cost <= problem.budget
               for pid, cost, score in zip(problem.project_ids, problem.costs, problem.scores, strict=True))


def allocate_election(
    election: Election, tally: Tally, counted: Iterable[Ballot] | None = None
) -> ElectionAllocation:
    """Allocate every envelope with its rule; then meet election-wide quotas by rebalancing.

    Election-wide quota (``scope = "election"``): the group must get ``required`` money over
    all the quota's envelopes. Round 0 reserves, in each envelope, a part of ``required``
    proportional to its budget (then each envelope runs greedy-with-quotas, releasing a
    reserve it cannot use). While the group's total is short, each round adds the shortfall,
    split in proportion to budget, to the reserves of the envelopes that used their reserve
    and still have an eligible unfunded group project that fits their budget, and
    reallocates those envelopes. Stops when met, when no envelope can take more, or after
    as many rounds as envelopes. Deterministic; O(rounds x envelope allocation).
    """
    need = [env.id for env in election.envelopes if env.rule in PROFILE_RULES]
    profiles = envelope_profiles(election, need, counted) if need and counted is not None else {}
    extra: dict[tuple[str, str], int] = {}

    def run(env_id: EnvelopeId) -> tuple[AllocationProblem, AllocationResult]:
        env = election.envelope(env_id)
        assert env is not None
        problem = envelope_problem(election, env_id, tally, None, profiles.get(env_id))
        if extra:
            problem = replace(problem, quotas=envelope_quotas(election, env_id, extra))
        if env.savings is not None:  # reverse PB: a cuts rule with the sector limits
            return problem, allocate_savings(election, env, problem)
        return problem, RULES[env.rule](problem, env.tie_break)

    ran = {env.id: run(env.id) for env in election.envelopes}
    wide = [q for q in election.quotas if q.scope == "election"]
    rounds = dict.fromkeys((q.name for q in wide), 0)

    def group_spent(q: QuotaSpec) -> int:
        return sum(r.group_spent for e in ran if q.applies_to(e)
                   for r in ran[e][1].quota_reports if r.name == q.name)

    for _ in range(len(election.envelopes)):
        touched: set[EnvelopeId] = set()
        for q in wide:
            target, _budgets = election_quota_target(election, q)
            short = target - group_spent(q)
            if short <= 0:
                continue
            cands = {e: election.envelope(e).budget for e in ran  # type: ignore[union-attr]  # ran holds only envelopes of the election
                     if q.applies_to(e) and _can_take_more(ran[e][1], ran[e][0], q.name)}
            if not cands:
                continue
            rounds[q.name] += 1
            for e, add in apportion(short, cands).items():
                extra[(q.name, e)] = extra.get((q.name, e), 0) + add
                touched.add(e)
        if not touched:
            break
        for e in sorted(touched):
            ran[e] = run(e)

    reports: list[ElectionQuotaReport] = []
    for q in wide:
        target, _budgets = election_quota_target(election, q)
        got = group_spent(q)
        short = max(0, target - got)
        why = "" if not short else (
            "no envelope of the quota has an eligible unfunded group project that fits once its reserve is used")
        reports.append(ElectionQuotaReport(q.name, target, got, short == 0, short, rounds[q.name], why))
    return ElectionAllocation({env.id: ran[env.id][1] for env in election.envelopes}, tuple(reports))

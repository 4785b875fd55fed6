"""Greedy with quotas (the Paris rule: at least a third of the money for popular neighbourhoods).

Definition: each :class:`~engine.rules.problem.Quota` reserves ``min_amount`` of the budget
for its group of projects and may cap the group at ``max_amount``.

*Pass 1* walks the greedy order (votes descending, ties by the tie-break rule) and funds a
project when all of these hold:

1. it is eligible (score >= threshold) and its cost fits in the money left;
2. for every quota with a maximum it belongs to, the group stays within its maximum
   (otherwise ``quota_max``);
3. after paying for it, the money left still covers every quota's *outstanding reserve*
   ``max(0, min_amount - group spent)`` (a project of the group lowers its own group's
   reserve as it is funded); otherwise ``quota_reserve`` — it would eat into the reserve.

*Pass 2* (when ``release_unused``; on by default): after pass 1 no project of a group with
an outstanding reserve fits any more (a group project is only refused for lack of money,
and money left only shrinks), so the reserve cannot be used; it is released and the walk
is repeated over the projects refused in pass 1, funding each that now fits
(``funded_after_release``). Without release the reserve stays unspent.

A quota is *not met* when its group got less than ``min_amount``; the result's
:class:`~engine.rules.problem.QuotaReport` gives the shortfall and why (the group's
eligible projects cost too little in total, or the ones left each cost more than the
money left). Overlapping groups are allowed; each group's reserve counts separately
(conservative).

Complexity: O(n log n + n * q) for n projects and q quotas. Worked examples:
``docs/rules.md``.
"""

from __future__ import annotations

from engine.rules.problem import (
    AllocationProblem,
    AllocationResult,
    ProjectOutcome,
    QuotaReport,
)
from engine.rules.tiebreak import project_order


def greedy_with_quotas(problem: AllocationProblem, tie_break: str = "votes-cost-id") -> AllocationResult:
    """``greedy`` with quotas: greedy, capped by each quota's maximum, then rebalanced for minimums.

    Definition: see the module docstring.

    Parameters: ``problem`` (projects, costs, scores, budget, threshold, quotas); ``tie_break``
    (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`).
    Returns: an :class:`~engine.rules.problem.AllocationResult` (selected projects, one
    outcome per project with its rank, reason and detail).
    Tie-break: as :func:`~engine.rules.greedy.greedy` (the same project order).
    Complexity: O(n log n + n * q) for q quotas, times the rebalancing rounds.
    """
    order = project_order(problem, tie_break)
    ids, costs, scores = problem.project_ids, problem.costs, problem.scores
    quotas = problem.quotas
    spent_q = [0] * len(quotas)
    left = problem.budget
    spent = 0
    decided: dict[int, ProjectOutcome] = {}
    refused: list[int] = []

    def outstanding(extra_member_of: set[int], extra_cost: int) -> int:
        total = 0
        for qi, q in enumerate(quotas):
            got = spent_q[qi] + (extra_cost if qi in extra_member_of else 0)
            total += max(0, q.min_amount - got)
        return total

    member_of = [{qi for qi, q in enumerate(quotas) if ids[i] in q.members} for i in range(len(ids))]
    for rank, i in enumerate(order, start=1):
        pid, cost, score = ids[i], costs[i], scores[i]
        if score < problem.threshold:
            decided[i] = ProjectOutcome(pid, rank, False, spent, "below_threshold",
                                        f"{score:g} votes < threshold {problem.threshold:g}")
            continue
        capped = [quotas[qi] for qi in member_of[i]
                  if (cap := quotas[qi].max_amount) is not None and spent_q[qi] + cost > cap]
        if capped:
            q = capped[0]
            decided[i] = ProjectOutcome(pid, rank, False, spent, "quota_max",
                                        f"group {q.name!r} would reach {spent_q[quotas.index(q)] + cost} "
                                        f"> maximum {q.max_amount}")
            continue
        if cost > left:
            decided[i] = ProjectOutcome(pid, rank, False, spent, "did_not_fit", f"cost {cost} > {left} left")
            refused.append(i)
            continue
        reserve = outstanding(member_of[i], cost)
        if cost > left - reserve:
            names = ", ".join(repr(q.name) for qi, q in enumerate(quotas)
                              if qi not in member_of[i] and spent_q[qi] < q.min_amount)
            decided[i] = ProjectOutcome(pid, rank, False, spent, "quota_reserve",
                                        f"cost {cost} > {left - reserve} left outside the reserve "
                                        f"({reserve} still reserved for {names or 'its quotas'})")
            refused.append(i)
            continue
        left -= cost
        spent += cost
        for qi in member_of[i]:
            spent_q[qi] += cost
        decided[i] = ProjectOutcome(pid, rank, True, spent, "funded")

    reports: list[QuotaReport] = []
    notes: list[str] = []
    for qi, q in enumerate(quotas):
        short = max(0, q.min_amount - spent_q[qi])
        why = ""
        if short:
            group = [i for i in range(len(ids)) if qi in member_of[i] and scores[i] >= problem.threshold]
            total = sum(costs[i] for i in group)
            unfunded = [i for i in group if not decided[i].selected]
            if total < q.min_amount:
                why = (f"the group's {len(group)} eligible projects cost {total} in total, "
                       f"less than the {q.min_amount} reserved")
            elif unfunded:
                cheapest = min(costs[i] for i in unfunded)
                why = (f"each of the group's {len(unfunded)} unfunded projects costs more than the money "
                       f"left (cheapest {cheapest} > {left} left)")
            else:
                why = "every eligible project of the group is funded"
            notes.append(f"quota {q.name!r} not met: group got {spent_q[qi]} of {q.min_amount} "
                         f"(short by {short}): {why}")
        reports.append(QuotaReport(q.name, q.min_amount, q.max_amount, spent_q[qi], short == 0, short, why))

    released = [q for qi, q in enumerate(quotas) if q.release_unused and spent_q[qi] < q.min_amount]
    if released:
        notes.append("released unused reserve of " + ", ".join(repr(q.name) for q in released)
                     + " to the other projects (final pass)")
        keep = [qi for qi, q in enumerate(quotas) if not q.release_unused]
        for i in refused:
            cost = costs[i]
            still = sum(max(0, quotas[qi].min_amount - spent_q[qi]
                            - (cost if qi in member_of[i] else 0)) for qi in keep)
            if cost <= left - still:
                left -= cost
                spent += cost
                for qi in member_of[i]:
                    spent_q[qi] += cost
                o = decided[i]
                decided[i] = ProjectOutcome(o.project_id, o.rank, True, spent, "funded_after_release",
                                            f"pass 1: {o.reason} ({o.detail})")
        reports = [QuotaReport(r.name, r.min_amount, r.max_amount, spent_q[qi], r.met, r.shortfall, r.reason)
                   for qi, r in enumerate(reports)]
    outcomes = tuple(decided[i] for i in order)
    selected = tuple(ids[i] for i in order if decided[i].selected)
    return AllocationResult("greedy", tie_break, problem.budget, selected, spent, outcomes,
                            tuple(notes), tuple(reports))

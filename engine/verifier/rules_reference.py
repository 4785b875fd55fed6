"""Every allocation rule the verifier recomputes, in plain Python (standard library only).

The same definitions, tie-breaks (:mod:`engine.verifier.tiebreak`), order of operations,
tolerances and explanation texts as ``engine/rules/`` — a deliberate independent copy, so
that the verifier recomputes ``allocation.json`` without importing the code it checks:

* ``greedy`` (with or without quotas, as ``engine/rules/greedy.py`` and ``quota.py``) and
  ``greedy-stop``;
* the Method of Equal Shares ``mes``, ``mes-add1``, ``mes-greedy``, ``mes-add1-greedy`` and
  their ``-comparison`` variants (as ``engine/rules/mes.py``, which uses numpy);
* ``exact`` (as ``engine/rules/exact.py``, which uses HiGHS): a branch and bound, with or
  without quotas, exponential in the worst case, fast on PB-sized envelopes.

:data:`RULES` maps a rule name (as in election definitions) to a function
``(Problem, tie_break) -> dict`` with allocation.json's entry shape (rule, tie_break, budget,
cost, selected, notes, outcomes, quota_reports); an envelope whose rule is missing fails as
``rule_unsupported``. Rules in :data:`PROFILE_RULES` need each voter's approvals: their
Problem carries ``approvals`` from the counted ballots.

MES sums run in a different order than numpy's (pairwise), so amounts can differ in the
last bits; decisions use the same relative tolerance (1e-9) and the texts round to cents,
so outcomes and texts agree except for values within 1e-12 of a rounding boundary. Pure
Python: O(rounds x approvals) per MES run, slow but simple. Checked field by field against
the engine in ``tests/unit/test_rules_reference.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from .tiebreak import project_order, tie_rank

REL_TOL = 1e-9


# =========================================================================== greedy


@dataclass(frozen=True)
class Quota:
    """A quota as the rules read it: the member project ids and the money reserved and allowed."""

    name: str
    members: frozenset[str]
    min_amount: int
    max_amount: int | None
    release_unused: bool


@dataclass(frozen=True)
class Problem:
    """One envelope as the verifier's rules read it (:mod:`engine.verifier.tiebreak` too):
    project ids, costs, scores (votes), budget, threshold, quotas, and for MES each ballot's
    approvals.
    """

    ids: tuple[str, ...]
    costs: tuple[int, ...]
    scores: tuple[float, ...]
    budget: int
    threshold: float
    quotas: tuple[Quota, ...] = ()
    # each counted ballot's projects in this envelope; filled only for PROFILE_RULES
    approvals: tuple[tuple[str, ...], ...] = ()



def greedy(p: Problem, tie_break: str, stop: bool = False,
           exclusive: Sequence[tuple[str, Sequence[str]]] = ()) -> dict[str, Any]:
    """Fund in order of votes while money lasts (``stop``: end at the first misfit).

    ``exclusive``: ``(group name, member ids)`` groups; once a project of a group is funded,
    the later projects of that group are ``excluded`` (``greedy-exclusive``).
    """
    left, spent, stopped = p.budget, 0, False
    winner: dict[str, str] = {}
    selected: list[str] = []
    outcomes: list[dict[str, Any]] = []
    funded_by_score: dict[float, list[tuple[str, int]]] = {}

    def out(pid: str, rank: int, sel: bool, reason: str, detail: str = "") -> None:
        outcomes.append({"project_id": pid, "rank": rank, "selected": sel, "cumulative_cost": spent,
                         "reason": reason, "detail": detail})

    for rank, i in enumerate(project_order(p, tie_break), start=1):
        pid, cost, score = p.ids[i], p.costs[i], p.scores[i]
        mine = sorted(name for name, members in exclusive if pid in members)
        if score < p.threshold:
            out(pid, rank, False, "below_threshold", f"{score:g} votes < threshold {p.threshold:g}")
        elif stopped:
            out(pid, rank, False, "stopped", "rule stopped earlier")
        elif any(g in winner for g in mine):
            out(pid, rank, False, "excluded", "; ".join(f"exclusive group {g!r}: {winner[g]} was funded first"
                                                        for g in mine if g in winner))
        elif cost <= left:
            left -= cost
            spent += cost
            selected.append(pid)
            funded_by_score.setdefault(score, []).append((pid, cost))
            for g in mine:
                winner[g] = pid
            out(pid, rank, True, "funded")
        elif stop:
            stopped = True
            out(pid, rank, False, "stopped", f"cost {cost} > {left} left; greedy-stop ends here")
        else:
            rivals = [t for t, c in funded_by_score.get(score, []) if cost <= left + c]
            if rivals:
                out(pid, rank, False, "tie_lost",
                    f"tie on {score:g} votes lost to {', '.join(rivals)}; cost {cost} > {left} left")
            else:
                out(pid, rank, False, "did_not_fit", f"cost {cost} > {left} left")
    return {"rule": "greedy-stop" if stop else "greedy", "tie_break": tie_break, "budget": p.budget,
            "cost": spent, "selected": selected, "notes": [], "outcomes": outcomes, "quota_reports": []}


def greedy_with_quotas(p: Problem, tie_break: str) -> dict[str, Any]:
    """engine/rules/quota.py: greedy that keeps each quota's reserve, then releases it."""
    order = project_order(p, tie_break)
    ids, costs, scores, quotas = p.ids, p.costs, p.scores, p.quotas
    spent_q = [0] * len(quotas)
    left, spent = p.budget, 0
    decided: dict[int, dict[str, Any]] = {}
    refused: list[int] = []

    def outcome(i: int, rank: int, sel: bool, reason: str, detail: str = "") -> dict[str, Any]:
        return {"project_id": ids[i], "rank": rank, "selected": sel, "cumulative_cost": spent,
                "reason": reason, "detail": detail}

    member_of = [{qi for qi, q in enumerate(quotas) if ids[i] in q.members} for i in range(len(ids))]
    for rank, i in enumerate(order, start=1):
        cost, score = costs[i], scores[i]
        if score < p.threshold:
            decided[i] = outcome(i, rank, False, "below_threshold", f"{score:g} votes < threshold {p.threshold:g}")
            continue
        capped = [qi for qi in sorted(member_of[i])
                  if (cap := quotas[qi].max_amount) is not None and spent_q[qi] + cost > cap]
        if capped:
            q = quotas[capped[0]]
            decided[i] = outcome(i, rank, False, "quota_max", f"group {q.name!r} would reach "
                                 f"{spent_q[capped[0]] + cost} > maximum {q.max_amount}")
            continue
        if cost > left:
            decided[i] = outcome(i, rank, False, "did_not_fit", f"cost {cost} > {left} left")
            refused.append(i)
            continue
        reserve = sum(max(0, q.min_amount - spent_q[qi] - (cost if qi in member_of[i] else 0))
                      for qi, q in enumerate(quotas))
        if cost > left - reserve:
            names = ", ".join(repr(q.name) for qi, q in enumerate(quotas)
                              if qi not in member_of[i] and spent_q[qi] < q.min_amount)
            decided[i] = outcome(i, rank, False, "quota_reserve",
                                 f"cost {cost} > {left - reserve} left outside the reserve "
                                 f"({reserve} still reserved for {names or 'its quotas'})")
            refused.append(i)
            continue
        left -= cost
        spent += cost
        for qi in member_of[i]:
            spent_q[qi] += cost
        decided[i] = outcome(i, rank, True, "funded")

    reports: list[dict[str, Any]] = []
    notes: list[str] = []
    for qi, q in enumerate(quotas):
        short = max(0, q.min_amount - spent_q[qi])
        why = ""
        if short:
            group = [i for i in range(len(ids)) if qi in member_of[i] and scores[i] >= p.threshold]
            total = sum(costs[i] for i in group)
            unfunded = [i for i in group if not decided[i]["selected"]]
            if total < q.min_amount:
                why = (f"the group's {len(group)} eligible projects cost {total} in total, "
                       f"less than the {q.min_amount} reserved")
            elif unfunded:
                why = (f"each of the group's {len(unfunded)} unfunded projects costs more than the money "
                       f"left (cheapest {min(costs[i] for i in unfunded)} > {left} left)")
            else:
                why = "every eligible project of the group is funded"
            notes.append(f"quota {q.name!r} not met: group got {spent_q[qi]} of {q.min_amount} "
                         f"(short by {short}): {why}")
        reports.append({"name": q.name, "min_amount": q.min_amount, "max_amount": q.max_amount,
                        "group_spent": spent_q[qi], "met": short == 0, "shortfall": short, "reason": why})
    released = [q for qi, q in enumerate(quotas) if q.release_unused and spent_q[qi] < q.min_amount]
    if released:
        notes.append("released unused reserve of " + ", ".join(repr(q.name) for q in released)
                     + " to the other projects (final pass)")
        keep = [qi for qi, q in enumerate(quotas) if not q.release_unused]
        for i in refused:
            cost = costs[i]
            still = sum(max(0, quotas[qi].min_amount - spent_q[qi] - (cost if qi in member_of[i] else 0))
                        for qi in keep)
            if cost <= left - still:
                left -= cost
                spent += cost
                for qi in member_of[i]:
                    spent_q[qi] += cost
                o = decided[i]
                decided[i] = {**o, "selected": True, "cumulative_cost": spent, "reason": "funded_after_release",
                              "detail": f"pass 1: {o['reason']} ({o['detail']})"}
        for qi, r in enumerate(reports):
            r["group_spent"] = spent_q[qi]
    return {"rule": "greedy", "tie_break": tie_break, "budget": p.budget, "cost": spent,
            "selected": [ids[i] for i in order if decided[i]["selected"]], "notes": notes,
            "outcomes": [decided[i] for i in order], "quota_reports": reports}


def greedy_rule(p: Problem, tie_break: str) -> dict[str, Any]:
    """``greedy``: with quotas :func:`greedy_with_quotas`, else :func:`greedy`."""
    return greedy_with_quotas(p, tie_break) if p.quotas else greedy(p, tie_break)


def greedy_stop_rule(p: Problem, tie_break: str) -> dict[str, Any]:
    """``greedy-stop``; ValueError with quotas (as the engine)."""
    if p.quotas:
        raise ValueError("greedy-stop does not support quotas")
    return greedy(p, tie_break, stop=True)



# =========================================================================== Method of Equal Shares, exact


def _supporters(p: Any) -> list[list[int]]:
    index = {pid: j for j, pid in enumerate(p.ids)}
    supp: list[list[int]] = [[] for _ in p.ids]
    for v, ballot in enumerate(p.approvals):
        for pid in ballot:
            supp[index[pid]].append(v)
    return supp


def _equal_payment(b: Sequence[float], cost: float) -> float:
    m = len(b)
    pay = cost / m
    poor = [x < pay * (1 - REL_TOL) for x in b]
    n_poor = sum(poor)
    while n_poor:
        if n_poor == m:
            return float(max(b))
        pay = (cost - sum(x for x, q in zip(b, poor, strict=True) if q)) / (m - n_poor)
        poor = [x < pay * (1 - REL_TOL) for x in b]
        new = sum(poor)
        if new == n_poor:
            break
        n_poor = new
    return pay


class _Run:
    def __init__(self, per_voter: float) -> None:
        self.per_voter = per_voter
        self.selected: list[int] = []
        self.rho: dict[int, float] = {}
        self.unaffordable: dict[int, float] = {}
        self.tied_with: dict[int, list[int]] = {}


def mes_run(p: Any, per_voter: float, rank: list[int], supp: list[list[int]]) -> _Run:
    """One run of MES at ``per_voter`` budget per voter: ``rank`` is the tie-break position of
    each project, ``supp`` its supporters. O(rounds x approvals).
    """
    costs = [float(c) for c in p.costs]
    n = len(costs)
    counts = [len(s) for s in supp]
    eligible = [j for j in range(n) if p.scores[j] >= p.threshold and counts[j] > 0]
    run = _Run(per_voter)
    run.selected = [j for j in eligible if costs[j] == 0]
    run.rho = {j: 0.0 for j in run.selected}
    alive = [j for j in eligible if costs[j] > 0]
    afford = {j: 1.0 / counts[j] for j in alive}
    budget = [per_voter] * len(p.approvals)
    while alive:
        best = float("inf")
        tied: list[int] = []
        dropped: list[int] = []
        for j in sorted(alive, key=afford.__getitem__):
            if afford[j] > best * (1 + REL_TOL):
                break
            c = costs[j]
            b = [budget[i] for i in supp[j]]
            total = float(sum(b))
            if total < c * (1 - REL_TOL):
                dropped.append(j)
                run.unaffordable[j] = total
                continue
            pay = _equal_payment(b, c)
            rho = pay / c
            afford[j] = rho
            if rho < best * (1 - REL_TOL):
                best, tied = rho, [j]
            elif rho <= best * (1 + REL_TOL):
                tied.append(j)
        for j in dropped:
            alive.remove(j)
        if not tied:
            break
        win = min(tied, key=rank.__getitem__)
        if len(tied) > 1:
            run.tied_with[win] = [j for j in tied if j != win]
        pay = afford[win] * costs[win]
        for i in supp[win]:
            budget[i] = max(budget[i] - pay, 0.0)
        run.selected.append(win)
        run.rho[win] = afford[win]
        alive.remove(win)
    return run


def _add1(p: Any, rank: list[int], supp: list[list[int]]) -> tuple[_Run, int]:
    n = len(p.approvals)
    base = p.budget / max(n, 1)
    run = mes_run(p, base, rank, supp)
    fundable = sum(1 for j in range(len(p.ids)) if supp[j] and p.scores[j] >= p.threshold)
    k = 0
    while len(run.selected) < fundable:
        nxt = mes_run(p, base + (k + 1), rank, supp)
        if sum(p.costs[j] for j in nxt.selected) > p.budget:
            break
        run, k = nxt, k + 1
    return run, k


def _complete(p: Any, tie_break: str, chosen: list[int]) -> list[int]:
    left = p.budget - sum(p.costs[j] for j in chosen)
    taken = set(chosen)
    extra: list[int] = []
    for j in project_order(p, tie_break):
        if j in taken or p.scores[j] < p.threshold:
            continue
        if p.costs[j] <= left:
            left -= p.costs[j]
            extra.append(j)
    return extra


def _result(p: Any, rule: str, tie_break: str, run: _Run, notes: list[str], supp: list[list[int]],
            completion: list[int] | None = None) -> dict[str, Any]:
    ids, costs = p.ids, p.costs
    outcomes: list[dict[str, Any]] = []
    spent = 0
    done: set[int] = set()

    def out(j: int, r: int, sel: bool, reason: str, detail: str) -> None:
        outcomes.append({"project_id": ids[j], "rank": r, "selected": sel, "cumulative_cost": spent,
                         "reason": reason, "detail": detail})

    for r, j in enumerate(run.selected, start=1):
        spent += costs[j]
        done.add(j)
        detail = (f"round {r}: each supporter paid up to {run.rho[j] * costs[j] / 1:.2f} "
                  f"(effective votes {1 / run.rho[j] if run.rho[j] else float('inf'):.1f})")
        if j in run.tied_with:
            detail += "; won a tie against " + ", ".join(ids[x] for x in run.tied_with[j])
        out(j, r, True, "funded", detail)
    rank = len(outcomes)
    for j in completion or []:
        rank += 1
        spent += costs[j]
        done.add(j)
        out(j, rank, True, "funded_completion", f"{p.scores[j]:g} votes; fitted in the money left")
    winners_tie = {x: w for w, xs in run.tied_with.items() for x in xs}
    for j in project_order(p, tie_break):
        if j in done:
            continue
        rank += 1
        if p.scores[j] < p.threshold:
            reason, detail = "below_threshold", f"{p.scores[j]:g} votes < threshold {p.threshold:g}"
        elif not supp[j]:
            reason, detail = "no_supporters", "nobody approved it"
        elif j in run.unaffordable:
            reason = "not_affordable"
            detail = (f"its {len(supp[j])} supporters had {run.unaffordable[j] / 1:.2f} left, "
                      f"cost {costs[j] / 1:g}")
            if j in winners_tie:
                detail += f"; earlier lost a tie to {ids[winners_tie[j]]}"
        else:
            reason, detail = "not_affordable", "not affordable when the rule ended"
        out(j, rank, False, reason, detail)
    return {"rule": rule, "tie_break": tie_break, "budget": p.budget, "cost": spent,
            "selected": [o["project_id"] for o in outcomes if o["selected"]], "notes": notes,
            "outcomes": outcomes, "quota_reports": []}


def _variant(p: Any, tie_break: str, rule: str) -> dict[str, Any]:
    if getattr(p, "quotas", ()):
        raise ValueError(f"{rule} does not support quotas")
    rank = tie_rank(p, tie_break)
    supp = _supporters(p)
    n = len(p.approvals)
    notes: list[str] = []
    if "add1" in rule:
        run, k = _add1(p, rank, supp)
        base = p.budget / max(n, 1) / 1
        notes.append(f"add1: per-voter budget raised by {k} from {base:.2f} to {base + k:.2f}")
    else:
        run = mes_run(p, p.budget / max(n, 1), rank, supp)
    completion = _complete(p, tie_break, run.selected) if rule.endswith("greedy") else None
    return _result(p, rule, tie_break, run, notes, supp, completion)


def _popularity(p: Any, outcomes: list[list[str]]) -> list[int]:
    cost = dict(zip(p.ids, p.costs, strict=True))
    sats = [[sum(float(cost[x]) for x in ballot if x in set(sel)) for ballot in p.approvals] for sel in outcomes]
    best = [max(col) for col in zip(*sats, strict=True)] if sats and p.approvals else []
    return [sum(1 for s, b in zip(row, best, strict=True) if s == b) for row in sats]


def comparison(base: str, p: Any, tie_break: str, greedy: Callable[[Any, str], dict[str, Any]]) -> dict[str, Any]:
    """``<base>-comparison``: as engine.rules.mes.with_comparison; ``greedy`` is the verifier's greedy."""
    m = _variant(p, tie_break, base)
    g = greedy(p, tie_break)
    name = base + "-comparison"
    if set(m["selected"]) == set(g["selected"]):
        (s,) = _popularity(p, [m["selected"]])
        return {**m, "rule": name, "notes": [*m["notes"], f"comparison: greedy gives the same projects ({s} voters)"]}
    s_m, s_g = _popularity(p, [m["selected"], g["selected"]])
    note = f"comparison: {s_m} voters prefer the MES outcome, {s_g} the greedy outcome"
    if s_g > s_m:
        return {**g, "rule": name, "notes": [*g["notes"], note + "; greedy outcome used"]}
    return {**m, "rule": name, "notes": [*m["notes"], note + "; MES outcome kept"]}


# --------------------------------------------------------------------------- exact


def _optimum(values: list[float], costs: list[int], free: list[int], cap: int,
             rows: list[tuple[frozenset[int], int, float]], spent_q: list[int], base: float,
             target: float | None) -> float | None:
    """Branch and bound with quotas: the best ``base + sum(values[j])`` over subsets of
    ``free`` costing at most ``cap`` such that, for every row ``(members, lo, hi)``,
    ``lo <= spent_q + cost of the chosen members <= hi``; None when no subset qualifies.
    With ``target``, stops as soon as a qualifying subset reaches it.

    Bounds: the fractional knapsack on ``values`` (quotas relaxed) for the objective; for a
    row's minimum, what the group can still add (its remaining members, at most ``cap``)."""
    items = sorted(free, key=lambda j: (-(values[j] / costs[j]) if costs[j] else float("-inf"), j))
    rest = [[0] * (len(items) + 1) for _ in rows]  # rest[r][k]: cost of row r's members in items[k:]
    for r, (members, _, _) in enumerate(rows):
        for k in range(len(items) - 1, -1, -1):
            rest[r][k] = rest[r][k + 1] + (costs[items[k]] if items[k] in members else 0)
    in_rows = {j: [r for r, (members, _, _) in enumerate(rows) if j in members] for j in items}
    best: float | None = None
    eps = 1e-9

    def bound(k: int, left: int, w: float) -> float:
        for j in items[k:]:
            if costs[j] <= left:
                left -= costs[j]
                w += values[j]
            else:
                return w + values[j] * left / costs[j]
        return w

    def dfs(k: int, left: int, w: float, sq: list[int]) -> bool:
        nonlocal best
        if all(sq[r] >= lo for r, (_, lo, _) in enumerate(rows)) and (best is None or w > best):
            best = w
        if target is not None and best is not None and best >= target - eps:
            return True
        if k == len(items):
            return False
        if any(sq[r] + min(rest[r][k], left) < lo for r, (_, lo, _) in enumerate(rows)):
            return False  # some minimum can no longer be reached
        b = bound(k, left, w)
        if target is not None and b < target - eps:
            return False
        if target is None and best is not None and b <= best + eps:
            return False
        j = items[k]
        if costs[j] <= left and all(sq[r] + costs[j] <= rows[r][2] for r in in_rows[j]):
            sq2 = list(sq)
            for r in in_rows[j]:
                sq2[r] += costs[j]
            if dfs(k + 1, left - costs[j], w + values[j], sq2):
                return True
        return dfs(k + 1, left, w, sq)

    dfs(0, cap, base, list(spent_q))
    return best


def exact(p: Any, tie_break: str) -> dict[str, Any]:
    """engine/rules/exact.py without a solver: the welfare optimum by branch and bound
    (quota minimums and maximums as constraints; a minimum no subset can reach is first
    lowered to the most the group can get, quota by quota, as the engine does), then the
    first optimal set in tie-break order, with the same texts and quota reports."""
    order = project_order(p, tie_break)
    costs = [p.costs[i] for i in order]
    scores = [float(p.scores[i]) for i in order]
    eligible = [s >= p.threshold for s in scores]
    n = len(order)
    free = [j for j in range(n) if eligible[j]]
    quotas = list(getattr(p, "quotas", ()))
    groups = [frozenset(pos for pos in range(n) if p.ids[order[pos]] in q.members) for q in quotas]
    his = [float(q.max_amount) if q.max_amount is not None else float("inf") for q in quotas]
    los = [q.min_amount for q in quotas]

    def rows() -> list[tuple[frozenset[int], int, float]]:
        return [(groups[k], los[k], his[k]) for k in range(len(quotas))]

    zero = [0] * len(quotas)
    welfare = _optimum(scores, costs, free, p.budget, rows(), zero, 0.0, None)
    shortfalls: dict[str, tuple[int, str]] = {}
    if welfare is None:  # relax each quota minimum to the most money the group can get, in order
        for k, q in enumerate(quotas):
            group_cost = [float(costs[j]) if j in groups[k] else 0.0 for j in range(n)]
            relaxed = [r if i != k else (groups[k], 0, his[k]) for i, r in enumerate(rows())]
            best = _optimum(group_cost, costs, free, p.budget, relaxed, zero, 0.0, None)
            reachable = int(round(best)) if best is not None else 0
            if reachable < los[k]:
                group_total = sum(costs[j] for j in groups[k] if eligible[j])
                why = (f"its eligible projects cost {group_total} in total" if group_total < los[k]
                       else f"no combination of its projects within the budget reaches {los[k]}")
                shortfalls[q.name] = (los[k] - reachable, why)
                los[k] = reachable
        welfare = _optimum(scores, costs, free, p.budget, rows(), zero, 0.0, None)
        if welfare is None:
            raise ValueError("quotas are contradictory (maximums below minimums?)")
    integral = all(s == round(s) for s in scores)
    tol = 1e-6 if integral else 1e-9 * max(1.0, abs(welfare))
    chosen: list[int] = []
    spent = 0
    spent_q = list(zero)
    excluded: set[int] = set()
    for pos in range(n):
        if not eligible[pos]:
            continue
        in_groups = [k for k in range(len(quotas)) if pos in groups[k]]
        if spent + costs[pos] > p.budget or any(spent_q[k] + costs[pos] > his[k] for k in in_groups):
            excluded.add(pos)
            continue
        rest = [j for j in free if j > pos and j not in excluded]
        base = sum(scores[j] for j in chosen) + scores[pos]
        trial = [spent_q[k] + (costs[pos] if k in in_groups else 0) for k in range(len(quotas))]
        got = _optimum(scores, costs, rest, p.budget - spent - costs[pos], rows(), trial, base, welfare - tol)
        if got is not None and got >= welfare - tol:
            chosen.append(pos)
            spent += costs[pos]
            spent_q = trial
        else:
            excluded.add(pos)
    total = sum(scores[j] for j in chosen)
    notes = [f"total score {total:g} (proven optimal by HiGHS)"]
    reports: list[dict[str, Any]] = []
    for k, q in enumerate(quotas):
        short, why = shortfalls.get(q.name, (0, ""))
        reports.append({"name": q.name, "min_amount": q.min_amount, "max_amount": q.max_amount,
                        "group_spent": spent_q[k], "met": short == 0, "shortfall": short, "reason": why})
        if short:
            notes.append(f"quota {q.name!r} not met: group got {spent_q[k]} of {q.min_amount} "
                         f"(short by {short}): {why}")
    outcomes: list[dict[str, Any]] = []
    cum = rank = 0
    for pos in chosen:
        i = order[pos]
        rank += 1
        cum += p.costs[i]
        outcomes.append({"project_id": p.ids[i], "rank": rank, "selected": True, "cumulative_cost": cum,
                         "reason": "funded", "detail": f"{p.scores[i]:g} votes; in the optimal set"})
    for pos, i in enumerate(order):
        if pos in chosen:
            continue
        rank += 1
        if not eligible[pos]:
            reason, detail = "below_threshold", f"{p.scores[i]:g} votes < threshold {p.threshold:g}"
        else:
            reason, detail = "not_in_optimum", "funding it would lower the total votes of the funded set"
        outcomes.append({"project_id": p.ids[i], "rank": rank, "selected": False, "cumulative_cost": cum,
                         "reason": reason, "detail": detail})
    return {"rule": "exact", "tie_break": tie_break, "budget": p.budget, "cost": cum,
            "selected": [o["project_id"] for o in outcomes if o["selected"]],
            "notes": notes, "outcomes": outcomes, "quota_reports": reports}

# =========================================================================== the table

MES_RULES = ("mes", "mes-add1", "mes-greedy", "mes-add1-greedy")


def reference_rules(
    greedy: Callable[[Any, str], dict[str, Any]] | None = None,
) -> dict[str, Callable[[Any, str], dict[str, Any]]]:
    """Rule name -> function for ``exact`` and every MES rule; ``greedy`` is the greedy the
    ``-comparison`` variants compare with (default: this module's)."""
    g = greedy or greedy_rule
    out: dict[str, Callable[[Any, str], dict[str, Any]]] = {"exact": exact}
    for name in MES_RULES:
        out[name] = partial(_variant, rule=name)
        out[name + "-comparison"] = partial(comparison, name, greedy=g)
    return out


RULES: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "greedy": greedy_rule,
    "greedy-stop": greedy_stop_rule,
    **reference_rules(),
}
PROFILE_RULES: frozenset[str] = frozenset(name for name in RULES if name.startswith("mes"))

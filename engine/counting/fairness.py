"""How fairly an envelope's outcome treats its voters (numpy; pure: no I/O).

:func:`fairness_report` ``(problem, result, approvals) -> dict`` — for one envelope with
approval ballots (``approvals``: an :class:`~engine.rules.profile.ApprovalProfile`, one
row per counted ballot; voters who approved nothing count):

* ``funded_projects_histogram`` — share of voters with exactly 0, 1, 2 … funded projects
  among those they approved;
* ``cost_share_histogram`` — share of voters by the part of the money of the projects they
  approved that is funded, in 11 bins: ``0 %`` exactly, then ``(0, 10] %``, ``(10, 20] %``
  … ``(90, 100] %`` (pabutools' ``satisfaction_histogram`` binning with 11 bins); a voter
  who approved only projects costing 0, or nothing, is in the first bin;
* ``nothing_funded_share`` — share of voters none of whose approved projects is funded;
* ``gini_cost`` / ``gini_count`` — Gini coefficient of the voters' satisfaction, measured as
  the money of their funded approved projects (``Cost_Sat``) and as their number
  (``Cardinality_Sat``); 0 = everybody equally satisfied (also when nobody is);
* ``ejr`` / ``ejr_up_to_one`` / ``pjr`` / ``pjr_up_to_one`` — extended / proportional
  justified representation with cost satisfaction. A group of voters ``N'`` is *cohesive*
  for a set of projects ``T`` when every voter in it approves all of ``T`` and it is large
  enough to pay for it with its share of the budget: ``|N'| · budget ≥ n · cost(T)``. EJR is
  violated when some cohesive group has *every* member with ``cost(funded ∩ approved) <
  cost(T)``; PJR when the funded projects approved by *any* member cost less than
  ``cost(T)`` together. "Up to one": the cost of the most expensive unfunded project of
  ``T`` is added to the left-hand side (the relaxation Method of Equal Shares guarantees).
  Each gives ``satisfied`` and, when not, a ``witness`` (``projects`` = ``T``,
  ``group_size``, ``required`` size, the first ``voters`` indices).

Search (documented bound). The candidate sets ``T`` are enumerated smallest first, each
extended only by projects of higher index, and a set is only extended while the voters
approving all of it are still numerous enough to pay for it (no superset can be cohesive
otherwise): exact when every such set is visited. At most ``max_sets`` sets are visited
(default 20,000); ``search`` reports ``exhaustive``, the largest size fully checked and
``stopped_early`` (all four checks already violated, so the search ended there).
For EJR each ``T`` is decided exactly (the witness is every voter approving ``T`` that is
below ``cost(T)``). For PJR the group's funded union is checked for candidate unions ``S``:
every subset of the funded projects when at most 16 are funded (exact: a sum over
subsets, O(2^16 · 16) per set), otherwise the
funded-approved sets of the group's own members, cheapest first, at most 200 per ``T`` (a
violation found is certain; ``pjr.exact`` says whether "satisfied" is proven).

Complexity: histograms and Gini O(approvals + n log n); the search O(visited sets × their
supporters), PJR in addition O(candidates × voter types) per set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.rules.problem import AllocationProblem, AllocationResult
from engine.rules.profile import ApprovalProfile

COST_BINS = ("0 %", *(f"({10 * (k - 1)}, {10 * k}] %" for k in range(1, 11)))
MAX_SETS = 20_000
PJR_EXACT_FUNDED = 16
PJR_CANDIDATES = 200
WITNESS_VOTERS = 20


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 when all are 0), as pabutools.utils.gini_coefficient."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = len(v)
    total = float(v.sum())
    if n == 0 or total == 0:
        return 0.0
    weighted = float(np.dot(v, np.arange(n, 0, -1, dtype=np.float64)))
    return (n + 1 - 2 * weighted / total) / n


def _profile(problem: AllocationProblem,
             approvals: ApprovalProfile | Sequence[Sequence[str]] | None) -> ApprovalProfile:
    if approvals is None:
        approvals = problem.profile
    if approvals is None:
        raise ValueError("the fairness report needs the voters' approvals")
    if isinstance(approvals, ApprovalProfile):
        if approvals.n_projects != len(problem.project_ids):
            raise ValueError("approvals have a different number of projects")
        return approvals
    index: dict[str, int] = {pid: j for j, pid in enumerate(problem.project_ids)}
    return ApprovalProfile.from_ballots(len(index), [[index[p] for p in dict.fromkeys(b)] for b in approvals])


def fairness_report(problem: AllocationProblem, result: AllocationResult,
                    approvals: ApprovalProfile | Sequence[Sequence[str]] | None = None, *,
                    max_sets: int = MAX_SETS, justified: bool = True) -> dict[str, Any]:
    """The envelope's fairness figures (see the module doc); ``approvals`` default ``problem.profile``.
    ``justified=False`` leaves out the EJR/PJR checks and ``search`` (grade and for-against
    envelopes, whose "approvals" are the projects supported: they are defined on approvals)."""
    prof = _profile(problem, approvals)
    n, m = prof.n_voters, prof.n_projects
    costs = np.asarray(problem.costs, dtype=np.float64)
    index = {pid: j for j, pid in enumerate(problem.project_ids)}
    funded = np.zeros(m, dtype=bool)
    funded[[index[p] for p in result.selected]] = True
    counts = prof.approval_counts()
    proj_of = np.repeat(np.arange(m), counts)  # project of each approval (CSR order)
    voters = prof.voters.astype(np.int64)
    is_funded = funded[proj_of]
    n_funded = np.bincount(voters[is_funded], minlength=n)
    sat_cost = np.bincount(voters[is_funded], weights=costs[proj_of][is_funded], minlength=n)
    approved_cost = np.bincount(voters, weights=costs[proj_of], minlength=n)
    report: dict[str, Any] = {"voters": n, "funded": int(funded.sum())}
    if n == 0:
        report.update({"funded_projects_histogram": [], "cost_share_histogram": dict.fromkeys(COST_BINS, 0.0),
                       "nothing_funded_share": 0.0, "gini_cost": 0.0, "gini_count": 0.0})
        return report
    hist = np.bincount(n_funded) / n
    # exact integer bins: ceil(10 * funded / approved) (costs are integers, sums exact below 2**53)
    sat_i = np.rint(sat_cost).astype(np.int64)
    appr_i = np.rint(approved_cost).astype(np.int64)
    bins = np.where(appr_i > 0, -((-10 * sat_i) // np.maximum(appr_i, 1)), 0).clip(0, 10)
    cost_hist = np.bincount(bins, minlength=11) / n
    report.update({
        "funded_projects_histogram": [float(x) for x in hist],
        "cost_share_histogram": {b: float(x) for b, x in zip(COST_BINS, cost_hist, strict=True)},
        "nothing_funded_share": float(np.count_nonzero(n_funded == 0) / n),
        "gini_cost": gini(sat_cost),
        "gini_count": gini(n_funded),
    })
    if justified:
        report.update(justified_representation(problem, prof, funded, sat_cost, max_sets=max_sets))
    return report


def _witness(ids: Sequence[str], t: tuple[int, ...], group: np.ndarray, required: int) -> dict[str, Any]:
    return {"projects": [ids[j] for j in t], "group_size": int(len(group)), "required": required,
            "voters": [int(v) for v in group[:WITNESS_VOTERS]]}


def justified_representation(problem: AllocationProblem, prof: ApprovalProfile, funded: np.ndarray,
                             sat_cost: np.ndarray, *, max_sets: int = MAX_SETS) -> dict[str, Any]:
    """EJR / PJR checks (with "up to one") by the bounded search of the module doc."""
    n, m, budget = prof.n_voters, prof.n_projects, problem.budget
    ids = problem.project_ids
    cost_int = problem.costs
    w_idx = np.flatnonzero(funded)
    # each voter's funded approved projects as a "type" (for PJR unions): a bit mask, bit k
    # for the k-th funded project, in 63-bit words
    n_words = max(1, -(-len(w_idx) // 63))
    keys = np.zeros((n_words, n), dtype=np.uint64)
    for k, j in enumerate(w_idx.tolist()):
        np.bitwise_or.at(keys[k // 63], prof.supporters(j), np.uint64(1 << (k % 63)))
    if n_words == 1:
        uniq, type_of = np.unique(keys[0], return_inverse=True)
        type_bits = [int(x) for x in uniq.tolist()]
    else:
        uniq2, type_of = np.unique(keys.T, axis=0, return_inverse=True)
        type_bits = [sum(int(x) << (63 * w) for w, x in enumerate(row)) for row in uniq2.tolist()]
    type_of = np.asarray(type_of).reshape(-1)
    w_cost = [cost_int[j] for j in w_idx.tolist()]
    type_cost = [sum(w_cost[k] for k in range(len(w_idx)) if b >> k & 1) for b in type_bits]
    exact_pjr = len(w_idx) <= PJR_EXACT_FUNDED
    if exact_pjr:  # cost of every subset S of the funded projects (bit k = k-th funded project)
        sub_cost = np.zeros(1, dtype=np.int64)
        for c in w_cost:
            sub_cost = np.concatenate([sub_cost, sub_cost + c])
        type_bits_arr = np.asarray(type_bits, dtype=np.int64)
    found: dict[str, dict[str, Any] | None] = {"ejr": None, "ejr_up_to_one": None, "pjr": None, "pjr_up_to_one": None}
    pjr_capped = False

    def large(size: int, cost: int) -> bool:
        return size > 0 and size * budget >= n * cost

    def check(t: tuple[int, ...], group: np.ndarray, cost: int) -> None:
        nonlocal pjr_capped
        # smallest group that can pay for T with its share of the budget (none when there is no money)
        required = -(-n * cost // budget) if budget else (0 if cost == 0 else n + 1)
        unfunded = [cost_int[j] for j in t if not funded[j]]
        for name, surplus in (("ejr", 0), ("ejr_up_to_one", max(unfunded, default=0))):
            if found[name] is None:
                low = group[sat_cost[group] + surplus < cost]
                if large(len(low), cost):
                    found[name] = _witness(ids, t, low, required)
        if found["pjr"] is not None and found["pjr_up_to_one"] is not None:
            return
        tcount = np.bincount(type_of[group], minlength=len(type_bits))
        present = np.flatnonzero(tcount)
        if exact_pjr:
            # within[S] = members whose funded approved projects all lie in S (sum over subsets)
            within = np.zeros(len(sub_cost), dtype=np.int64)
            within[type_bits_arr[present]] = tcount[present]
            for k in range(len(w_cost)):
                view = within.reshape(-1, 2, 1 << k)
                view[:, 1, :] += view[:, 0, :]
        for name, surplus in (("pjr", 0), ("pjr_up_to_one", max(unfunded, default=0))):
            if found[name] is not None:
                continue
            if exact_pjr:
                ok = np.flatnonzero((sub_cost + surplus < cost) & (within >= max(required, 1)))
                if len(ok):
                    bits = int(ok[np.argmin(sub_cost[ok])])
                    inside = [u for u in present.tolist() if type_bits[u] & ~bits == 0]
                    found[name] = _witness(ids, t, group[np.isin(type_of[group], inside)], required)
                continue
            cands = sorted(((type_bits[u], type_cost[u]) for u in present.tolist()), key=lambda x: x[1])
            if len(cands) > PJR_CANDIDATES:
                cands, pjr_capped = cands[:PJR_CANDIDATES], True
            for bits, c in cands:
                if c + surplus >= cost:
                    break
                inside = [u for u in present.tolist() if type_bits[u] & ~bits == 0]
                size = int(tcount[inside].sum())
                if large(size, cost):
                    grp = group[np.isin(type_of[group], inside)]
                    found[name] = _witness(ids, t, grp, required)
                    break

    supporters = [prof.supporters(j).astype(np.int64) for j in range(m)]
    masks = np.zeros((m, n), dtype=bool)
    level: list[tuple[tuple[int, ...], np.ndarray, int]] = []
    for j in range(m):
        if large(len(supporters[j]), cost_int[j]):
            masks[j, supporters[j]] = True
            level.append(((j,), np.sort(supporters[j]), cost_int[j]))
    candidates = [t[0] for t, _, _ in level]
    visited, size, complete = 0, 0, 0
    exhaustive, stopped_early = True, False
    while level:
        size += 1
        nxt: list[tuple[tuple[int, ...], np.ndarray, int]] = []
        for t, group, cost in level:
            if visited >= max_sets:
                exhaustive = False
                break
            visited += 1
            check(t, group, cost)
            for j in candidates:
                if j <= t[-1]:
                    continue
                c = cost + cost_int[j]
                g = group[masks[j, group]]
                if large(len(g), c):
                    nxt.append(((*t, j), g, c))
        if not exhaustive:
            break
        complete = size
        if all(v is not None for v in found.values()) and nxt:
            exhaustive, stopped_early = False, True  # every check already violated: no need to go on
            break
        level = nxt
    search = {"exhaustive": exhaustive, "sets_visited": visited, "complete_up_to_size": complete,
              "max_sets": max_sets, "stopped_early": stopped_early}
    out: dict[str, Any] = {"search": search}
    for name, w in found.items():
        entry: dict[str, Any] = {"satisfied": w is None}
        if name.startswith("pjr"):
            entry["exact"] = w is not None or (exhaustive and exact_pjr and not pjr_capped)
        else:
            entry["exact"] = w is not None or exhaustive
        if w is not None:
            entry["witness"] = w
        out[name] = entry
    return out

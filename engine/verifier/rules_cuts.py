"""Savings rules (reverse PB) in plain Python: ``cuts-greedy`` recomputed, ``cuts-exact`` checked.

A deliberate independent copy of ``engine/rules/cuts.py`` (which uses numpy and HiGHS)
and of the sector limits of ``engine/counting/savings.py``. Lines are the envelope's
projects (cost = amount saved if cut, category = sector), scores the votes to cut, budget
the savings target; opposition of a line = voters of the envelope − its votes.

* ``cuts-greedy`` is recomputed: lines in cut order (votes, then larger saving, then
  natural id for ``votes-cost-id``), each cut unless its sector is at a limit, until the
  target is reached. Every outcome and note must match.
* ``cuts-exact`` (an ILP in the engine) is checked against the *published* set of cuts:
  (1) the set holds only lines with enough votes, reaches the target and keeps every sector
  limit; (2) when at most :data:`EXHAUSTIVE_MAX` lines are eligible, an exhaustive search
  over every subset finds the least opposition, then the least saving, then the first set
  in cut order (the engine's documented tie-breaks): it must be the published set;
  (3) larger envelopes: no single line can be dropped and no single cut swapped for a kept
  line giving less opposition, or equal opposition and a smaller saving (local optimality;
  global optimality would need an ILP solver); (4) the outcomes and notes (total
  opposition) are rebuilt from the checked set and must match.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import fail
from .tiebreak import natural_key

EXHAUSTIVE_MAX = 16  # 2**16 subsets: well under a second in CPython


@dataclass(frozen=True)
class SectorLimit:
    """At most ``max_cuts`` cuts and/or ``max_amount`` saved among ``members`` (None: no limit)."""

    sector: str
    members: frozenset[str]
    max_cuts: int | None
    max_amount: int | None


def _fraction(v: Any) -> Fraction | None:
    if v is None:
        return None
    return Fraction(str(v)) if isinstance(v, float) else Fraction(v)


def sector_limits(savings: Mapping[str, Any], lines: Sequence[Any]) -> tuple[SectorLimit, ...]:
    """The limits of a savings envelope (its canonical definition ``savings`` keys) over its
    ``lines`` (objects with ``id``, ``cost``, ``category``): per sector its own max_cuts /
    max_share, else the envelope's ``max_cuts_per_sector`` / ``max_share_per_sector``; the
    share is of the declared ``spending``, else of the sum of the sector's lines, rounded down."""
    declared = savings.get("sectors", {})
    out = []
    for name in sorted({ln.category for ln in lines if ln.category is not None}, key=natural_key):
        own = declared.get(name, {})
        max_cuts = own.get("max_cuts", savings.get("max_cuts_per_sector"))
        share = _fraction(own.get("max_share", savings.get("max_share_per_sector")))
        if max_cuts is None and share is None:
            continue
        members = [ln for ln in lines if ln.category == name]
        spending = own.get("spending", sum(ln.cost for ln in members))
        out.append(SectorLimit(name, frozenset(ln.id for ln in members), max_cuts,
                               math.floor(share * spending) if share is not None else None))
    return tuple(out)


def cut_order(p: Any, tie_break: str) -> list[int]:
    """Line indices in cut order: votes to cut, then (``votes-cost-id``) the larger saving,
    then the id in natural order; ``votes-id`` and ``lexicographic`` as in tiebreak.py."""
    idx = range(len(p.ids))
    if tie_break == "votes-cost-id":
        return sorted(idx, key=lambda i: (-p.scores[i], -p.costs[i], natural_key(p.ids[i])))
    if tie_break == "votes-id":
        return sorted(idx, key=lambda i: (-p.scores[i], natural_key(p.ids[i])))
    if tie_break == "lexicographic":
        return sorted(idx, key=lambda i: (-p.scores[i], p.ids[i]))
    raise ValueError(f"unknown tie-break {tie_break!r}")


def _money(units: int) -> str:
    return f"{units:,}"


def _first_note(saved: int, target: int) -> str:
    return f"saved {_money(saved)} for a target of {_money(target)}: overshoot {_money(saved - target)}"


def _entry(rule: str, p: Any, tie_break: str, outcomes: list[dict[str, Any]], notes: list[str]) -> dict[str, Any]:
    selected = [o["project_id"] for o in outcomes if o["selected"]]
    saved = sum(p.costs[p.ids.index(s)] for s in selected)
    return {"rule": rule, "tie_break": tie_break, "budget": p.budget, "cost": saved, "selected": selected,
            "notes": [_first_note(saved, p.budget), *notes], "outcomes": outcomes, "quota_reports": []}


def _out(pid: str, rank: int, sel: bool, cum: int, reason: str, detail: str) -> dict[str, Any]:
    return {"project_id": pid, "rank": rank, "selected": sel, "cumulative_cost": cum, "reason": reason,
            "detail": detail}


def cuts_greedy(p: Any, tie_break: str, limits: Sequence[SectorLimit]) -> dict[str, Any]:
    """``cuts-greedy`` recomputed (see the module docstring); fails when the target is not reached."""
    cuts = {lim.sector: 0 for lim in limits}
    by_sector = {lim.sector: 0 for lim in limits}
    saved = 0
    outcomes: list[dict[str, Any]] = []
    for rank, i in enumerate(cut_order(p, tie_break), start=1):
        pid, amount, votes = p.ids[i], p.costs[i], p.scores[i]
        if votes < p.threshold:
            outcomes.append(_out(pid, rank, False, saved, "below_threshold",
                                 f"{votes:g} votes to cut < threshold {p.threshold:g}"))
            continue
        if saved >= p.budget:
            outcomes.append(_out(pid, rank, False, saved, "not_needed",
                                 f"target {_money(p.budget)} reached before its turn"))
            continue
        hit = None
        for lim in limits:
            if pid in lim.members and (
                    (lim.max_cuts is not None and cuts[lim.sector] + 1 > lim.max_cuts)
                    or (lim.max_amount is not None and by_sector[lim.sector] + amount > lim.max_amount)):
                hit = lim
                break
        if hit is not None:
            what = (f"at most {hit.max_cuts} cuts" if hit.max_cuts is not None and cuts[hit.sector] + 1 > hit.max_cuts
                    else f"at most {_money(hit.max_amount or 0)} saved")
            outcomes.append(_out(pid, rank, False, saved, "sector_limit", f"sector {hit.sector}: {what}"))
            continue
        saved += amount
        for lim in limits:
            if pid in lim.members:
                cuts[lim.sector] += 1
                by_sector[lim.sector] += amount
        outcomes.append(_out(pid, rank, True, saved, "cut", f"{votes:g} votes to cut"))
    if saved < p.budget:
        raise fail("allocation.json", "target", f"cuts-greedy reaches {_money(saved)}, short of the target "
                   f"{_money(p.budget)}: the engine publishes no such result")
    return _entry("cuts-greedy", p, tie_break, outcomes, [])


def _feasible(chosen: set[str], p: Any, limits: Sequence[SectorLimit]) -> str | None:
    """Why a set of cuts is not allowed, or None."""
    saving = {pid: c for pid, c in zip(p.ids, p.costs, strict=True)}
    for lim in limits:
        inside = [pid for pid in chosen if pid in lim.members]
        if lim.max_cuts is not None and len(inside) > lim.max_cuts:
            return f"sector {lim.sector}: {len(inside)} cuts, at most {lim.max_cuts}"
        if lim.max_amount is not None and sum(saving[x] for x in inside) > lim.max_amount:
            return f"sector {lim.sector}: saves {sum(saving[x] for x in inside)}, at most {lim.max_amount}"
    if sum(saving[x] for x in chosen) < p.budget:
        return f"saves {sum(saving[x] for x in chosen)}, short of the target {p.budget}"
    return None


def cuts_exact(p: Any, tie_break: str, limits: Sequence[SectorLimit],
               published: Mapping[str, Any] | None) -> dict[str, Any]:
    """``cuts-exact`` checked against the published set (see the module docstring)."""
    name = "allocation.json"
    n_voters = len(p.approvals)
    order = cut_order(p, tie_break)
    opp = [n_voters - s for s in p.scores]
    eligible = [i for i in order if p.scores[i] >= p.threshold]
    chosen = set((published or {}).get("selected") or [])
    if not chosen <= {p.ids[i] for i in eligible}:
        raise fail(name, "cuts_exact", f"published cuts {sorted(chosen)} include an unknown line or one with "
                   "too few votes")
    why = _feasible(chosen, p, limits)
    if why:
        raise fail(name, "cuts_exact", f"published cuts are not allowed: {why}")

    def key(ids: set[str]) -> tuple[float, int]:
        return (sum(opp[p.ids.index(x)] for x in ids), sum(p.costs[p.ids.index(x)] for x in ids))

    mine = key(chosen)
    if len(eligible) <= EXHAUSTIVE_MAX:
        best: tuple[Any, ...] | None = None
        best_set: set[str] = set()
        for mask in range(1 << len(eligible)):
            s = {p.ids[i] for b, i in enumerate(eligible) if mask >> b & 1}
            if _feasible(s, p, limits) is None:
                k = (*key(s), tuple(0 if p.ids[i] in s else 1 for i in eligible))  # first in cut order
                if best is None or k < best:
                    best, best_set = k, s
        if best_set != chosen:
            raise fail(name, "cuts_exact", f"published cuts {sorted(chosen)} (opposition {mine[0]:g}, saving "
                       f"{mine[1]}); an exhaustive search finds {sorted(best_set)} (opposition {best[0]:g}, "  # type: ignore[index]  # best is set: the published set is feasible
                       f"saving {best[1]})")  # type: ignore[index]  # same
    else:
        kept = [p.ids[i] for i in eligible if p.ids[i] not in chosen]
        for x in sorted(chosen):
            for y in [None, *kept]:
                s = (chosen - {x}) | ({y} if y else set())
                if _feasible(s, p, limits) is None and key(s) < mine:
                    raise fail(name, "cuts_exact", f"published cuts are not the least opposition: replacing {x} "
                               f"by {y or 'nothing'} gives opposition {key(s)[0]:g}, saving {key(s)[1]}")
    outcomes: list[dict[str, Any]] = []
    saved = rank = 0
    for i in order:
        if p.ids[i] in chosen:
            rank += 1
            saved += p.costs[i]
            outcomes.append(_out(p.ids[i], rank, True, saved, "cut_optimal",
                                 f"{p.scores[i]:g} votes to cut, opposition {opp[i]:g}"))
    for i in order:
        if p.ids[i] not in chosen:
            rank += 1
            if p.scores[i] < p.threshold:
                reason, detail = "below_threshold", f"{p.scores[i]:g} votes to cut < threshold {p.threshold:g}"
            else:
                reason, detail = "not_in_optimum", f"opposition {opp[i]:g}"
            outcomes.append(_out(p.ids[i], rank, False, saved, reason, detail))
    return _entry("cuts-exact", p, tie_break, outcomes, [f"total opposition {mine[0]:g} (proven least by HiGHS)"])

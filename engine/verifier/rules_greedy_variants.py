"""``for-against`` and ``greedy-exclusive`` in plain Python (standard library only), for the verifier.

Independent re-implementations of ``engine/rules/for_against.py`` and
``engine/rules/exclusive.py`` with the same outcome texts. ``for-against`` computes the
scores from the problem's ``votes_for`` / ``votes_against`` (per project, problem order)
and runs the verifier's own greedy (``rules_reference.greedy_rule``, quotas included);
``greedy-exclusive`` is its own walk over the problem's ``exclusive`` groups (a sequence
of ``(name, member ids)``). Not registered in the verifier's rule table yet: elections
cannot declare for/against ballots or exclusive groups (docs/rules.md, "Ballot types").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .tiebreak import project_order

Greedy = Callable[[Any, str], dict[str, Any]]
_TIE = re.compile(r"^tie on \S+ votes lost to")


@dataclass(frozen=True)
class _Scored:
    ids: tuple[str, ...]
    costs: tuple[int, ...]
    scores: tuple[float, ...]
    budget: int
    threshold: float
    quotas: tuple[Any, ...] = ()
    approvals: tuple[tuple[str, ...], ...] = field(default=())


def for_against(p: Any, tie_break: str, greedy: Greedy, stop: Greedy | None = None) -> dict[str, Any]:
    """Greedy (``stop``: the verifier's greedy-stop) on ``for - against``."""
    vf, va = list(p.votes_for), list(p.votes_against)
    if min(vf + va, default=0) < 0:
        raise ValueError("for and against counts must be >= 0")
    net = tuple(float(f - a) for f, a in zip(vf, va, strict=True))
    walk = _Scored(tuple(p.ids), tuple(p.costs), net, p.budget, p.threshold, tuple(getattr(p, "quotas", ())))
    res = (stop or greedy)(walk, tie_break)
    index = {pid: j for j, pid in enumerate(p.ids)}
    outcomes = []
    for o in res["outcomes"]:
        j = index[o["project_id"]]
        head = f"for {vf[j]}, against {va[j]}: score {vf[j] - va[j]}"
        detail = o["detail"]
        if o["reason"] == "below_threshold":
            detail = f"score {net[j]:g} < threshold {p.threshold:g}"
        elif o["reason"] == "tie_lost":
            detail = _TIE.sub(f"tie on score {net[j]:g} lost to", detail)
        outcomes.append({**o, "detail": head + (f"; {detail}" if detail else "")})
    return {**res, "rule": "for-against-stop" if stop else "for-against", "outcomes": outcomes}


def greedy_exclusive(p: Any, tie_break: str) -> dict[str, Any]:
    """Greedy in which funding a project excludes the later projects of its exclusive groups."""
    if getattr(p, "quotas", ()):
        raise ValueError("greedy-exclusive does not support quotas; use greedy or exact")
    groups = list(p.exclusive)
    left, spent = p.budget, 0
    winner: dict[str, str] = {}
    selected: list[str] = []
    outcomes: list[dict[str, Any]] = []
    funded_by_score: dict[float, list[tuple[str, int]]] = {}

    def out(pid: str, rank: int, sel: bool, reason: str, detail: str = "") -> None:
        outcomes.append({"project_id": pid, "rank": rank, "selected": sel, "cumulative_cost": spent,
                         "reason": reason, "detail": detail})

    for rank, i in enumerate(project_order(p, tie_break), start=1):
        pid, cost, score = p.ids[i], p.costs[i], p.scores[i]
        mine = sorted(name for name, members in groups if pid in members)
        if score < p.threshold:
            out(pid, rank, False, "below_threshold", f"{score:g} votes < threshold {p.threshold:g}")
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
        else:
            rivals = [t for t, c in funded_by_score.get(score, []) if cost <= left + c]
            if rivals:
                out(pid, rank, False, "tie_lost",
                    f"tie on {score:g} votes lost to {', '.join(rivals)}; cost {cost} > {left} left")
            else:
                out(pid, rank, False, "did_not_fit", f"cost {cost} > {left} left")
    notes = [] if groups else ["no exclusive groups given: the same as greedy"]
    return {"rule": "greedy-exclusive", "tie_break": tie_break, "budget": p.budget, "cost": spent,
            "selected": selected, "notes": notes, "outcomes": outcomes, "quota_reports": []}

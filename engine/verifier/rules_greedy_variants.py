"""``for-against`` and ``greedy-exclusive`` in plain Python (standard library only), for the verifier.

Independent re-implementations of ``engine/rules/for_against.py`` and
``engine/rules/exclusive.py`` with the same outcome texts. ``for-against`` computes the
scores from the problem's ``votes_for`` / ``votes_against`` (per project, problem order)
and runs the verifier's own greedy (``rules_reference.greedy_rule``, quotas included);
``greedy-exclusive`` is the verifier's greedy walk (``rules_reference.greedy``) with the
problem's ``exclusive`` groups (a sequence of ``(name, member ids)``). Both are registered
in ``counts.ALL_RULES``: for-against envelopes, and envelopes with ``rule =
"greedy-exclusive"`` whose groups ``election.json`` publishes (``counts.ExclusiveProblem``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .rules_reference import Problem
from .rules_reference import greedy as reference_greedy

Greedy = Callable[[Any, str], dict[str, Any]]
_TIE = re.compile(r"^tie on \S+ votes lost to")


def for_against(p: Any, tie_break: str, greedy: Greedy, stop: Greedy | None = None) -> dict[str, Any]:
    """Greedy (``stop``: the verifier's greedy-stop) on ``for - against``."""
    vf, va = list(p.votes_for), list(p.votes_against)
    if min(vf + va, default=0) < 0:
        raise ValueError("for and against counts must be >= 0")
    net = tuple(float(f - a) for f, a in zip(vf, va, strict=True))
    walk = Problem(tuple(p.ids), tuple(p.costs), net, p.budget, p.threshold, tuple(getattr(p, "quotas", ())))
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
    res = reference_greedy(p, tie_break, exclusive=groups)
    notes = [] if groups else ["no exclusive groups given: the same as greedy"]
    return {**res, "rule": "greedy-exclusive", "notes": notes}

"""Majority judgment in plain Python (standard library only), for the standalone verifier.

An independent re-implementation of ``engine/rules/grades.py`` (which uses numpy): it
counts the grades itself from the published ballots, finds each project's lower median by
walking the grades upwards from the lowest (the engine counts downwards from the highest),
orders the projects by the Balinski–Laraki majority gauge (or Fabre's typical judgment) and
fills the budget with the verifier's own greedy (with quotas), writing the same outcome
texts, so that every field can be compared.

The problem object is duck-typed: ``ids``, ``costs``, ``budget``, ``threshold``, ``quotas``
(as ``engine.verifier.rules_reference.Problem``) plus ``grade_names`` (lowest first),
``default_grade`` (index counted for a project a ballot does not grade) and
``grade_ballots`` (one ``{project id: grade index}`` mapping per counted ballot).
O(ballots x grades given + P log P).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .rules_reference import Problem

Greedy = Callable[[Any, str], dict[str, Any]]


def grade_counts(ids: Sequence[str], n_grades: int, default_grade: int,
                 ballots: Sequence[Mapping[str, int]]) -> list[list[int]]:
    """Per project, the number of ballots giving each grade (ungraded = ``default_grade``)."""
    counts = {pid: [0] * n_grades for pid in ids}
    for b in ballots:
        for pid in ids:
            g = b.get(pid, default_grade)
            if not 0 <= g < n_grades:
                raise ValueError(f"grade {g} of project {pid!r} is not on the scale")
            counts[pid][g] += 1
    return [counts[pid] for pid in ids]


def lower_median(row: Sequence[int], default_grade: int) -> tuple[int, int, int]:
    """(majority grade, voters above it, voters below it) from one project's grade counts."""
    n = sum(row)
    if n == 0:
        return default_grade, 0, 0
    target = (n - 1) // 2  # 0-based position of the lower median among the sorted grades
    seen = 0
    for g, c in enumerate(row):
        if seen + c > target:
            return g, sum(row[g + 1:]), seen
        seen += c
    raise AssertionError("unreachable")


def _key(m: tuple[int, int, int], typical: bool) -> tuple[int, ...]:
    a, p, q = m
    if typical:
        return (a, p - q)
    return (a, 1, p) if p > q else (a, 0, -q)


def _pct(x: int, n: int) -> str:
    return f"{100 * x / n:.1f} %" if n else "0 %"


def _profile_text(names: Sequence[str], row: Sequence[int], m: tuple[int, int, int], typical: bool) -> str:
    a, p, q = m
    n = sum(row)
    text = (f"grades (lowest first) {', '.join(f'{nm}: {c}' for nm, c in zip(names, row, strict=True))} "
            f"of {n} voters; majority grade {names[a]}; {_pct(p, n)} above, {_pct(q, n)} below")
    if typical:
        return text + f" (difference {_pct(p - q, n)})"
    return text + f": gauge {names[a]}{'+' if p > q else '-'}"


def _why(names: Sequence[str], n: int, m: tuple[int, int, int], prev_id: str, pm: tuple[int, int, int],
         typical: bool, tie_break: str) -> str:
    a, p, q = m
    pa, pp, pq = pm
    head = f"ranked after {prev_id}: "
    if a < pa:
        return head + f"lower majority grade ({names[a]} < {names[pa]})"
    if _key(m, typical) == _key(pm, typical):
        return head + f"same majority gauge, tie broken by {tie_break}"
    if typical:
        return head + f"same majority grade, smaller difference above - below ({_pct(p - q, n)} < {_pct(pp - pq, n)})"
    if pp > pq and not p > q:
        return head + f"same majority grade, but no more voters above it than below ({names[a]}- after {names[pa]}+)"
    if p > q:
        return head + f"same majority grade, fewer voters above it ({_pct(p, n)} < {_pct(pp, n)})"
    return head + f"same majority grade, more voters below it ({_pct(q, n)} > {_pct(pq, n)})"


_TIE = re.compile(r"^tie on \S+ votes lost to")


def majority_judgment(p: Any, tie_break: str, greedy: Greedy, typical: bool = False) -> dict[str, Any]:
    """``majority-judgment`` (``typical``: ``-typical``); ``greedy`` is the verifier's greedy
    that honours quotas (``rules_reference.greedy_rule``)."""
    names = tuple(p.grade_names)
    counts = grade_counts(p.ids, len(names), p.default_grade, p.grade_ballots)
    med = [lower_median(row, p.default_grade) for row in counts]
    keys = [_key(m, typical) for m in med]
    rank_of = {k: r for r, k in enumerate(sorted(set(keys)))}
    walk = Problem(tuple(p.ids), tuple(p.costs), tuple(float(rank_of[k]) for k in keys), p.budget,
                 float("-inf"), tuple(getattr(p, "quotas", ())))
    res = greedy(walk, tie_break)
    index = {pid: j for j, pid in enumerate(p.ids)}
    n = len(p.grade_ballots)
    prev: int | None = None
    outcomes: list[dict[str, Any]] = []
    for o in res["outcomes"]:
        j = index[o["project_id"]]
        why = ("ranked first: best majority gauge" if prev is None
               else _why(names, n, med[j], p.ids[prev], med[prev], typical, tie_break))
        detail = o["detail"]
        if o["reason"] == "tie_lost":
            detail = _TIE.sub("tie on the majority gauge lost to", detail)
        text = f"{_profile_text(names, counts[j], med[j], typical)}; {why}" + (f"; {detail}" if detail else "")
        outcomes.append({**o, "detail": text})
        prev = j
    notes = list(res["notes"])
    if p.threshold > 0:
        notes.append(f"vote threshold {p.threshold:g} not applied: grades are not votes")
    return {**res, "rule": "majority-judgment-typical" if typical else "majority-judgment",
            "outcomes": outcomes, "notes": notes}


GRADE_RULES = ("majority-judgment", "majority-judgment-typical")


def grade_rules(greedy: Greedy) -> dict[str, Greedy]:
    """Rule name -> stdlib function for the majority-judgment rules of ``engine.rules.RULES``."""
    return {
        "majority-judgment": lambda p, tb: majority_judgment(p, tb, greedy),
        "majority-judgment-typical": lambda p, tb: majority_judgment(p, tb, greedy, typical=True),
    }

"""Tie-breaks of the verifier: the one place that orders projects (greedy, MES, exact use it).

A deliberate independent copy of ``engine/rules/tiebreak.py`` (``natural_key``, the
``votes-cost-id`` / ``votes-id`` / ``lexicographic`` orders): the verifier recomputes the
allocation without importing the code it checks. ``p`` is any object with ``ids``,
``costs`` and ``scores`` (:class:`engine.verifier.rules_reference.Problem`).
"""

from __future__ import annotations

from typing import Any

TIE_BREAKS = ("votes-cost-id", "votes-id", "lexicographic")


def natural_key(text: str) -> tuple:
    """Sort key: digit runs compare as numbers (``P2`` < ``P10``), the rest as text."""
    out: list[tuple[int, int | str]] = []
    num = word = ""
    for ch in text:
        if ch.isdigit():
            if word:
                out.append((1, word))
                word = ""
            num += ch
        else:
            if num:
                out.append((0, int(num)))
                num = ""
            word += ch
    if num:
        out.append((0, int(num)))
    if word:
        out.append((1, word))
    return tuple(out)


def project_order(p: Any, tie_break: str) -> list[int]:
    """Project indices by votes (descending), then the tie-break; O(n log n)."""
    idx = range(len(p.ids))
    if tie_break == "votes-cost-id":
        return sorted(idx, key=lambda i: (-p.scores[i], p.costs[i], natural_key(p.ids[i])))
    if tie_break == "votes-id":
        return sorted(idx, key=lambda i: (-p.scores[i], natural_key(p.ids[i])))
    if tie_break == "lexicographic":
        return sorted(idx, key=lambda i: (-p.scores[i], p.ids[i]))
    raise ValueError(f"unknown tie-break {tie_break!r}")




def tie_rank(p: Any, tie_break: str) -> list[int]:
    """Each project's position in the tie-break order (lower wins a tie); ``lexicographic``
    ranks by id alone."""
    if tie_break == "lexicographic":
        order = sorted(range(len(p.ids)), key=lambda i: p.ids[i])
    else:
        order = project_order(p, tie_break)
    rank = [0] * len(order)
    for r, i in enumerate(order):
        rank[i] = r
    return rank

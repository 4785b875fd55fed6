"""Pricing a new panel by *types* of people: the column-generation step of ``leximin``, faster.

The pricing problem is "the quota-respecting panel with the largest total weight". People
with the same coefficients in every panel row (the same feature values and, with the
household rule, the same household) are interchangeable: any panel can swap one for
another. So the ILP needs one integer per *type* (how many of that type sit), not one
binary per person: with 3 features there are at most a few dozen types for thousands of
people, and no symmetric branching. Given the counts, the best panel takes the heaviest
members of each type; that choice is modelled by continuous variables ``z`` (one per
member of positive weight, ``Σ z ≤ count``), whose LP optimum is the top of each type, so
only the counts are integer. With the household rule, people sharing an address have a
household row of their own, so most of them are types of one: no gain there.

Definition: the same optimum value as the per-person ILP
(:func:`engine.sortition.maximin._best_panel`). Tie-break: within a type, heavier first,
then the lower person index; across types, the counts HiGHS returns (deterministic for one
HiGHS version). Complexity: one small ILP (types integers + members of positive weight
continuous) per call; the types are computed once, O(nonzeros of the rows).
"""

from __future__ import annotations

import numpy as np

from engine.sortition.solver import Row, solve


def person_types(rows: list[Row], upper: np.ndarray) -> list[tuple[int, ...]]:
    """People who may sit (``upper > 0``) grouped by their coefficients in every row, each
    group in index order, groups in order of their first member."""
    n = len(upper)
    sig: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for r, (coeffs, _lo, _hi) in enumerate(rows):
        for i, v in coeffs.items():
            sig[i].append((r, v))
    groups: dict[tuple[tuple[int, float], ...], list[int]] = {}
    for i in range(n):
        if upper[i] > 0:
            groups.setdefault(tuple(sig[i]), []).append(i)
    return [tuple(g) for g in groups.values()]


def best_panel_by_type(weights: np.ndarray, rows: list[Row], types: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    """The heaviest panel (module docstring), or None when no panel exists."""
    t_count = len(types)
    type_of: dict[int, int] = {}
    for t, members in enumerate(types):
        for i in members:
            type_of[i] = t
    # columns: counts c_0..c_{T-1} (integer), then z for each member of positive weight
    heavy: list[tuple[int, int]] = []  # (type, person)
    for t, members in enumerate(types):
        heavy.extend((t, i) for i in members if weights[i] > 0)
    m = t_count + len(heavy)
    new_rows: list[Row] = []
    for coeffs, lo, hi in rows:
        by_type: dict[int, float] = {}
        for i, v in coeffs.items():
            kind = type_of.get(i)
            if kind is not None and kind not in by_type:  # same coefficient for every member of a type
                by_type[kind] = v
        new_rows.append((by_type, lo, hi))
    link: dict[int, dict[int, float]] = {t: {t: -1.0} for t in range(t_count)}
    for k, (t, _i) in enumerate(heavy):
        link[t][t_count + k] = 1.0
    new_rows += [(link[t], -np.inf, 0.0) for t in range(t_count) if len(link[t]) > 1]
    cost = np.zeros(m)
    for k, (_t, i) in enumerate(heavy):
        cost[t_count + k] = -weights[i]
    upper = np.concatenate([[float(len(g)) for g in types], np.ones(len(heavy))])
    integer = np.concatenate([np.ones(t_count, dtype=bool), np.zeros(len(heavy), dtype=bool)])
    sol = solve(cost, new_rows, np.zeros(m), upper, integer)
    if sol.status != "optimal":
        return None
    panel: list[int] = []
    for t, members in enumerate(types):
        count = int(round(sol.x[t]))
        panel.extend(sorted(members, key=lambda i: (-weights[i], i))[:count])
    return tuple(sorted(panel))

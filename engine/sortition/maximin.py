"""``maximin``: the fairest lottery over quota-respecting panels (Flanigan et al., Nature 2021).

Definition. A *panel* is a set of ``size`` people from the pool that meets every quota
(``min <= number with feature=value <= max``) and, with the household rule, holds at most
one person per household. A *lottery* gives each panel a probability; a person's selection
probability is the total probability of the panels that contain them. ``maximin`` finds a
lottery that maximises the smallest selection probability over the people who are in at
least one panel (people in no panel at all get 0, and the record says so).

Algorithm (column generation, all with HiGHS):

1. Coverage: repeatedly solve the ILP "a panel with as many not-yet-covered people as
   possible"; each answer is a first panel. When the best panel covers nobody new, the
   people still uncovered cannot sit on any panel.
2. Master LP over the panels found: maximise ``z`` subject to ``sum_{C ∋ i} p_C >= z`` for
   every coverable person ``i``, ``sum_C p_C = 1``, ``p >= 0``. Its duals ``y_i`` (a weight
   per person, summing to 1) price new panels: the ILP "panel maximising ``sum_{i∈C} y_i``"
   is solved; if its value exceeds ``z`` by more than 1e-7 the panel joins the LP and the
   loop repeats, otherwise the lottery is maximin-optimal (LP duality).
3. The LP's probabilities become integer weights ``w_C = round(p_C * 2**32)`` (panels with
   weight 0 dropped); panels are listed in the natural order of their sorted member ids.
   From then on everything is exact integer arithmetic: person ``i``'s probability is
   ``sum_{C ∋ i} w_C / W`` with ``W = sum_C w_C``.

Tie-break: among maximin lotteries, the one HiGHS returns (deterministic for a given HiGHS
version: one thread, solver seed 0, people in id order). Only the smallest probability is
optimised; others may differ between equally fair lotteries.

Complexity: one ILP per coverage panel (about pool/size) plus one LP and one ILP per column
generation round; ILPs are NP-hard in general but take milliseconds for pools of hundreds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.rules.tiebreak import natural_key
from engine.sortition.pool import Features, Pool, SortitionInputError
from engine.sortition.solver import Row, solve

WEIGHT_SCALE = 1 << 32
_EPS = 1e-7


class WeightedLottery:
    """What every lottery shares: integer ``weights`` whose sum ``W`` is the denominator of
    every probability and of the draw's ticket."""

    weights: tuple[int, ...]

    @property
    def total(self) -> int:
        """The sum of the weights: ``W``."""
        return sum(self.weights)


@dataclass(frozen=True)
class Lottery(WeightedLottery):
    """Panels (tuples of pool indices, ascending) with integer weights; ``impossible``:
    people who are on no quota-respecting panel."""

    panels: tuple[tuple[int, ...], ...]
    weights: tuple[int, ...]
    impossible: tuple[int, ...]
    rounds: int

    def probabilities(self, n: int) -> list[tuple[int, int]]:
        """Per person, ``(weight of the panels holding them, W)``."""
        acc = [0] * n
        for panel, w in zip(self.panels, self.weights, strict=True):
            for i in panel:
                acc[i] += w
        return [(a, self.total) for a in acc]


def panel_rows(pool: Pool, features: Features, size: int) -> list[Row]:
    """The ILP rows every panel satisfies (size, quotas, households) over people 0..n-1."""
    n = len(pool.ids)
    rows: list[Row] = [({i: 1.0 for i in range(n)}, float(size), float(size))]
    for q in features.quotas:
        members = {i: 1.0 for i in range(n) if pool.value(i, q.feature) == q.value}
        rows.append((members, float(q.min), float(q.max)))
    if pool.household is not None:
        groups: dict[int, list[int]] = {}
        for i, h in enumerate(pool.household):
            groups.setdefault(h, []).append(i)
        for members_list in groups.values():
            if len(members_list) > 1:
                rows.append(({i: 1.0 for i in members_list}, 0.0, 1.0))
    return rows


def _best_panel(weights: np.ndarray, rows: list[Row], upper: np.ndarray) -> tuple[int, ...] | None:
    n = len(weights)
    sol = solve(-weights, rows, np.zeros(n), upper, np.ones(n, dtype=bool))
    if sol.status != "optimal":
        return None
    return tuple(int(i) for i in np.nonzero(sol.x > 0.5)[0])


def explain_infeasible(pool: Pool, features: Features, size: int) -> str:
    """Which quota bounds cannot be met together: the fewest-violations relaxation (an ILP
    with a slack per bound, minimising total slack), worded per feature=value."""
    n = len(pool.ids)
    base = panel_rows(pool, features, size)
    nq = len(features.quotas)
    # columns: x_0..x_{n-1}, then per quota a "below min" slack and an "above max" slack
    rows: list[Row] = [base[0]]
    for k, (coeffs, lo, hi) in enumerate(base[1:1 + nq]):
        lo_slack, hi_slack = n + 2 * k, n + 2 * k + 1
        rows.append(({**coeffs, lo_slack: 1.0}, lo, np.inf))
        rows.append(({**coeffs, hi_slack: -1.0}, -np.inf, hi))
    rows.extend(base[1 + nq:])
    m = n + 2 * nq
    cost = np.concatenate([np.zeros(n), np.ones(2 * nq)])
    sol = solve(cost, rows, np.zeros(m), np.concatenate([np.ones(n), np.full(2 * nq, float(n))]),
                np.ones(m, dtype=bool))
    if sol.status != "optimal":
        return "no panel exists even without quotas (household rule and panel size conflict)"
    parts = []
    for k, q in enumerate(features.quotas):
        below, above = round(sol.x[n + 2 * k]), round(sol.x[n + 2 * k + 1])
        if below:
            parts.append(f"{q.feature}={q.value}: at least {q.min} wanted, at most {q.min - below} possible "
                         "together with the other quotas")
        if above:
            parts.append(f"{q.feature}={q.value}: at most {q.max} wanted, at least {q.max + above} needed "
                         "together with the other quotas")
    return "; ".join(parts) or "the quotas conflict"


def coverage(pool: Pool, features: Features, size: int) -> tuple[list[Row], list[tuple[int, ...]], np.ndarray]:
    """Step 1: the panel rows, first panels covering everyone who can sit, and who can."""
    n = len(pool.ids)
    rows = panel_rows(pool, features, size)
    panels: list[tuple[int, ...]] = []
    covered = np.zeros(n, dtype=bool)
    while True:
        panel = _best_panel((~covered).astype(np.float64), rows, np.ones(n))
        if panel is None:
            raise SortitionInputError("no panel meets the quotas: " + explain_infeasible(pool, features, size))
        if not panels or not covered[list(panel)].all():
            panels.append(panel)
        new = [i for i in panel if not covered[i]]
        covered[list(panel)] = True
        if not new or covered.all():
            return rows, panels, covered


def to_lottery(pool: Pool, panels: list[tuple[int, ...]], p: np.ndarray, covered: np.ndarray,
               rounds: int) -> Lottery:
    """Step 3: integer weights ``round(p * 2**32)``, panels in natural order of their ids."""
    p = np.clip(p, 0.0, 1.0)
    weighted = [(tuple(panels[c]), int(round(float(p[c]) * WEIGHT_SCALE))) for c in range(len(panels))]
    weighted = [(pc, w) for pc, w in weighted if w > 0]
    weighted.sort(key=lambda t: tuple(natural_key(pool.ids[i]) for i in t[0]))
    impossible = tuple(i for i in range(len(pool.ids)) if not covered[i])
    return Lottery(tuple(pc for pc, _ in weighted), tuple(w for _, w in weighted), impossible, rounds)


def maximin(pool: Pool, features: Features, size: int, max_rounds: int = 2000) -> Lottery:
    """The maximin lottery (see the module docstring); raises SortitionInputError with the
    reason when no panel meets the quotas."""
    n = len(pool.ids)
    rows, panels, covered = coverage(pool, features, size)
    agents = [i for i in range(n) if covered[i]]
    upper = covered.astype(np.float64)  # the impossible never sit
    rounds = 0
    while True:
        rounds += 1
        m = len(panels)
        # columns p_0..p_{m-1}, z; minimise -z
        cost = np.zeros(m + 1)
        cost[m] = -1.0
        lp_rows: list[Row] = []
        holding: dict[int, dict[int, float]] = {i: {} for i in agents}
        for c, panel in enumerate(panels):
            for i in panel:
                holding[i][c] = 1.0
        for i in agents:
            lp_rows.append(({**holding[i], m: -1.0}, 0.0, np.inf))
        lp_rows.append(({c: 1.0 for c in range(m)}, 1.0, 1.0))
        sol = solve(cost, lp_rows, np.zeros(m + 1), np.concatenate([np.ones(m), [1.0]]))
        z = float(sol.x[m])
        y = np.zeros(n)
        duals = np.abs(sol.row_dual[:len(agents)])
        if duals.sum() > 0:
            y[agents] = duals / duals.sum()
        priced = _best_panel(y, rows, upper)
        value = float(sum(y[i] for i in priced)) if priced else 0.0
        if priced is None or value <= z + _EPS or priced in panels or rounds >= max_rounds:
            break
        panels.append(priced)
    return to_lottery(pool, panels, sol.x[:m], covered, rounds)


def meets_quotas(pool: Pool, features: Features, size: int, panel: tuple[int, ...]) -> list[str]:
    """Reasons a panel breaks the rules (empty when it meets them all). Exact, no solver."""
    problems = []
    if len(panel) != size:
        problems.append(f"{len(panel)} members instead of {size}")
    for q in features.quotas:
        k = sum(1 for i in panel if pool.value(i, q.feature) == q.value)
        if not q.min <= k <= q.max:
            problems.append(f"{q.feature}={q.value}: {k} members, quota {q.min}..{q.max}")
    if pool.household is not None:
        seen: dict[int, str] = {}
        for i in panel:
            h = pool.household[i]
            if h in seen:
                problems.append(f"{seen[h]} and {pool.ids[i]} share a household")
            seen[h] = pool.ids[i]
    return problems

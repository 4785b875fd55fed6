"""``leximin`` in type space: the same selection probabilities, for pools of any size.

Definition: as :mod:`engine.sortition.leximin` — among all lotteries over quota-respecting
panels, the one whose sorted vector of selection probabilities is lexicographically
largest. People with the same coefficients in every panel row (the same feature values
and, under the household rule, the same household: :func:`engine.sortition.pricing.person_types`)
are interchangeable, and the leximin probabilities are unique, so people of one *type* get
the same probability. The lottery is therefore built over *compositions* — how many people
of each type sit (``c_t``, ``0 <= c_t <= n_t``, meeting the size and every quota) — and a
panel is drawn in two steps: a composition from the lottery, then ``c_t`` members of each
type uniformly at random. A person of type ``t`` sits with probability
``Σ_c p_c c_t / n_t``.

Algorithm (Flanigan et al.'s column generation, over types): coverage first (compositions
until every type that can sit has sat once); then, stage by stage until every type has a
fixed probability, the dual LP over the compositions found so far

    minimise ŷ − Σ_{t fixed} f_t y_t   s.t.  Σ_t (c_t / n_t) y_t ≤ ŷ for every composition c,
                                              Σ_{t not fixed} y_t = 1,  y, ŷ ≥ 0,

priced by the ILP "composition maximising Σ_t c_t y_t / n_t" (one integer per type); an
improving composition is added, otherwise every unfixed type with ``y_t > 1e-7`` is fixed at
the LP's value. The final primal LP "minimise ε s.t. Σ_c p_c = 1, Σ_c p_c c_t / n_t ≥ f_t − ε"
gives the composition probabilities, turned into integer weights ``round(p · 2**32)``.

Tie-break: the probabilities are unique; the lottery is the one HiGHS returns
(deterministic for one HiGHS version); compositions are listed in ascending order of their
count vectors, types in order of their first member (pool id order). Complexity: a few
LPs and small ILPs per type (a few dozen types for thousands of people with three features),
independent of the number of people; the per-person algorithm
(:mod:`engine.sortition.leximin`) has one LP column per person and about one panel per
person, which did not finish in 15 minutes at 1,000 people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.sortition.leximin import to_fix
from engine.sortition.maximin import WEIGHT_SCALE, WeightedLottery, explain_infeasible, panel_rows
from engine.sortition.pool import Features, Pool, SortitionInputError
from engine.sortition.pricing import person_types
from engine.sortition.seed import SeedStream
from engine.sortition.solver import Row, solve

_EPS = 1e-7


@dataclass(frozen=True)
class TypeLottery(WeightedLottery):
    """Compositions (a count per type) with integer weights; ``types``: the members of each
    type (pool indices, ascending); ``impossible``: people on no quota-respecting panel."""

    types: tuple[tuple[int, ...], ...]
    compositions: tuple[tuple[int, ...], ...]
    weights: tuple[int, ...]
    impossible: tuple[int, ...]
    rounds: int

    def probabilities(self, n: int) -> list[tuple[int, int]]:
        """Per person of type ``t``: ``(Σ_c w_c c_t, W n_t)``; ``(0, W)`` for the impossible."""
        out = [(0, self.total)] * n
        for t, members in enumerate(self.types):
            num = sum(w * c[t] for c, w in zip(self.compositions, self.weights, strict=True))
            for i in members:
                out[i] = (num, self.total * len(members))
        return out


def _type_rows(rows: list[Row], types: list[tuple[int, ...]]) -> list[Row]:
    """The panel rows over type counts (every member of a type has the same coefficient)."""
    first = {members[0]: t for t, members in enumerate(types)}
    out: list[Row] = []
    for coeffs, lo, hi in rows:
        out.append(({first[i]: v for i, v in coeffs.items() if i in first}, lo, hi))
    return out


def _best_composition(weights: np.ndarray, rows: list[Row], sizes: np.ndarray) -> tuple[int, ...] | None:
    """The composition maximising ``weights @ c`` (an ILP over one integer per type)."""
    sol = solve(-weights, rows, np.zeros(len(sizes)), sizes.astype(np.float64), np.ones(len(sizes), dtype=bool))
    if sol.status != "optimal":
        return None
    return tuple(int(round(v)) for v in sol.x)


def leximin_types(pool: Pool, features: Features, size: int, max_rounds: int = 20000) -> TypeLottery:
    """The leximin lottery over compositions (module docstring); SortitionInputError explains
    infeasibility (which quota bounds cannot be met together)."""
    n = len(pool.ids)
    rows = panel_rows(pool, features, size)
    types = person_types(rows, np.ones(n))
    t_rows = _type_rows(rows, types)
    sizes = np.array([len(m) for m in types], dtype=np.float64)
    k = len(types)
    comps: list[tuple[int, ...]] = []
    covered = np.zeros(k, dtype=bool)
    while True:  # coverage: every type that can sit, once
        comp = _best_composition((~covered).astype(np.float64), t_rows, sizes)
        if comp is None:
            raise SortitionInputError("no panel meets the quotas: " + explain_infeasible(pool, features, size))
        new = [t for t in range(k) if comp[t] > 0 and not covered[t]]
        if comp not in comps:
            comps.append(comp)
        covered[[t for t in range(k) if comp[t] > 0]] = True
        if not new or covered.all():
            break
    agents = [t for t in range(k) if covered[t]]
    fixed: dict[int, float] = {}
    rounds = 0
    while len(fixed) < len(agents) and rounds < max_rounds:
        rounds += 1
        # columns y_t (t in agents, by position), then ŷ
        pos = {t: j for j, t in enumerate(agents)}
        a = len(agents)
        cost = np.zeros(a + 1)
        cost[a] = 1.0
        for t, f in fixed.items():
            cost[pos[t]] = -f
        lp_rows: list[Row] = [({pos[t]: 1.0 for t in agents if t not in fixed}, 1.0, 1.0)]
        for c in comps:
            lp_rows.append(({**{pos[t]: c[t] / sizes[t] for t in agents if c[t]}, a: -1.0}, -np.inf, 0.0))
        sol = solve(cost, lp_rows, np.zeros(a + 1), np.full(a + 1, np.inf))
        if sol.status != "optimal":  # numerically infeasible: loosen the fixed values a little
            fixed = {t: max(0.0, f - 1e-4) for t, f in fixed.items()}
            continue
        y = np.zeros(k)
        y[agents] = np.maximum(sol.x[:a], 0.0)
        cap, value_lp = float(sol.x[a]), float(sol.objective)
        comp = _best_composition(y / sizes, t_rows, sizes)
        value = float(sum(y[t] * comp[t] / sizes[t] for t in range(k))) if comp else 0.0
        if comp is not None and value > cap + _EPS and comp not in comps:
            comps.append(comp)
            continue
        for t in to_fix(agents, fixed, y):
            fixed[t] = max(0.0, value_lp)
    m = len(comps)
    prow: list[Row] = [({c: 1.0 for c in range(m)}, 1.0, 1.0)]
    for t in agents:
        prow.append(({**{c: comps[c][t] / sizes[t] for c in range(m) if comps[c][t]}, m: 1.0},
                     fixed.get(t, 0.0), np.inf))
    cost = np.zeros(m + 1)
    cost[m] = 1.0
    sol = solve(cost, prow, np.zeros(m + 1), np.concatenate([np.ones(m), [np.inf]]))
    if sol.x[m] > 1e-6:
        raise RuntimeError(f"leximin: the final lottery misses the fixed probabilities by {sol.x[m]:.2e}")
    p = np.clip(sol.x[:m], 0.0, 1.0)
    weighted = sorted((comps[c], int(round(float(p[c]) * WEIGHT_SCALE))) for c in range(m))
    weighted = [(c, w) for c, w in weighted if w > 0]
    impossible = tuple(sorted(i for t in range(k) if not covered[t] for i in types[t]))
    return TypeLottery(tuple(types), tuple(c for c, _ in weighted), tuple(w for _, w in weighted), impossible,
                       rounds)


def draw_from_types(lottery: TypeLottery, stream: SeedStream) -> tuple[int, tuple[int, ...]]:
    """``(ticket, panel)``: ticket ``stream.below(W)`` picks the first composition whose
    cumulative weight exceeds it; then, type by type in order, ``c_t`` members are taken by a
    partial Fisher–Yates shuffle of the type's members (ascending), swap index
    ``j + stream.below(n_t - j)`` for ``j = 0 .. c_t − 1``. O(compositions + panel size)."""
    ticket = stream.below(lottery.total)
    acc = 0
    chosen: tuple[int, ...] | None = None
    for comp, w in zip(lottery.compositions, lottery.weights, strict=True):
        acc += w
        if ticket < acc:
            chosen = comp
            break
    if chosen is None:
        raise AssertionError("ticket beyond the lottery's total weight")
    panel: list[int] = []
    for members, count in zip(lottery.types, chosen, strict=True):
        deck = list(members)
        for j in range(count):
            r = j + stream.below(len(deck) - j)
            deck[j], deck[r] = deck[r], deck[j]
        panel.extend(deck[:count])
    return ticket, tuple(sorted(panel))

"""``leximin``: maximin, then the second-smallest probability as large as possible, and so on.

Definition: among all lotteries over quota-respecting panels, the one whose vector of
selection probabilities, sorted ascending, is lexicographically largest (Flanigan et al.,
"Fair algorithms for selecting citizens' assemblies", Nature 2021; the Sortition
Foundation's default). People who are on no panel get 0, as with ``maximin``.

Algorithm (the paper's, with HiGHS simplex instead of Gurobi's barrier): start from the
coverage panels of :func:`engine.sortition.maximin.coverage`. Repeat until everyone has a
fixed probability: solve, over the panels found so far, the dual LP

    minimise ŷ − Σ_{i fixed} f_i y_i   s.t.  Σ_{i∈C} y_i ≤ ŷ for every panel C,
                                              Σ_{i not fixed} y_i = 1,  y, ŷ ≥ 0;

price a new panel with the ILP "panel maximising Σ_{i∈C} y_i" (over types of
interchangeable people, :mod:`engine.sortition.pricing`: a few dozen integers instead of
one binary per person); if it beats ŷ by more than
1e-7 add it (and one more panel priced with its members at weight 0, when that one beats
ŷ too: half the LP solves) and solve again, otherwise every unfixed person with ``y_i > 1e-7`` is fixed at
the LP's value (the largest minimum the unfixed can share). Finally the primal LP
"minimise ε s.t. Σ_C p_C = 1, Σ_{C∋i} p_C ≥ f_i − ε" gives the panel probabilities, turned
into integer weights as for ``maximin`` (:func:`engine.sortition.maximin.to_lottery`).

Tie-break: the leximin probabilities are unique; the lottery realising them is the one
HiGHS returns (deterministic for one HiGHS version). If numerical trouble leaves no person
to fix in a stage, the unfixed person with the largest dual weight is fixed (reported in
``Lottery.rounds`` only). Complexity: at most one stage per person, each a column generation
like ``maximin``'s; seconds for pools of a few hundred.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engine.sortition.maximin import Lottery, _best_panel, coverage, to_lottery
from engine.sortition.pool import Features, Pool
from engine.sortition.pricing import best_panel_by_type, person_types
from engine.sortition.solver import IncrementalLP, Row, solve

_EPS = 1e-7


def to_fix(agents: list[int], fixed: Mapping[int, float], y: np.ndarray, eps: float = _EPS) -> list[int]:
    """The end of a leximin level: the unfixed agents (people or types) whose dual weight
    exceeds ``eps`` (their probability cannot be raised further); if numerical trouble leaves
    none, the unfixed one with the largest weight (then the lowest index)."""
    newly = [i for i in agents if i not in fixed and y[i] > eps]
    return newly or [max((i for i in agents if i not in fixed), key=lambda i: (y[i], -i))]


def leximin(pool: Pool, features: Features, size: int, max_rounds: int = 20000, fix_eps: float = _EPS,
            pricing: str = "types", warm: bool = True, extra: int = 1) -> Lottery:
    """The leximin lottery (module docstring); SortitionInputError explains infeasibility.

    ``pricing``: ``"types"`` (default) prices panels over types of interchangeable people
    (:mod:`engine.sortition.pricing`); ``"people"`` with one binary per person (the
    benchmark's baseline; same optimum values, possibly another lottery). ``warm``: each
    stage changes the previous stage's LP (costs of the newly fixed, the equality row) and
    re-solves from its basis, instead of rebuilding it (``False``: the baseline). ``extra``:
    after an improving panel, up to this many more from the same duals, each priced with the
    earlier ones' members at weight 0 and kept if it also beats the LP (fewer LP solves;
    ``0``: one panel per round, the baseline)."""
    n = len(pool.ids)
    rows, panels, covered = coverage(pool, features, size)
    agents = [i for i in range(n) if covered[i]]
    col = {i: k for k, i in enumerate(agents)}
    a = len(agents)
    upper = covered.astype(np.float64)
    fixed: dict[int, float] = {}
    types = person_types(rows, upper)

    def price(y: np.ndarray) -> tuple[int, ...] | None:
        return best_panel_by_type(y, rows, types) if pricing == "types" else _best_panel(y, rows, upper)

    rounds = 0
    lp: IncrementalLP | None = None  # the current stage's dual LP, grown one panel at a time
    in_lp = 0
    while len(fixed) < a and rounds < max_rounds:
        rounds += 1
        if lp is None:
            cost = np.zeros(a + 1)
            cost[a] = 1.0
            for i, f in fixed.items():
                cost[col[i]] = -f
            lp = IncrementalLP(cost, np.zeros(a + 1), np.full(a + 1, np.inf))
            lp.add_row({col[i]: 1.0 for i in agents if i not in fixed}, 1.0, 1.0)
            in_lp = 0
        for panel in panels[in_lp:]:
            lp.add_row({**{col[i]: 1.0 for i in panel}, a: -1.0}, -np.inf, 0.0)
        in_lp = len(panels)
        sol = lp.run()
        if sol.status != "optimal":  # numerically infeasible: loosen the fixed values a little
            fixed = {i: max(0.0, f - 1e-4) for i, f in fixed.items()}
            lp = None
            continue
        y = np.zeros(n)
        y[agents] = np.maximum(sol.x[:a], 0.0)
        cap, value_lp = float(sol.x[a]), float(sol.objective)
        priced = price(y)
        value = float(sum(y[i] for i in priced)) if priced else 0.0
        if priced is not None and value > cap + _EPS and priced not in panels:
            panels.append(priced)
            y2 = y.copy()
            for _ in range(extra):  # more improving panels from the same duals, avoiding earlier members
                y2[list(panels[-1])] = 0.0
                other = price(y2)
                if other is None or other in panels or float(sum(y[i] for i in other)) <= cap + _EPS:
                    break
                panels.append(other)
            continue
        for i in to_fix(agents, fixed, y, fix_eps):
            fixed[i] = max(0.0, value_lp)
            if warm:  # next stage on the same LP, from the current basis: i leaves row 0, gets cost -f_i
                lp.change_cost(col[i], -fixed[i])
                lp.change_coeff(0, col[i], 0.0)
        if not warm:
            lp = None  # next stage: new objective and equality row, rebuilt
    m = len(panels)
    # final primal: columns p_0..p_{m-1}, eps
    holding: dict[int, dict[int, float]] = {i: {} for i in agents}
    for c, panel in enumerate(panels):
        for i in panel:
            holding[i][c] = 1.0
    prow: list[Row] = [({c: 1.0 for c in range(m)}, 1.0, 1.0)]
    prow += [({**holding[i], m: 1.0}, fixed.get(i, 0.0), np.inf) for i in agents]
    cost = np.zeros(m + 1)
    cost[m] = 1.0
    sol = solve(cost, prow, np.zeros(m + 1), np.concatenate([np.ones(m), [np.inf]]))
    if sol.x[m] > 1e-6:
        raise RuntimeError(f"leximin: the final lottery misses the fixed probabilities by {sol.x[m]:.2e}")
    return to_lottery(pool, panels, sol.x[:m], covered, rounds)

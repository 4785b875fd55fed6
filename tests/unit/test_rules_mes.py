"""Method of Equal Shares: a worked example, an exact-arithmetic reference, invariants."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules import RULES, AllocationProblem, ApprovalProfile


def problem_from(ballots: list[list[str]], costs: dict[str, int], budget: int) -> AllocationProblem:
    ids = tuple(costs)
    index = {p: j for j, p in enumerate(ids)}
    votes = [float(sum(p in b for b in ballots)) for p in ids]
    profile = ApprovalProfile.from_ballots(len(ids), [[index[p] for p in b] for b in ballots])
    return AllocationProblem(ids, tuple(costs[p] for p in ids), tuple(votes), budget, profile=profile)


# 4 voters, budget 100 (25 each). A (60) by v1-v3, B (40) by v1 and v4, C (30) by v4.
WORKED = problem_from([["A", "B"], ["A"], ["A"], ["B", "C"]], {"A": 60, "B": 40, "C": 30}, 100)


def test_worked_example_mes() -> None:
    r = RULES["mes"](WORKED, "votes-cost-id")
    # A: 3 supporters pay 20 each (rho 1/3). Then B's supporters hold 5 + 25 < 40, C's 25 < 30.
    assert r.selected == ("A",)
    assert r.cost == 60
    reasons = {o.project_id: o.reason for o in r.outcomes}
    assert reasons == {"A": "funded", "B": "not_affordable", "C": "not_affordable"}
    assert "had 30.00 left" in r.outcome("B").detail  # type: ignore[union-attr]


def test_worked_example_completions() -> None:
    assert RULES["greedy"](WORKED, "votes-cost-id").selected == ("A", "B")
    g = RULES["mes-greedy"](WORKED, "votes-cost-id")
    assert g.selected == ("A", "B") and g.outcome("B").reason == "funded_completion"  # type: ignore[union-attr]
    # add1: with 25 + k each, B becomes affordable at k = 5 and C (which would overspend:
    # 130 > 100) only at k = 25 (v4 keeps 25 + k - 20 >= 30), so k stops at 24.
    a = RULES["mes-add1"](WORKED, "votes-cost-id")
    assert a.selected == ("A", "B")
    assert "raised by 24 from 25.00 to 49.00" in a.notes[0]


def reference_mes(ballots: list[list[str]], costs: dict[str, int], budget: int, per_voter_extra: int = 0) -> list[str]:
    """Textbook MES with cost utilities in exact fractions; ties by project id string."""
    n = len(ballots)
    money = [Fraction(budget, n) + per_voter_extra] * n
    chosen: list[str] = []
    left = {p for p in costs if costs[p] > 0 and any(p in b for b in ballots)}
    while True:
        best: tuple[Fraction, str] | None = None
        for p in sorted(left):
            supp = sorted((money[i], i) for i, b in enumerate(ballots) if p in b)
            if sum(m for m, _ in supp) < costs[p]:
                continue
            paid, k = Fraction(0), len(supp)
            for m, _ in supp:
                share = (costs[p] - paid) / k
                if share <= m:
                    break
                paid += m
                k -= 1
            rho = share / costs[p]
            if best is None or rho < best[0]:
                best = (rho, p)
        if best is None:
            return chosen
        rho, p = best
        for i, b in enumerate(ballots):
            if p in b:
                money[i] -= min(money[i], rho * costs[p])
        chosen.append(p)
        left.remove(p)


profiles = st.integers(1, 6).flatmap(
    lambda m: st.tuples(
        st.lists(st.lists(st.sampled_from([f"p{j}" for j in range(m)]), unique=True, max_size=m),
                 min_size=1, max_size=12),
        st.fixed_dictionaries({f"p{j}": st.integers(1, 60) for j in range(m)}),
        st.integers(1, 150),
    )
)


@settings(max_examples=150, deadline=None)
@given(profiles)
def test_mes_equals_exact_reference(case: tuple[list[list[str]], dict[str, int], int]) -> None:
    ballots, costs, budget = case
    ours = RULES["mes"](problem_from(ballots, costs, budget), "lexicographic")
    assert list(ours.selected) == reference_mes(ballots, costs, budget)


@settings(max_examples=100, deadline=None)
@given(profiles, st.randoms(use_true_random=False))
def test_invariants_budget_and_order(case: tuple[list[list[str]], dict[str, int], int], rnd: random.Random) -> None:
    ballots, costs, budget = case
    p1 = problem_from(ballots, costs, budget)
    shuffled_costs = dict(rnd.sample(list(costs.items()), len(costs)))
    shuffled_ballots = rnd.sample(ballots, len(ballots))
    p2 = problem_from(shuffled_ballots, shuffled_costs, budget)
    for name in ("mes", "mes-add1", "mes-greedy", "mes-add1-greedy", "mes-add1-comparison", "greedy", "exact"):
        r1 = RULES[name](p1, "votes-cost-id")
        r2 = RULES[name](p2, "votes-cost-id")
        assert r1.cost == sum(costs[p] for p in r1.selected) <= budget, name
        assert set(r1.selected) == set(r2.selected), name
        assert {o.project_id for o in r1.outcomes} == set(costs)


def test_add1_never_overspends_and_only_adds_money_per_voter() -> None:
    rnd = random.Random(5)
    for _ in range(30):
        m = rnd.randint(2, 8)
        costs = {f"p{j}": rnd.randint(5, 80) for j in range(m)}
        ballots = [rnd.sample(list(costs), rnd.randint(1, m)) for _ in range(rnd.randint(3, 15))]
        budget = rnd.randint(40, 200)
        r = RULES["mes-add1"](problem_from(ballots, costs, budget), "lexicographic")
        assert r.cost <= budget
        k = int(r.notes[0].split("raised by ")[1].split(" ")[0])
        assert list(r.selected) == reference_mes(ballots, costs, budget, k)


def test_comparison_keeps_mes_unless_greedy_is_more_popular() -> None:
    # 5 voters want the big project; 4 voters each want a different small one.
    ballots = [["BIG"]] * 5 + [["s1"], ["s2"], ["s3"], ["s4"]]
    costs = {"BIG": 90, "s1": 10, "s2": 10, "s3": 10, "s4": 10}
    p = problem_from(ballots, costs, 100)
    mes = RULES["mes"](p, "votes-cost-id")
    greedy = RULES["greedy"](p, "votes-cost-id")
    assert set(greedy.selected) == {"BIG", "s1"}
    assert set(mes.selected) != set(greedy.selected)
    comp = RULES["mes-comparison"](p, "votes-cost-id")
    # greedy satisfies the 5 BIG voters and s1's voter; MES (4 smalls + no BIG) only 4
    assert set(comp.selected) == set(greedy.selected)
    assert "greedy outcome used" in comp.notes[-1]

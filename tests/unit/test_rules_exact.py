"""``exact``: the HiGHS knapsack against brute force over all subsets."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules import RULES, AllocationProblem, Quota
from engine.rules.tiebreak import project_order

cases = st.integers(1, 9).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 100), min_size=n, max_size=n),
        st.lists(st.integers(0, 50), min_size=n, max_size=n),
        st.integers(1, 400),
        st.integers(0, 5),
    )
)


def best_welfare(costs: list[int], scores: list[int], budget: int, threshold: int,
                 quota: tuple[set[int], int, int | None] | None = None) -> float | None:
    best: float | None = None
    n = len(costs)
    for k in range(n + 1):
        for subset in combinations(range(n), k):
            if sum(costs[i] for i in subset) > budget or any(scores[i] < threshold for i in subset):
                continue
            if quota is not None:
                group, lo, hi = quota
                got = sum(costs[i] for i in subset if i in group)
                if got < lo or (hi is not None and got > hi):
                    continue
            w = sum(scores[i] for i in subset)
            best = w if best is None or w > best else best
    return best


def make(costs: list[int], scores: list[int], budget: int, threshold: int = 0,
         quotas: tuple[Quota, ...] = ()) -> AllocationProblem:
    ids = tuple(f"p{i}" for i in range(len(costs)))
    return AllocationProblem(ids, tuple(costs), tuple(float(s) for s in scores), budget, threshold, quotas)


@settings(max_examples=120, deadline=None)
@given(cases)
def test_exact_is_optimal(case: tuple[list[int], list[int], int, int]) -> None:
    costs, scores, budget, threshold = case
    r = RULES["exact"](make(costs, scores, budget, threshold), "votes-cost-id")
    chosen = [int(p[1:]) for p in r.selected]
    assert sum(costs[i] for i in chosen) == r.cost <= budget
    assert all(scores[i] >= threshold for i in chosen)
    assert sum(scores[i] for i in chosen) == best_welfare(costs, scores, budget, threshold)


@settings(max_examples=80, deadline=None)
@given(cases, st.data())
def test_exact_with_quota_is_optimal_or_reports_the_shortfall(case: tuple[list[int], list[int], int, int],
                                                              data: st.DataObject) -> None:
    costs, scores, budget, _ = case
    n = len(costs)
    group = set(data.draw(st.lists(st.integers(0, n - 1), unique=True)))
    lo = data.draw(st.integers(0, budget))
    quota = Quota("g", frozenset(f"p{i}" for i in group), lo, None)
    r = RULES["exact"](make(costs, scores, budget, quotas=(quota,)), "votes-cost-id")
    chosen = [int(p[1:]) for p in r.selected]
    got = sum(costs[i] for i in chosen if i in group)
    assert r.cost <= budget
    (report,) = r.quota_reports
    assert report.group_spent == got
    feasible = best_welfare(costs, scores, budget, 0, (group, lo, None))
    if feasible is not None:
        assert report.met and got >= lo
        assert sum(scores[i] for i in chosen) == feasible
    else:
        # the group gets the most money it can within the budget; the shortfall is reported
        reachable = max(sum(costs[i] for i in s if i in group)
                        for k in range(n + 1) for s in combinations(range(n), k)
                        if sum(costs[i] for i in s) <= budget)
        assert not report.met and got == reachable and report.shortfall == lo - reachable
        assert report.reason


def test_exact_beats_greedy_on_a_knapsack_trap() -> None:
    # greedy takes the most voted (cost 60) and then nothing else fits; two 50s give more votes
    p = make([60, 50, 50], [10, 9, 9], 100)
    assert RULES["greedy"](p, "votes-cost-id").selected == ("p0",)
    r = RULES["exact"](p, "votes-cost-id")
    assert set(r.selected) == {"p1", "p2"}
    assert r.outcome("p0").reason == "not_in_optimum"  # type: ignore[union-attr]
    assert "total score 18" in r.notes[0]


def test_exact_tie_prefers_the_tie_break_order() -> None:
    # p0 and p1 are interchangeable (same votes, same cost): votes-id keeps p0
    p = make([50, 50], [5, 5], 50)
    assert RULES["exact"](p, "votes-id").selected == ("p0",)
    q = AllocationProblem(("b", "a"), (50, 50), (5.0, 5.0), 50)
    assert RULES["exact"](q, "votes-id").selected == ("a",)


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 6), min_size=n, max_size=n),  # few distinct values: many ties
    st.lists(st.integers(0, 3), min_size=n, max_size=n),
    st.integers(1, 20),
)))
def test_exact_picks_the_first_optimum_in_tie_break_order(case: tuple[list[int], list[int], int]) -> None:
    costs, scores, budget = case
    p = make(costs, scores, budget)
    r = RULES["exact"](p, "votes-cost-id")
    order = project_order(p, "votes-cost-id")
    best = best_welfare(costs, scores, budget, 0)
    optimal = [set(s) for k in range(len(costs) + 1) for s in combinations(range(len(costs)), k)
               if sum(costs[i] for i in s) <= budget and sum(scores[i] for i in s) == best]
    first = min(optimal, key=lambda s: tuple(0 if i in s else 1 for i in order))
    assert {int(x[1:]) for x in r.selected} == first

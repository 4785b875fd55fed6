"""Greedy and greedy-stop: hand-checked cases (ties, too-expensive, exact fit, zero votes)."""

from __future__ import annotations

from engine.rules import AllocationProblem
from engine.rules.greedy import greedy, greedy_stop


def prob(rows: list[tuple[str, int, float]], budget: int, threshold: float = 0) -> AllocationProblem:
    return AllocationProblem(tuple(r[0] for r in rows), tuple(r[1] for r in rows),
                             tuple(r[2] for r in rows), budget, threshold)


def test_skips_what_does_not_fit_and_goes_on() -> None:
    p = prob([("A", 60, 10), ("B", 50, 9), ("C", 40, 8)], 100)
    r = greedy(p)
    assert r.selected == ("A", "C")
    assert r.cost == 100
    b = r.outcome("B")
    assert b is not None and b.reason == "did_not_fit" and "50 > 40 left" in b.detail


def test_stop_variant_stops() -> None:
    r = greedy_stop(prob([("A", 60, 10), ("B", 50, 9), ("C", 40, 8)], 100))
    assert r.selected == ("A",)
    assert [o.reason for o in r.outcomes] == ["funded", "stopped", "stopped"]


def test_project_costing_more_than_envelope() -> None:
    r = greedy(prob([("BIG", 1000, 50), ("A", 10, 5)], 100))
    assert r.selected == ("A",)
    assert r.outcome("BIG").reason == "did_not_fit"  # type: ignore[union-attr]


def test_exact_fit_uses_whole_budget() -> None:
    r = greedy(prob([("A", 30, 3), ("B", 70, 2)], 100))
    assert r.selected == ("A", "B") and r.cost == 100
    assert [o.cumulative_cost for o in r.outcomes] == [30, 100]


def test_zero_votes_not_eligible_with_threshold_one() -> None:
    r = greedy(prob([("A", 10, 0), ("B", 10, 1)], 100, threshold=1))
    assert r.selected == ("B",)
    assert r.outcome("A").reason == "below_threshold"  # type: ignore[union-attr]


def test_default_tie_break_cheaper_first_then_natural_id() -> None:
    p = prob([("P10", 50, 5), ("P9", 50, 5), ("P2", 40, 5)], 100)
    assert greedy(p).selected == ("P2", "P9")  # cheaper P2 first, then P9 < P10 naturally
    r = greedy(p)
    lost = r.outcome("P10")
    assert lost is not None and lost.reason == "tie_lost" and "P9" in lost.detail


def test_lexicographic_tie_break_like_pabutools() -> None:
    p = prob([("9", 60, 5), ("10", 60, 5)], 100)
    assert greedy(p, "lexicographic").selected == ("10",)
    assert greedy(p, "votes-id").selected == ("9",)


def test_ranks_follow_order() -> None:
    r = greedy(prob([("A", 10, 1), ("B", 10, 3), ("C", 10, 2)], 100))
    assert [(o.project_id, o.rank) for o in r.outcomes] == [("B", 1), ("C", 2), ("A", 3)]


def test_empty_problem() -> None:
    r = greedy(prob([], 100))
    assert r.selected == () and r.cost == 0

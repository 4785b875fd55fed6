"""The named tie-breaks of engine/rules/tiebreak.py, on hand-made ties."""

from __future__ import annotations

import pytest

from engine.rules import RULES, AllocationProblem
from engine.rules.tiebreak import (
    LEXICOGRAPHIC,
    TIE_BREAKS,
    VOTES_COST_ID,
    VOTES_ID,
    natural_key,
    tie_break_named,
)


def tied() -> AllocationProblem:
    # all four tie on 5 votes; P10 is the cheapest, P9 and P2 cost the same
    return AllocationProblem(("P9", "P10", "P2", "Q1"), (300, 100, 300, 200), (5, 5, 5, 7), 10_000)


def ids(p: AllocationProblem, order: list[int]) -> list[str]:
    return [p.project_ids[i] for i in order]


def test_each_tie_break_orders_equal_votes_as_documented() -> None:
    p = tied()
    assert ids(p, VOTES_COST_ID.order(p)) == ["Q1", "P10", "P2", "P9"]
    assert ids(p, VOTES_ID.order(p)) == ["Q1", "P2", "P9", "P10"]
    assert ids(p, LEXICOGRAPHIC.order(p)) == ["Q1", "P10", "P2", "P9"]  # "10" < "2" < "9" as strings
    assert ids(p, VOTES_COST_ID.order(p, larger_cost_first=True)) == ["Q1", "P2", "P9", "P10"]


def test_rank_of_lexicographic_ignores_votes_like_pabutools() -> None:
    p = tied()
    assert LEXICOGRAPHIC.rank(p) == [2, 0, 1, 3]  # P10, P2, P9, Q1 by plain string
    assert VOTES_ID.rank(p) == [2, 3, 1, 0]  # Q1 first on votes


def test_names_are_the_objects_and_unknown_names_say_which_exist() -> None:
    assert TIE_BREAKS == ("votes-cost-id", "votes-id", "lexicographic")
    assert all(tie_break_named(n).name == n for n in TIE_BREAKS)
    with pytest.raises(ValueError, match="votes-cost-id, votes-id, lexicographic"):
        tie_break_named("coin-flip")


def test_natural_key_compares_digit_runs_as_numbers() -> None:
    assert sorted(["P10", "P9", "P2", "A", "P1b"], key=natural_key) == ["A", "P1b", "P2", "P9", "P10"]


@pytest.mark.parametrize("name", ["greedy", "greedy-stop", "exact", "mes"])
def test_rules_follow_the_tie_break_they_are_given(name: str) -> None:
    # budget for one project only: the tie-break alone decides which
    p = AllocationProblem(("P9", "P10"), (100, 100), (5, 5), 100)
    if name == "mes":
        from engine.rules import ApprovalProfile

        p = AllocationProblem(p.project_ids, p.costs, p.scores, p.budget,
                              profile=ApprovalProfile.from_ballots(2, [[0, 1]] * 5))
    assert RULES[name](p, "votes-id").selected == ("P9",)
    assert RULES[name](p, "lexicographic").selected == ("P10",)

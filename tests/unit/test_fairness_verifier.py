"""The verifier's stdlib fairness check (engine/verifier/fairness_check.py) on a hand-made
envelope, against hand-worked values and the engine's numpy report."""

from __future__ import annotations

import pytest

from engine.counting.fairness import fairness_report
from engine.rules import AllocationProblem, AllocationResult, ProjectOutcome
from engine.verifier import VerificationFailure
from engine.verifier.fairness_check import check_witness, gini, recompute

COSTS = {"a": 50, "b": 50, "c": 50}
BALLOTS = [["a"], ["a"], ["b", "c"], ["b", "c"]]
SELECTED = ["b", "c"]


def engine_report() -> dict:
    problem = AllocationProblem(("a", "b", "c"), (50, 50, 50), (2.0, 2.0, 2.0), 100)
    outcomes = tuple(ProjectOutcome(p, r + 1, p in SELECTED, 0, "funded" if p in SELECTED else "did_not_fit")
                     for r, p in enumerate("bca"))
    result = AllocationResult("greedy", "votes-cost-id", 100, ("b", "c"), 100, outcomes)
    return fairness_report(problem, result, BALLOTS)


def test_figures_by_hand_and_equal_to_the_engine() -> None:
    mine = recompute(COSTS, SELECTED, BALLOTS)
    # voters 0, 1: nothing funded; voters 2, 3: both of theirs (100 % of their cost)
    assert mine["funded_projects_histogram"] == [0.5, 0.0, 0.5]
    assert mine["cost_share_histogram"]["0 %"] == 0.5 and mine["cost_share_histogram"]["(90, 100] %"] == 0.5
    assert mine["nothing_funded_share"] == 0.5
    assert mine["gini_cost"] == pytest.approx(0.5)  # satisfactions 0 0 100 100
    assert gini([0.0, 0.0, 0.0]) == 0.0
    eng = engine_report()
    for key, value in mine.items():
        assert eng[key] == pytest.approx(value), key


def test_the_ejr_witness_is_recomputed() -> None:
    # voters 0 and 1 approve a (cost 50): 2 of 4 voters may claim 50 of the 100; they get 0
    eng = engine_report()
    w = eng["ejr"]["witness"]
    assert (w["projects"], w["voters"], w["group_size"], w["required"]) == (["a"], [0, 1], 2, 2)
    assert eng["ejr_up_to_one"]["satisfied"]  # 0 + cost of a (50) is not below 50
    check_witness("e", "ejr", w, COSTS, 100, set(SELECTED), BALLOTS)
    with pytest.raises(VerificationFailure, match="the group is 2 voters"):
        check_witness("e", "ejr", {**w, "voters": [0, 2]}, COSTS, 100, set(SELECTED), BALLOTS)
    with pytest.raises(VerificationFailure, match="cannot pay"):
        check_witness("e", "ejr", {**w, "group_size": 1}, COSTS, 100, set(SELECTED), BALLOTS)
    check_witness("e", "pjr", eng["pjr"]["witness"], COSTS, 100, set(SELECTED), BALLOTS)
    with pytest.raises(VerificationFailure, match="funded projects cost at least"):
        check_witness("e", "pjr", {**w, "projects": ["b"], "voters": [2, 3]}, COSTS, 100, set(SELECTED), BALLOTS)

"""Savings rules (engine/rules/cuts.py): hand-checked cases, sector limits, infeasible targets."""

from __future__ import annotations

import itertools
import random

import pytest

from engine.rules import RULES, AllocationProblem, ApprovalProfile
from engine.rules.cuts import (
    SectorLimit,
    TargetUnreachable,
    cuts_exact,
    cuts_greedy,
    sector_limits,
    sectors_from_categories,
)


def problem(lines: list[tuple[str, int, int]], target: int, n_voters: int, threshold: float = 0.0
            ) -> AllocationProblem:
    """Lines (id, saving, votes to cut); a profile whose first ``votes`` voters cut each line."""
    ballots = [[j for j, (_, _, v) in enumerate(lines) if voter < v] for voter in range(n_voters)]
    return AllocationProblem(
        project_ids=tuple(p for p, _, _ in lines), costs=tuple(c for _, c, _ in lines),
        scores=tuple(float(v) for _, _, v in lines), budget=target, threshold=threshold,
        profile=ApprovalProfile.from_ballots(len(lines), ballots))


def test_registered() -> None:
    assert RULES["cuts-greedy"] is cuts_greedy and RULES["cuts-exact"] is cuts_exact


def test_greedy_and_exact_differ_by_hand() -> None:
    # 10 voters, target 100. By votes: B (8), C (7), A (6), D (6).
    # greedy: B 40 + C 40 = 80 < 100, then A (6 votes, larger saving than D) -> 180, overshoot 80,
    #         opposition 2 + 3 + 4 = 9.
    # exact: {A} alone saves 100 with opposition 4; {B, C, D} saves 110 with opposition 9.
    p = problem([("A", 100, 6), ("B", 40, 8), ("C", 40, 7), ("D", 30, 6)], 100, 10)
    g = cuts_greedy(p)
    assert g.selected == ("B", "C", "A") and g.cost == 180
    assert g.notes[0] == "saved 180 for a target of 100: overshoot 80"
    assert [o.reason for o in g.outcomes] == ["cut", "cut", "cut", "not_needed"]
    e = cuts_exact(p)
    assert e.selected == ("A",) and e.cost == 100
    assert "total opposition 4" in e.notes[1]


def test_exact_tie_on_opposition_takes_the_least_overshoot() -> None:
    # X and Y both have 5 votes of 10 (opposition 5). Greedy takes the larger saving first (Y: 120);
    # exact's first tie rule takes the smallest total saving (X: 100, no overshoot).
    p = problem([("X", 100, 5), ("Y", 120, 5)], 100, 10)
    assert cuts_greedy(p).selected == ("Y",)
    assert cuts_exact(p).selected == ("X",)


def test_exact_tie_on_opposition_and_saving_follows_cut_order() -> None:
    # {P, Q} and {R} both save 100 with opposition 4: P and Q have more votes, so {P, Q} comes first.
    p = problem([("R", 100, 6), ("P", 50, 8), ("Q", 50, 8)], 100, 10)
    assert set(cuts_exact(p).selected) == {"P", "Q"}
    # and the result does not depend on the order the lines are listed in
    q = problem([("Q", 50, 8), ("R", 100, 6), ("P", 50, 8)], 100, 10)
    assert set(cuts_exact(q).selected) == {"P", "Q"}


def test_sector_max_cuts() -> None:
    # at most one cut per sector: greedy cuts A1 (culture), skips A2 (culture), cuts B1 (sport).
    lines = [("A1", 60, 5), ("A2", 50, 4), ("B1", 50, 3)]
    p = problem(lines, 100, 5)
    assert cuts_greedy(p).selected == ("A1", "A2")  # without limits
    limits = sector_limits(sectors_from_categories({"A1": "culture", "A2": "culture", "B1": "sport"}), max_cuts=1)
    g = cuts_greedy(p, limits=limits)
    assert g.selected == ("A1", "B1")
    a2 = g.outcome("A2")
    assert a2 is not None and a2.reason == "sector_limit" and "at most 1 cuts" in a2.detail
    # exact: {A1, B1} (opposition 0 + 2) beats {A2, B1} (1 + 2)
    assert set(cuts_exact(p, limits=limits).selected) == {"A1", "B1"}


def test_sector_max_share() -> None:
    # every sector may lose at most 50 % of its spending: culture (A 50 + B 100 = 150) at most 75,
    # sport (C 10) at most 5. B (100) and C (10) can never be cut, so the most is A = 50.
    p = problem([("A", 50, 5), ("B", 100, 4), ("C", 10, 3)], 110, 5)
    limits = sector_limits({"culture": frozenset({"A", "B"}), "sport": frozenset({"C"})}, max_share=0.5,
                           savings={"A": 50, "B": 100, "C": 10})
    assert limits[0].max_amount == 75
    for rule in (cuts_greedy, cuts_exact):
        with pytest.raises(TargetUnreachable, match="at most 50 can be saved .sector limits applied") as err:
            rule(p, limits=limits)
        assert err.value.most == 50
    ok = problem([("A", 50, 5), ("B", 100, 4), ("C", 10, 3)], 50, 5)
    g = cuts_greedy(ok, limits=limits)
    assert g.selected == ("A",) and g.cost == 50


def test_greedy_order_blocked_while_another_set_reaches_the_target() -> None:
    # culture capped at 100 saved: greedy cuts A (50) first, then B (100) no longer fits the cap,
    # C gives 60 < 110. B + C = 110 reaches it: greedy says so and names cuts-exact.
    p = problem([("A", 50, 5), ("B", 100, 4), ("C", 10, 3)], 110, 5)
    limits = (SectorLimit("culture", frozenset({"A", "B"}), max_amount=100),)
    with pytest.raises(TargetUnreachable, match="use cuts-exact") as err:
        cuts_greedy(p, limits=limits)
    assert err.value.most == 110
    assert set(cuts_exact(p, limits=limits).selected) == {"B", "C"}


def test_infeasible_target_says_the_most_that_can_be_saved() -> None:
    p = problem([("A", 60, 4), ("B", 50, 3), ("C", 50, 3), ("D", 10, 2)], 200, 5)
    for rule in (cuts_greedy, cuts_exact):
        with pytest.raises(TargetUnreachable, match="savings target 200 cannot be reached: at most 170") as err:
            rule(p)
        assert err.value.most == 170
    # the threshold excludes D (2 votes < 3)
    with pytest.raises(TargetUnreachable, match="at most 160 can be saved .lines under 3 votes"):
        cuts_exact(problem([("A", 60, 4), ("B", 50, 3), ("C", 50, 3), ("D", 10, 2)], 170, 5, threshold=3))


def test_lines_without_votes_are_cut_only_when_needed() -> None:
    p = problem([("A", 50, 3), ("Z", 70, 0)], 100, 3)
    g = cuts_greedy(p)
    assert g.selected == ("A", "Z")
    assert cuts_greedy(problem([("A", 50, 3), ("Z", 70, 0)], 50, 3)).selected == ("A",)


def test_exact_is_optimal_against_brute_force() -> None:
    rng = random.Random(16)
    for _ in range(60):
        n_voters = rng.randint(3, 12)
        lines = [(f"L{j}", rng.randint(1, 9) * 10, rng.randint(0, n_voters)) for j in range(rng.randint(1, 7))]
        total = sum(c for _, c, _ in lines)
        target = rng.randint(0, total + 20)
        p = problem(lines, target, n_voters)
        best: tuple[float, int] | None = None
        for k in range(len(lines) + 1):
            for combo in itertools.combinations(lines, k):
                saved = sum(c for _, c, _ in combo)
                if saved >= target:
                    key = (sum(n_voters - v for _, _, v in combo), saved)
                    best = key if best is None or key < best else best
        if best is None:
            with pytest.raises(TargetUnreachable):
                cuts_exact(p)
            continue
        r = cuts_exact(p)
        chosen = [x for x in lines if x[0] in r.selected]
        assert (sum(n_voters - v for _, _, v in chosen), r.cost) == best
        assert cuts_greedy(p).cost >= target  # greedy always reaches a feasible target without limits


def test_exact_needs_the_number_of_voters() -> None:
    p = AllocationProblem(("A",), (10,), (1.0,), 10)
    with pytest.raises(ValueError, match="number of voters"):
        cuts_exact(p)


def test_sectors_from_categories() -> None:
    assert sectors_from_categories({"a": "x, y", "b": "y", "c": ""}) == {"x": frozenset({"a"}),
                                                                      "y": frozenset({"a", "b"})}
    with pytest.raises(ValueError, match="need a sector"):
        sectors_from_categories({"a": ""})


def test_election_definitions_refuse_savings_rules_on_a_budget_envelope() -> None:
    import tomllib
    from pathlib import Path

    from engine.errors import ElectionDefinitionError
    from engine.formats.election_definition import election_from_dict

    tiny = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "tiny_election.toml"
    doc = tomllib.loads(tiny.read_text())
    doc["envelopes"][0]["rule"] = "cuts-greedy"
    with pytest.raises(ElectionDefinitionError, match='needs an envelope with kind = "savings"'):
        election_from_dict(doc)

"""Majority judgment: hand-checked cases, and equivalence with the verifier's stdlib version."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from helpers.rule_results import VProblem, engine_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules import RULES, AllocationProblem, GradeProfile, Quota
from engine.rules.grades import PARIS_GRADES, gauges
from engine.verifier import rules_reference
from engine.verifier.rules_grades import grade_rules, lower_median

G4 = ("bad", "fair", "good", "great")


def problem(ids: str, costs: list[int], ballots: list[dict[str, int]], budget: int, *,
            grades: tuple[str, ...] = G4, default: int = 0, quotas: tuple[Quota, ...] = ()) -> AllocationProblem:
    pids = tuple(ids)
    index = {p: j for j, p in enumerate(pids)}
    gp = GradeProfile.from_ballots(grades, len(pids), [{index[k]: v for k, v in b.items()} for b in ballots],
                                   default)
    return AllocationProblem(pids, tuple(costs), (0.0,) * len(pids), budget, quotas=quotas, grades=gp)


def columns(**grades: list[int]) -> list[dict[str, int]]:
    """Ballots from one list of grades per project (voter k gives grades[p][k])."""
    n = len(next(iter(grades.values())))
    return [{p: g[k] for p, g in grades.items()} for k in range(n)]


def order(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [o.project_id for o in result.outcomes]


def test_median_ties_broken_by_gauge_each_way() -> None:
    # 5 voters. D's median is "great"; A, B, C share the median "good":
    # C: 2 above, 1 below -> good+;  B: 1 above, 1 below -> good- (1 opponent);  A: 2/2 -> good- (2 opponents)
    ballots = columns(A=[3, 3, 2, 1, 1], B=[3, 2, 2, 2, 0], C=[3, 3, 2, 2, 0], D=[3, 3, 3, 2, 0])
    r = RULES["majority-judgment"](problem("ABCD", [10, 10, 10, 10], ballots, 25), "votes-cost-id")
    assert order(r) == ["D", "C", "B", "A"]
    assert r.selected == ("D", "C")
    b, a = r.outcome("B"), r.outcome("A")
    assert b is not None and a is not None
    assert "majority grade good; 20.0 % above, 20.0 % below: gauge good-" in b.detail
    assert "ranked after C: same majority grade, but no more voters above it than below (good- after good+)" in b.detail
    assert "ranked after B: same majority grade, more voters below it (40.0 % > 20.0 %)" in a.detail
    assert b.reason == "did_not_fit" and b.detail.endswith("; cost 10 > 5 left")
    assert r.outcome("D").detail.startswith("grades (lowest first) bad: 1, fair: 0, good: 1, great: 3 of 5")  # type: ignore[union-attr]


def test_gauge_and_typical_judgment_disagree() -> None:
    # 7 voters, both median "fair". X: 3 above, 2 below (fair+, p=3); Y: 2 above, 0 below (fair+, p=2).
    # Gauge: X first (more proponents). Typical judgment: p - q = 1 for X, 2 for Y -> Y first.
    ballots = columns(X=[2, 2, 2, 1, 1, 0, 0], Y=[2, 2, 1, 1, 1, 1, 1])
    p = problem("XY", [10, 10], ballots, 10, grades=("low", "fair", "high"))
    mj = RULES["majority-judgment"](p, "votes-cost-id")
    tj = RULES["majority-judgment-typical"](p, "votes-cost-id")
    assert mj.selected == ("X",) and order(mj) == ["X", "Y"]
    assert tj.selected == ("Y",) and order(tj) == ["Y", "X"]
    assert "fewer voters above it (28.6 % < 42.9 %)" in mj.outcome("Y").detail  # type: ignore[union-attr]
    assert "smaller difference above - below (14.3 % < 28.6 %)" in tj.outcome("X").detail  # type: ignore[union-attr]
    assert tj.rule == "majority-judgment-typical"


def test_even_number_of_voters_uses_lower_median() -> None:
    # 4 voters. P: 0,1,2,3 -> lower median 1 (not 1.5, not 2): 2 above, 1 below -> fair+ (p=2).
    # Q: 1,1,2,2 -> lower median 1: 2 above, 0 below -> fair+ (p=2): same gauge as P, tie-break (cheaper).
    # R: 0,0,3,3 -> lower median 0 (the upper median would be 3): last.
    ballots = columns(P=[0, 1, 2, 3], Q=[1, 1, 2, 2], R=[0, 0, 3, 3])
    p = problem("PQR", [20, 10, 1], ballots, 20)
    g = dict(zip("PQR", gauges(p.grades), strict=True))  # type: ignore[arg-type]
    assert (g["P"].alpha, g["P"].p, g["P"].q) == (1, 2, 1)
    assert (g["Q"].alpha, g["Q"].p, g["Q"].q) == (1, 2, 0)
    assert (g["R"].alpha, g["R"].p, g["R"].q) == (0, 2, 0)
    r = RULES["majority-judgment"](p, "votes-cost-id")
    assert order(r) == ["Q", "P", "R"]
    assert r.selected == ("Q", "R")
    assert "ranked after Q: same majority gauge, tie broken by votes-cost-id" in r.outcome("P").detail  # type: ignore[union-attr]
    assert "lower majority grade (bad < fair)" in r.outcome("R").detail  # type: ignore[union-attr]
    # the other tie-break order: by id only, P before Q; P then takes the whole budget
    r2 = RULES["majority-judgment"](p, "votes-id")
    assert order(r2) == ["P", "Q", "R"] and r2.selected == ("P",)
    assert r2.outcome("Q").reason == "tie_lost"  # type: ignore[union-attr]
    assert "tie on the majority gauge lost to P" in r2.outcome("Q").detail  # type: ignore[union-attr]


def test_all_projects_ungraded_count_as_the_default_grade() -> None:
    ballots: list[dict[str, int]] = [{}, {}, {}]
    p = problem("ABC", [30, 10, 20], ballots, 35, grades=PARIS_GRADES)
    r = RULES["majority-judgment"](p, "votes-cost-id")
    assert order(r) == ["B", "C", "A"]  # all tie at the lowest grade: cheaper first
    assert r.selected == ("B", "C")
    assert "Pas convaincu·e: 3, Pourquoi pas: 0, J'aime bien: 0, J'adore: 0 of 3 voters" in r.outcomes[0].detail
    assert "majority grade Pas convaincu·e" in r.outcomes[0].detail
    # another default: not grading counts as "Pourquoi pas"
    p2 = problem("AB", [1, 1], [{"A": 3}, {}, {}], 5, grades=PARIS_GRADES, default=1)
    assert p2.grades is not None and p2.grades.counts.tolist() == [[0, 2, 0, 1], [0, 3, 0, 0]]
    assert [g.alpha for g in gauges(p2.grades)] == [1, 1]


def test_no_voters_at_all() -> None:
    p = problem("AB", [1, 2], [], 10)
    r = RULES["majority-judgment"](p, "votes-cost-id")
    assert r.selected == ("A", "B") and "of 0 voters" in r.outcomes[0].detail


def test_quotas_as_for_greedy() -> None:
    # A is best but the reserve of 50 for group {C} leaves only 50 outside it: A (60) is refused
    ballots = columns(A=[3, 3, 3], B=[2, 2, 2], C=[1, 1, 1])
    q = Quota("north", frozenset({"C"}), min_amount=50)
    r = RULES["majority-judgment"](problem("ABC", [60, 40, 50], ballots, 100, quotas=(q,)), "votes-cost-id")
    assert r.selected == ("B", "C")
    assert r.outcome("A").reason == "quota_reserve"  # type: ignore[union-attr]
    assert r.quota_reports[0].met and r.rule == "majority-judgment"


def test_needs_grades_and_checks_the_scale() -> None:
    with pytest.raises(ValueError, match="grades"):
        RULES["majority-judgment"](AllocationProblem(("A",), (1,), (1.0,), 1), "votes-cost-id")
    with pytest.raises(ValueError, match="grade out of range"):
        GradeProfile.from_ballots(G4, 1, [{0: 4}])
    with pytest.raises(ValueError, match="different number of projects"):
        AllocationProblem(("A", "B"), (1, 1), (0.0, 0.0), 1,
                          grades=GradeProfile.from_ballots(G4, 1, [{0: 1}]))


def test_lower_median_walk_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        row = np.bincount(rng.integers(0, 4, n), minlength=4)
        gp = GradeProfile(G4, row.reshape(1, 4))
        (g,) = gauges(gp)
        srt = sorted(np.repeat(np.arange(4), row).tolist())
        assert g.alpha == srt[(n - 1) // 2]
        assert lower_median(row.tolist(), 0) == (g.alpha, g.p, g.q)


# --------------------------------------------------------------------------- equivalence


@dataclass(frozen=True)
class GProblem(VProblem):  # engine.verifier.rules_reference.Problem plus the grade ballots
    grade_names: tuple[str, ...] = G4
    default_grade: int = 0
    grade_ballots: tuple[dict[str, int], ...] = ()


@st.composite
def cases(draw: st.DrawFn) -> tuple[AllocationProblem, GProblem]:
    m = draw(st.integers(1, 7))
    k = draw(st.integers(2, 5))
    names = tuple(f"g{i}" for i in range(k))
    default = draw(st.integers(0, k - 1))
    ids = tuple(f"P{j}" for j in range(m))
    costs = tuple(draw(st.lists(st.integers(0, 40), min_size=m, max_size=m)))
    ballots = draw(st.lists(st.dictionaries(st.sampled_from(ids), st.integers(0, k - 1)), max_size=25))
    budget = draw(st.integers(0, 120))
    quotas: tuple = ()
    vquotas: tuple = ()
    if draw(st.booleans()):
        members = frozenset(draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)))
        lo = draw(st.integers(0, 60))
        hi = draw(st.one_of(st.none(), st.integers(lo, 100)))
        rel = draw(st.booleans())
        quotas = (Quota("q", members, lo, hi, rel),)
        vquotas = (rules_reference.Quota("q", members, lo, hi, rel),)
    index = {p: j for j, p in enumerate(ids)}
    gp = GradeProfile.from_ballots(names, m, [{index[p]: g for p, g in b.items()} for b in ballots], default)
    threshold = float(draw(st.sampled_from([0, 2])))
    engine_problem = AllocationProblem(ids, costs, (0.0,) * m, budget, threshold, quotas=quotas, grades=gp)
    return engine_problem, GProblem(ids, costs, (0.0,) * m, budget, threshold, vquotas, grade_names=names,
                                    default_grade=default, grade_ballots=tuple(ballots))


@settings(max_examples=300, deadline=None)
@given(cases(), st.sampled_from(["votes-cost-id", "votes-id", "lexicographic"]))
def test_verifier_stdlib_equals_engine(case: tuple[AllocationProblem, GProblem], tie_break: str) -> None:
    engine_problem, vp = case
    ref = grade_rules(rules_reference.greedy_rule)
    for name in ("majority-judgment", "majority-judgment-typical"):
        assert ref[name](vp, tie_break) == engine_dict(RULES[name](engine_problem, tie_break))


@settings(max_examples=150, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_never_overspends_and_ignores_listing_order(case: tuple[AllocationProblem, GProblem], rnd) -> None:  # type: ignore[no-untyped-def]
    p, _ = case
    r = RULES["majority-judgment"](p, "votes-cost-id")
    assert r.cost == sum(c for pid, c in zip(p.project_ids, p.costs, strict=True) if pid in r.selected)
    assert r.cost <= p.budget
    perm = list(range(len(p.project_ids)))
    rnd.shuffle(perm)
    assert p.grades is not None
    shuffled = AllocationProblem(tuple(p.project_ids[i] for i in perm), tuple(p.costs[i] for i in perm),
                                 p.scores, p.budget, p.threshold, quotas=p.quotas,
                                 grades=GradeProfile(p.grades.grades, p.grades.counts[perm], p.grades.default_grade))
    r2 = RULES["majority-judgment"](shuffled, "votes-cost-id")
    assert r2.selected == r.selected and [o.detail for o in r2.outcomes] == [o.detail for o in r.outcomes]


def test_every_grade_rule_has_a_stdlib_version() -> None:
    from engine.rules import GRADE_RULES

    assert set(grade_rules(rules_reference.greedy_rule)) == set(GRADE_RULES)

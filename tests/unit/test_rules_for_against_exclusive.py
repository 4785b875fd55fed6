"""For/against scoring and greedy-exclusive: hand-checked cases."""

from __future__ import annotations

import pytest

from engine.rules import RULES, AllocationProblem, ExclusiveGroup, ForAgainst, Quota


def fa_problem(rows: list[tuple[str, int, int, int]], budget: int, threshold: float = 0,
               quotas: tuple[Quota, ...] = ()) -> AllocationProblem:
    """rows: (id, cost, for, against)."""
    return AllocationProblem(tuple(r[0] for r in rows), tuple(r[1] for r in rows), (0.0,) * len(rows), budget,
                             threshold, quotas=quotas,
                             for_against=ForAgainst(tuple(r[2] for r in rows), tuple(r[3] for r in rows)))


def test_score_is_for_minus_against_and_both_counts_are_given() -> None:
    # A: 10-8 = 2; B: 6-1 = 5; C: 9-4 = 5 (tie with B, cheaper first); D: 3-5 = -2 (below threshold 0)
    p = fa_problem([("A", 30, 10, 8), ("B", 50, 6, 1), ("C", 40, 9, 4), ("D", 1, 3, 5)], 100)
    r = RULES["for-against"](p, "votes-cost-id")
    assert [o.project_id for o in r.outcomes] == ["C", "B", "A", "D"]
    assert r.selected == ("C", "B") and r.cost == 90 and r.rule == "for-against"
    a, d = r.outcome("A"), r.outcome("D")
    assert a is not None and d is not None
    assert a.detail == "for 10, against 8: score 2; cost 30 > 10 left"
    assert d.reason == "below_threshold" and d.detail == "for 3, against 5: score -2; score -2 < threshold 0"
    assert r.outcome("C").detail == "for 9, against 4: score 5"  # type: ignore[union-attr]


def test_lost_tie_names_the_score() -> None:
    p = fa_problem([("A", 60, 7, 2), ("B", 50, 5, 0)], 100)  # both 5; B cheaper, then A does not fit
    r = RULES["for-against"](p, "votes-cost-id")
    assert r.selected == ("B",)
    assert r.outcome("A").detail == "for 7, against 2: score 5; tie on score 5 lost to B; cost 60 > 50 left"  # type: ignore[union-attr]


def test_for_against_with_quota_and_stop_variant() -> None:
    q = Quota("east", frozenset({"C"}), min_amount=40)
    p = fa_problem([("A", 70, 9, 0), ("B", 30, 5, 0), ("C", 40, 2, 1)], 100, quotas=(q,))
    r = RULES["for-against"](p, "votes-cost-id")
    assert r.selected == ("B", "C")  # A (70) would leave 30 < the 40 reserved for C
    assert r.outcome("A").reason == "quota_reserve" and r.quota_reports[0].met  # type: ignore[union-attr]
    s = RULES["for-against-stop"](fa_problem([("A", 70, 9, 0), ("B", 40, 5, 0), ("C", 10, 2, 1)], 100),
                                  "votes-cost-id")
    assert s.selected == ("A",) and [o.reason for o in s.outcomes] == ["funded", "stopped", "stopped"]


def test_for_against_needs_counts() -> None:
    with pytest.raises(ValueError, match="for and against counts"):
        RULES["for-against"](AllocationProblem(("A",), (1,), (1.0,), 1), "votes-cost-id")
    with pytest.raises(ValueError, match="different number"):
        AllocationProblem(("A",), (1,), (1.0,), 1, for_against=ForAgainst((1, 2), (0, 0)))


def ex_problem(rows: list[tuple[str, int, float]], budget: int, groups: dict[str, str]) -> AllocationProblem:
    by: dict[str, set[str]] = {}
    for pid, g in groups.items():
        by.setdefault(g, set()).add(pid)
    return AllocationProblem(tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows),
                             budget, exclusive=tuple(ExclusiveGroup(g, frozenset(m)) for g, m in by.items()))


def test_exclusive_group_excludes_the_others_once_one_is_funded() -> None:
    # A (10 votes) and C (8) share the park; C would fit, but A was funded first -> excluded; D goes on
    p = ex_problem([("A", 40, 10), ("B", 50, 9), ("C", 10, 8), ("D", 10, 7)], 100, {"A": "park", "C": "park"})
    r = RULES["greedy-exclusive"](p, "votes-cost-id")
    assert r.selected == ("A", "B", "D")
    c = r.outcome("C")
    assert c is not None and c.reason == "excluded" and c.detail == "exclusive group 'park': A was funded first"
    assert RULES["greedy"](p, "votes-cost-id").selected == ("A", "B", "C")  # what plain greedy would do


def test_unfunded_member_does_not_exclude() -> None:
    # A does not fit, so C of the same group can still be funded
    p = ex_problem([("A", 200, 10), ("C", 30, 8)], 100, {"A": "g", "C": "g"})
    r = RULES["greedy-exclusive"](p, "votes-cost-id")
    assert r.selected == ("C",) and r.outcome("A").reason == "did_not_fit"  # type: ignore[union-attr]


def test_exclusive_without_groups_is_greedy_and_refuses_quotas() -> None:
    p = AllocationProblem(("A", "B"), (60, 50), (2.0, 1.0), 100)
    r = RULES["greedy-exclusive"](p, "votes-cost-id")
    assert r.selected == RULES["greedy"](p, "votes-cost-id").selected and "no exclusive groups" in r.notes[0]
    with pytest.raises(ValueError, match="quotas"):
        RULES["greedy-exclusive"](AllocationProblem(("A",), (1,), (1.0,), 1, quotas=(Quota("q", frozenset({"A"})),)),
                                  "votes-cost-id")
    with pytest.raises(ValueError, match="exclusive group 'x'"):
        AllocationProblem(("A",), (1,), (1.0,), 1, exclusive=(ExclusiveGroup("x", frozenset({"Z"})),))


# --------------------------------------------------------------------------- verifier equivalence

from dataclasses import dataclass  # noqa: E402

from helpers.rule_results import VProblem as Problem  # noqa: E402
from helpers.rule_results import engine_dict as as_dict  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from engine.verifier import rules_reference  # noqa: E402
from engine.verifier.rules_greedy_variants import for_against as ref_for_against  # noqa: E402
from engine.verifier.rules_greedy_variants import greedy_exclusive as ref_greedy_exclusive  # noqa: E402


@dataclass(frozen=True)
class VProblem(Problem):  # plus the for/against counts and the exclusive groups
    votes_for: tuple[int, ...] = ()
    votes_against: tuple[int, ...] = ()
    exclusive: tuple[tuple[str, frozenset[str]], ...] = ()





@st.composite
def fa_cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    m = draw(st.integers(1, 8))
    ids = tuple(f"P{j}" for j in range(m))
    costs = tuple(draw(st.lists(st.integers(0, 40), min_size=m, max_size=m)))
    vf = tuple(draw(st.lists(st.integers(0, 9), min_size=m, max_size=m)))
    va = tuple(draw(st.lists(st.integers(0, 9), min_size=m, max_size=m)))
    budget = draw(st.integers(0, 120))
    threshold = float(draw(st.sampled_from([0, 1, -100])))
    quotas: tuple = ()
    vquotas: tuple = ()
    if draw(st.booleans()):
        members = frozenset(draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)))
        lo = draw(st.integers(0, 60))
        rel = draw(st.booleans())
        quotas = (Quota("q", members, lo, None, rel),)
        vquotas = (rules_reference.Quota("q", members, lo, None, rel),)
    groups = draw(st.lists(st.frozensets(st.sampled_from(ids), min_size=min(2, m)), max_size=3))
    named = tuple((f"g{k}", g) for k, g in enumerate(groups))
    engine_problem = AllocationProblem(ids, costs, tuple(float(f - a) for f, a in zip(vf, va, strict=True)),
                                       budget, threshold, quotas=quotas, for_against=ForAgainst(vf, va),
                                       exclusive=tuple(ExclusiveGroup(n, g) for n, g in named))
    return engine_problem, VProblem(ids, costs, engine_problem.scores, budget, threshold, vquotas,
                                    votes_for=vf, votes_against=va, exclusive=named)


@settings(max_examples=300, deadline=None)
@given(fa_cases(), st.sampled_from(["votes-cost-id", "votes-id", "lexicographic"]))
def test_verifier_versions_equal_the_engine(case, tie_break: str) -> None:  # type: ignore[no-untyped-def]
    ep, vp = case
    assert ref_for_against(vp, tie_break, rules_reference.greedy_rule) == as_dict(RULES["for-against"](ep, tie_break))
    if not vp.quotas:
        assert ref_for_against(vp, tie_break, rules_reference.greedy_rule, rules_reference.greedy_stop_rule) == as_dict(
            RULES["for-against-stop"](ep, tie_break))
        assert ref_greedy_exclusive(vp, tie_break) == as_dict(RULES["greedy-exclusive"](ep, tie_break))

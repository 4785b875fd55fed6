"""Quotas: the worked examples of docs/rules.md, shortfall reports, configuration, Paris."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.counting.count import count_ballots
from engine.errors import ElectionDefinitionError
from engine.formats.election_canonical import definition_hash, election_to_dict
from engine.formats.election_definition import election_from_dict, load_election
from engine.model.ballots import Ballot, Channel, SourceRef, ballot_key
from engine.rules import RULES, AllocationProblem, Quota


def problem(rows: list[tuple[str, int, int]], budget: int, *quotas: Quota) -> AllocationProblem:
    return AllocationProblem(tuple(r[0] for r in rows), tuple(r[1] for r in rows),
                             tuple(float(r[2]) for r in rows), budget, quotas=quotas)


def reasons(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {o.project_id: o.reason for o in result.outcomes}


# docs/rules.md, example 1: the reserve keeps money for the group
EX1 = [("A", 50, 100), ("B", 30, 90), ("C", 20, 80), ("D", 20, 50), ("E", 10, 40)]
G1 = Quota("popular", frozenset({"C", "D"}), 30)


def test_example_1_reserve_changes_the_outcome() -> None:
    plain = RULES["greedy"](problem(EX1, 90), "votes-cost-id")
    assert plain.selected == ("A", "B", "E")  # the group gets nothing
    r = RULES["greedy"](problem(EX1, 90, G1), "votes-cost-id")
    assert r.selected == ("A", "C", "D")
    assert reasons(r) == {"A": "funded", "B": "quota_reserve", "C": "funded", "D": "funded", "E": "did_not_fit"}
    assert "30 still reserved for 'popular'" in r.outcome("B").detail  # type: ignore[union-attr]
    (rep,) = r.quota_reports
    assert rep.met and rep.group_spent == 40 and rep.shortfall == 0


# example 2: the group cannot use its reserve; it is released in a final pass
EX2 = [("A", 50, 100), ("B", 30, 90), ("C", 20, 80), ("D", 15, 40)]
G2 = Quota("popular", frozenset({"C"}), 40)


def test_example_2_unusable_reserve_is_released() -> None:
    r = RULES["greedy"](problem(EX2, 100, G2), "votes-cost-id")
    assert r.selected == ("A", "B", "C")
    assert reasons(r)["B"] == "funded_after_release"
    assert reasons(r)["D"] == "quota_reserve"
    (rep,) = r.quota_reports
    assert not rep.met and rep.shortfall == 20 and rep.group_spent == 20
    assert "eligible projects cost 20 in total" in rep.reason
    assert any("not met" in n and "short by 20" in n for n in r.notes)


def test_example_2_without_release_leaves_the_money() -> None:
    kept = Quota("popular", frozenset({"C"}), 40, release_unused=False)
    r = RULES["greedy"](problem(EX2, 100, kept), "votes-cost-id")
    assert r.selected == ("A", "C") and r.cost == 70


def test_example_3_maximum_caps_the_group() -> None:
    rows = [("A", 40, 100), ("B", 40, 90), ("C", 40, 80)]
    cap = Quota("sport", frozenset({"A", "B"}), 0, 50)
    r = RULES["greedy"](problem(rows, 120, cap), "votes-cost-id")
    assert r.selected == ("A", "C")
    assert reasons(r)["B"] == "quota_max"


def test_shortfall_when_projects_are_too_expensive() -> None:
    rows = [("A", 70, 100), ("C", 40, 10), ("D", 35, 5)]
    q = Quota("popular", frozenset({"C", "D"}), 30)
    r = RULES["greedy"](problem(rows, 100, q), "votes-cost-id")
    # A (70) fits with 30 still reserved; C and D each cost more than the 30 left
    assert r.selected == ("A",)
    (rep,) = r.quota_reports
    assert rep.shortfall == 30 and "cheapest 35 > 30 left" in rep.reason


cases = st.integers(1, 8).flatmap(
    lambda n: st.tuples(
        st.lists(st.tuples(st.integers(1, 60), st.integers(0, 30), st.booleans()), min_size=n, max_size=n),
        st.integers(1, 250),
        st.integers(0, 120),
        st.booleans(),
    )
)


@settings(max_examples=200, deadline=None)
@given(cases, st.randoms(use_true_random=False))
def test_greedy_quota_invariants(case, rnd: random.Random) -> None:  # type: ignore[no-untyped-def]
    rows_raw, budget, lo, release = case
    rows = [(f"p{i}", c, s) for i, (c, s, _) in enumerate(rows_raw)]
    group = frozenset(f"p{i}" for i, (_, _, g) in enumerate(rows_raw) if g)
    lo = min(lo, budget)
    q = Quota("g", group, lo, release_unused=release)
    r = RULES["greedy"](problem(rows, budget, q), "votes-cost-id")
    cost = {p: c for p, c, _ in rows}
    assert r.cost == sum(cost[p] for p in r.selected) <= budget
    got = sum(cost[p] for p in r.selected if p in group)
    (rep,) = r.quota_reports
    assert rep.group_spent == got
    assert rep.met == (got >= lo)
    if not rep.met:
        # only when no unfunded group project fits any more (reserve truly unusable)
        assert all(cost[p] > budget - r.cost for p in group if p not in r.selected)
        assert rep.shortfall == lo - got and rep.reason
    else:
        # money outside the group never ate into the reserve
        assert budget - sum(cost[p] for p in r.selected if p not in group) >= lo
    shuffled = rnd.sample(rows, len(rows))
    r2 = RULES["greedy"](problem(shuffled, budget, q), "votes-cost-id")
    assert set(r2.selected) == set(r.selected)


# --------------------------------------------------------------------------- configuration

BASE = {
    "election": {"id": "q", "name": "Quota town"},
    "envelopes": [
        {"id": "city", "name": "City", "kind": "citywide", "budget": 900, "max_selections": 3},
        {"id": "north", "name": "North", "kind": "district", "budget": 100, "max_selections": 3,
         "rule": "exact"},
    ],
    "projects": [
        {"id": "A", "envelope": "city", "title": "A", "cost": 500},
        {"id": "B", "envelope": "city", "title": "B", "cost": 300, "popular_neighbourhood": True},
        {"id": "C", "envelope": "north", "title": "C", "cost": 60, "category": "green"},
        {"id": "D", "envelope": "north", "title": "D", "cost": 50},
    ],
}


def with_quotas(*quotas: dict) -> dict:  # type: ignore[type-arg]
    return {**BASE, "quotas": list(quotas)}


def test_definition_without_quotas_keeps_its_hash_and_form() -> None:
    e = election_from_dict(BASE)
    assert "quotas" not in election_to_dict(e)
    again = election_from_dict(election_to_dict(e))
    assert definition_hash(again) == definition_hash(e)


def test_quotas_round_trip_and_change_the_hash() -> None:
    doc = with_quotas({"name": "qp", "group": {"popular_neighbourhood": True}, "min_share": "1/3"},
                      {"name": "green", "group": {"category": "green"}, "envelopes": ["north"],
                       "min_amount": 40, "max_amount": 80, "release_unused": False})
    e = election_from_dict(doc)
    assert e.quotas[0].amounts(900) == (300, None)
    assert e.quotas[0].amounts(100) == (34, None)  # a third, rounded up
    assert e.quotas[1].amounts(100) == (40, 80)
    again = election_from_dict(election_to_dict(e))
    assert again.quotas == e.quotas
    assert definition_hash(again) == definition_hash(e) != definition_hash(election_from_dict(BASE))


@pytest.mark.parametrize(
    ("quota", "message"),
    [
        ({"name": "x", "group": {"colour": "red"}, "min_share": 0.3}, "must name exactly one of"),
        ({"name": "x", "group": {"popular_neighbourhood": "yes"}, "min_share": 0.3}, "must be true or false"),
        ({"name": "x", "group": {"category": "green"}, "min_share": 1.5}, "between 0 and 1"),
        ({"name": "x", "group": {"category": "green"}, "min_share": "a third"}, "fraction like"),
        ({"name": "x", "group": {"category": "green"}}, "needs min_share"),
        ({"name": "x", "group": {"category": "green"}, "min_amount": 10}, "exactly one envelope"),
        ({"name": "x", "group": {"category": "green"}, "envelopes": ["south"], "min_share": 0.1}, "unknown envelope"),
        ({"name": "x", "group": {"category": "green"}, "min_share": 0.5, "max_share": 0.2}, "below the minimum"),
    ],
)
def test_bad_quota_definitions_are_explained(quota: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ElectionDefinitionError, match=message) as err:
        election_from_dict(with_quotas(quota), "town.toml")
    assert "town.toml: quotas[0]" in str(err.value)


def test_quota_needs_a_rule_that_supports_it() -> None:
    doc = with_quotas({"name": "x", "group": {"category": "green"}, "min_share": 0.3})
    doc["envelopes"] = [dict(doc["envelopes"][0], rule="mes"), doc["envelopes"][1]]
    with pytest.raises(ElectionDefinitionError, match="does not support quotas"):
        election_from_dict(doc)


def _ballot(serial: str, selections: tuple[tuple[str, tuple[str, ...]], ...]) -> Ballot:
    key = ballot_key(Channel.ONLINE, serial, "2026-01-01T00:00:00.000000Z", selections, None)
    return Ballot(key, serial, Channel.ONLINE, "2026-01-01T00:00:00.000000Z", selections, SourceRef("t", 1))


def test_count_applies_envelope_quotas() -> None:
    e = election_from_dict(with_quotas({"name": "qp", "group": {"popular_neighbourhood": True}, "min_share": "1/3",
                                        "envelopes": ["city"]}))
    ballots = [_ballot(f"v{i}", (("city", ("A",)),)) for i in range(5)]
    ballots += [_ballot("w1", (("city", ("B",)),))]
    result = count_ballots(e, ballots)
    city = result.allocation.envelopes["city"]
    # A (5 votes, 500) would leave 400 >= 300 reserved; B (300) then fits: both funded
    assert city.selected == ("A", "B")
    assert city.quota_reports[0].met
    assert result.allocation.envelopes["north"].quota_reports == ()


def test_paris_fixture_declares_the_quota(small_paris: Path) -> None:
    e = load_election(small_paris / "election.toml")
    (q,) = e.quotas
    assert q.group_key == "popular_neighbourhood" and q.min_share is not None and 3 * q.min_share == 1
    rnd = random.Random(3)
    ballots = []
    for i in range(3000):
        env = rnd.choice(e.envelopes[1:]).id
        ids = [p.id for p in e.projects_in(env)]
        city_ids = [p.id for p in e.projects_in("paris")]
        ballots.append(_ballot(f"v{i}", tuple(sorted([
            ("paris", tuple(sorted(rnd.sample(city_ids, 2)))),
            (env, tuple(sorted(rnd.sample(ids, 3)))),
        ]))))
    result = count_ballots(e, ballots)
    for env in e.envelopes:
        a = result.allocation.envelopes[env.id]
        (rep,) = a.quota_reports
        assert a.cost <= env.budget
        popular = {p.id for p in e.projects_in(env.id) if p.popular_neighbourhood}
        assert rep.group_spent == sum(e.project(p).cost for p in a.selected if p in popular)  # type: ignore[union-attr]
        assert rep.met == (rep.group_spent >= -(-env.budget // 3))

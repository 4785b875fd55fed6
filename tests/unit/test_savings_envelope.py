"""Savings envelopes (reverse PB) in an election definition: reading, ballots, counting.

Hand-checked case (10 voters, target 100):

======  =======  ======  =====  ==========
line    sector   saving  votes  opposition
======  =======  ======  =====  ==========
A       culture  30      9      1
B       culture  30      8      2
C       sport    80      7      3
D       roads    20      2      8
======  =======  ======  =====  ==========

``cuts-greedy`` cuts in order of votes: A (30), B (60), C (140 >= 100): three cuts,
overshoot 40, opposition 6. ``cuts-exact``: sets reaching 100 are {A,C} 110 (opposition 4),
{B,C} 110 (5), {A,B,C} 140 (6), {C,D} 100 (11), ... so {A,C}, overshoot 10.
With ``max_cuts_per_sector = 1`` greedy cuts A, keeps B (culture at its limit), cuts C.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.counting.count import count_ballots
from engine.counting.savings import sector_reports
from engine.errors import ElectionDefinitionError, TargetUnreachable
from engine.formats.election_canonical import definition_hash, election_to_dict
from engine.formats.election_definition import election_from_dict
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef, Submission, ballot_key, validate_submission

LINES = [("A", "culture", 30), ("B", "culture", 30), ("C", "sport", 80), ("D", "roads", 20)]
# voter i votes to cut these lines: A 9 votes, B 8, C 7, D 2
CUTS = [["A", "B", "C", "D"], ["A", "B", "C", "D"], ["A", "B", "C"], ["A", "B", "C"], ["A", "B", "C"],
        ["A", "B", "C"], ["A", "B", "C"], ["A", "B"], ["A"], ["B"]]


def doc(**env: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"id": "sav", "name": "Savings 2027", "kind": "savings", "target": 100,
                         "rule": "cuts-greedy"}
    e.update(env)
    return {
        "election": {"id": "rev", "name": "Reverse PB"},
        "envelopes": [e],
        "projects": [{"id": i, "envelope": "sav", "title": f"Line {i}", "sector": s, "saving": a}
                     for i, s, a in LINES],
    }


def ballots(cuts: list[list[str]] = CUTS) -> list[Ballot]:
    out = []
    for n, chosen in enumerate(cuts, start=1):
        sel = (("sav", tuple(sorted(chosen))),)
        serial = f"V{n:015d}"
        when = "2026-05-01T10:00:00.000000Z"
        out.append(Ballot(ballot_key(Channel.ONLINE, serial, when, sel, None), serial, Channel.ONLINE, when, sel,
                          SourceRef("t", n), receipt_id=f"R{n:015d}"))
    return out


def count(**env: Any) -> Any:
    election = election_from_dict(doc(**env))
    return election, count_ballots(election, ballots())


def test_definition_reads_lines_sectors_and_target() -> None:
    e = election_from_dict(doc(min_sectors=2, max_share_per_sector="1/2",
                               sectors={"culture": {"spending": 1000, "max_cuts": 1}}))
    env = e.envelopes[0]
    assert env.kind == "savings" and env.budget == 100 and env.max_selections == 4
    assert env.savings is not None and env.savings.min_sectors == 2
    assert env.savings.limits_of("culture") == (1, env.savings.max_share_per_sector)
    assert [p.category for p in e.projects] == ["culture", "culture", "sport", "roads"]
    assert e.voting.max_envelopes_per_kind["savings"] == 1
    # the canonical form round-trips and keeps the target
    again = election_from_dict(election_to_dict(e))
    assert again == e and definition_hash(again) == definition_hash(e)
    assert election_to_dict(e)["envelopes"][0]["target"] == 100
    assert "budget" not in election_to_dict(e)["envelopes"][0]


@pytest.mark.parametrize(("change", "words"), [
    ({"budget": 100}, "not a budget"),
    ({"rule": "greedy"}, "cuts rule"),
    ({"target": 0}, "must be positive"),
    ({"sectors": {"cultur": {"max_cuts": 1}}}, "did you mean 'culture'"),
    ({"min_sectors": 4}, "only 3"),
    ({"max_cuts_per_secter": 1}, "did you mean 'max_cuts_per_sector'"),
])
def test_bad_savings_definitions_say_why(change: dict[str, Any], words: str) -> None:
    with pytest.raises(ElectionDefinitionError, match=words):
        election_from_dict(doc(**change))


def test_cuts_rule_on_an_ordinary_envelope_names_savings() -> None:
    d = doc()
    d["envelopes"] = [{"id": "sav", "name": "x", "kind": "citywide", "budget": 100, "max_selections": 2,
                       "rule": "cuts-exact"}]
    d["projects"] = [{"id": "A", "envelope": "sav", "title": "a", "cost": 10}]
    with pytest.raises(ElectionDefinitionError, match='kind = "savings"'):
        election_from_dict(d)


def test_greedy_and_exact_differ_on_the_hand_checked_case() -> None:
    _e, greedy = count(rule="cuts-greedy")
    a = greedy.allocation.envelopes["sav"]
    assert a.selected == ("A", "B", "C") and a.cost == 140
    assert "overshoot 40" in a.notes[0]
    _e, exact = count(rule="cuts-exact")
    b = exact.allocation.envelopes["sav"]
    assert set(b.selected) == {"A", "C"} and b.cost == 110
    assert "overshoot 10" in b.notes[0] and "total opposition 4" in b.notes[1]
    reasons = {o.project_id: o.reason for o in b.outcomes}
    assert reasons == {"A": "cut_optimal", "C": "cut_optimal", "B": "not_in_optimum", "D": "not_in_optimum"}


def test_per_sector_cut_limit() -> None:
    election, res = count(max_cuts_per_sector=1)
    a = res.allocation.envelopes["sav"]
    assert a.selected == ("A", "C")
    why = {o.project_id: (o.reason, o.detail) for o in a.outcomes}
    assert why["B"] == ("sector_limit", "sector culture: at most 1 cuts")
    rep = {r.sector: r for r in sector_reports(election, election.envelopes[0], a)}
    assert (rep["culture"].spending_before, rep["culture"].saved, rep["culture"].spending_after) == (60, 30, 30)
    assert (rep["sport"].lines_cut, rep["roads"].lines_cut) == (1, 0)


def test_per_sector_share_limit_uses_declared_spending() -> None:
    # culture may lose at most 10 % of 500 = 50: A (30) is cut, B (30 more = 60) is not
    election, res = count(sectors={"culture": {"spending": 500, "max_share": 0.1}})
    a = res.allocation.envelopes["sav"]
    assert a.selected == ("A", "C")
    rep = {r.sector: r for r in sector_reports(election, election.envelopes[0], a)}
    assert rep["culture"].spending_before == 500 and rep["culture"].spending_after == 470
    assert rep["culture"].max_amount == 50


def test_infeasible_target_says_the_most_that_can_be_saved() -> None:
    with pytest.raises(TargetUnreachable, match=r"savings envelope 'sav'.*at most 160 can be saved") as info:
        count(target=1000)
    assert info.value.most == 160  # every line has a vote: 30 + 30 + 80 + 20
    with pytest.raises(TargetUnreachable, match="at most 130 can be saved"):
        count(target=1000, rule="cuts-exact", max_cuts_per_sector=1)  # A or B, C, D: 30 + 80 + 20


class _Token:
    serial_text = "V000000000000001"


class _Verifier:
    def verify(self, token: str) -> _Token:
        return _Token()


@pytest.mark.parametrize("channel", [Channel.ONLINE, Channel.PAPER])
def test_min_sectors_rejects_a_ballot_with_the_reason(channel: Channel) -> None:
    election = election_from_dict(doc(min_sectors=2))
    sub = Submission("tok", channel, {"sav": ["A", "B"]}, SourceRef("votes.jsonl", 3),
                     "2026-05-01T10:00:00Z" if channel is Channel.ONLINE else None)
    res = validate_submission(election, _Verifier(), sub)  # type: ignore[arg-type]  # a stub verifier
    assert isinstance(res, Rejection) and res.reason == "too_few_sectors"
    assert "1 sector(s) (culture)" in res.detail and "at least 2 sectors" in res.detail
    ok = Submission("tok", channel, {"sav": ["A", "C"]}, SourceRef("votes.jsonl", 4), sub.cast_at)
    assert isinstance(validate_submission(election, _Verifier(), ok), Ballot)  # type: ignore[arg-type]  # stub


def mixed_doc(quota_envelopes: list[str] | None = None) -> dict[str, Any]:
    """A spending envelope ``city`` (projects P1 popular, P2) next to the savings envelope, and a
    popular-neighbourhood quota naming no envelope (or the given ones)."""
    d = doc()
    d["envelopes"].append({"id": "city", "name": "City", "kind": "citywide", "budget": 100, "max_selections": 2,
                           "rule": "greedy"})
    d["voting"] = {"max_envelopes_per_kind": {"citywide": 1, "savings": 1}}
    d["projects"] += [{"id": "P1", "envelope": "city", "title": "p1", "cost": 40, "popular_neighbourhood": True},
                      {"id": "P2", "envelope": "city", "title": "p2", "cost": 80}]
    quota: dict[str, Any] = {"name": "popular", "group": {"popular_neighbourhood": True}, "min_share": "1/3"}
    if quota_envelopes is not None:
        quota["envelopes"] = quota_envelopes
    d["quotas"] = [quota]
    return d


def test_a_quota_naming_no_envelope_applies_to_the_spending_envelopes_only() -> None:
    e = election_from_dict(mixed_doc())
    (q,) = e.quotas
    assert q.applies_to("city") and not q.applies_to("sav")
    # the canonical form names the envelope, so the verifier and the hash see the same quota
    assert election_to_dict(e)["quotas"][0]["envelopes"] == ["city"]
    assert election_from_dict(election_to_dict(e)) == e
    # P2 has 7 votes, P1 3, but the popular quota (1/3 of 100) takes P1 first; P2 then does not fit
    votes = [Ballot(ballot_key(Channel.ONLINE, f"V{n:015d}", "2026-05-01T10:00:00.000000Z", sel, None),
                    f"V{n:015d}", Channel.ONLINE, "2026-05-01T10:00:00.000000Z", sel, SourceRef("t", n),
                    receipt_id=f"R{n:015d}")
             for n, sel in enumerate([(("city", ("P1",)), ("sav", tuple(sorted(c)))) for c in CUTS[:3]]
                                     + [(("city", ("P2",)), ("sav", tuple(sorted(c)))) for c in CUTS[3:]], start=1)]
    result = count_ballots(e, votes)
    assert result.allocation.envelopes["city"].selected == ("P1",)
    no_quota = mixed_doc()
    del no_quota["quotas"]
    assert count_ballots(election_from_dict(no_quota), votes).allocation.envelopes["city"].selected == ("P2",)
    assert result.allocation.envelopes["sav"].selected == ("A", "B", "C")


def test_a_quota_naming_a_savings_envelope_is_still_refused() -> None:
    with pytest.raises(ElectionDefinitionError, match="does not support quotas"):
        election_from_dict(mixed_doc(["sav"]))

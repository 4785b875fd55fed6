"""Grade and for/against envelopes: definition keys and errors, the e-vote object form,
validation into ``project=opinion`` items, the tally's grade profiles (hand-checked)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.counting.count import count_ballots
from engine.errors import ElectionDefinitionError
from engine.formats.election_canonical import definition_hash, election_to_dict
from engine.formats.election_definition import election_from_dict
from engine.formats.evote import parse_evote_line, parse_evote_line_reference
from engine.model.ballots import Ballot, Rejection, SourceRef, Submission, validate_submission
from engine.model.opinions import grade_of, split_item, stance_of
from engine.model.tokens import TokenVerifier, issue_token

SRC = SourceRef("votes.jsonl", 1)
BASE: dict[str, Any] = {
    "election": {"id": "t", "name": "T"},
    "envelopes": [
        {"id": "g", "name": "G", "kind": "citywide", "budget": 100, "max_selections": 3, "ballot": "grades",
         "grades": ["very good", "good", "poor"], "ungraded": "good"},
        {"id": "f", "name": "F", "kind": "district", "budget": 100, "max_selections": 2, "ballot": "for-against"},
    ],
    "projects": [
        {"id": "A", "envelope": "g", "title": "A", "cost": 60},
        {"id": "B", "envelope": "g", "title": "B", "cost": 50},
        {"id": "X", "envelope": "f", "title": "X", "cost": 60},
        {"id": "Y", "envelope": "f", "title": "Y", "cost": 60},
    ],
}
KEY = Ed25519PrivateKey.from_private_bytes(b"\x15" * 32)
ELECTION = election_from_dict(BASE)
VERIFIER = TokenVerifier(KEY.public_key(), "t")


def doc(**env0: Any) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    d["envelopes"][0].update(env0)
    for k in [k for k, v in env0.items() if v is None]:
        del d["envelopes"][0][k]
    return d


def test_defaults_are_the_four_paris_grades_and_ungraded_is_the_lowest() -> None:
    e = election_from_dict(doc(grades=None, ungraded=None)).envelopes[0]
    assert e.grades == ("J'adore", "J'aime bien", "Pourquoi pas", "Pas convaincu·e")
    assert e.grade_scale[0] == "Pas convaincu·e" and e.default_grade == 0
    assert e.rule == "majority-judgment"
    assert ELECTION.envelope("f").rule == "for-against"  # type: ignore[union-attr]


def test_ungraded_names_its_grade() -> None:
    env = ELECTION.envelopes[0]
    assert env.grade_scale == ("poor", "good", "very good") and env.default_grade == 1


@pytest.mark.parametrize(("change", "where", "says"), [
    ({"ballot": "grade"}, "envelopes[0].ballot", "did you mean 'grades'"),
    ({"grades": ["a"]}, "envelopes[0].grades", "at least two grades"),
    ({"grades": ["a", "b", "a"], "ungraded": None}, "envelopes[0].grades", "'a' is listed twice"),
    ({"grades": ["a", ""], "ungraded": None}, "envelopes[0].grades[1]", "non-empty string"),
    ({"ungraded": "goood"}, "envelopes[0].ungraded", "did you mean 'good'"),
    ({"rule": "greedy"}, "envelopes[0].rule", "cannot count ballot = 'grades'"),
    ({"category_limits": {"x": 1}}, "envelopes[0].category_limits", "approval ballots only"),
    ({"ballot": "approval", "rule": "greedy"}, "envelopes[0].grades", "only for ballot = \"grades\""),
])
def test_errors_name_the_key_path(change: dict[str, Any], where: str, says: str) -> None:
    with pytest.raises(ElectionDefinitionError) as exc:
        election_from_dict(doc(**change))
    assert where in exc.value.location and says in exc.value.message


def test_a_for_against_envelope_refuses_a_grade_rule() -> None:
    d = copy.deepcopy(BASE)
    d["envelopes"][1]["rule"] = "majority-judgment"
    with pytest.raises(ElectionDefinitionError, match="cannot count ballot = 'for-against'"):
        election_from_dict(d)


def test_canonical_form_round_trips_and_leaves_approval_envelopes_alone() -> None:
    assert election_from_dict(election_to_dict(ELECTION)) == ELECTION
    approval = copy.deepcopy(BASE)
    approval["envelopes"] = [{"id": "a", "name": "A", "kind": "citywide", "budget": 100, "max_selections": 1}]
    approval["projects"] = [{"id": "A", "envelope": "a", "title": "A", "cost": 1}]
    env = election_to_dict(election_from_dict(approval))["envelopes"][0]
    assert not {"ballot", "grades", "ungraded"} & set(env)  # older definition hashes do not change
    assert definition_hash(ELECTION) != definition_hash(election_from_dict(doc(ungraded="poor")))


def vote(selections: Any) -> Ballot | Rejection:
    raw = json.dumps({"token": issue_token(KEY, "t"), "cast_at": "2026-01-01T00:00:00Z",
                      "selections": selections})
    sub = parse_evote_line(raw, SRC)
    assert isinstance(sub, Submission)
    return validate_submission(ELECTION, VERIFIER, sub)


def test_an_object_of_grades_becomes_sorted_project_opinion_items() -> None:
    b = vote({"g": {"B": "very good", "A": "poor"}, "f": {"Y": "against"}})
    assert isinstance(b, Ballot)
    assert b.selections == (("f", ("Y=against",)), ("g", ("A=0", "B=2")))
    assert [grade_of(i, 3) for i in b.projects("g")] == [("A", 0), ("B", 2)]
    assert stance_of("Y=against") == ("Y", False) and split_item("a=b=for") == ("a=b", "for")


@pytest.mark.parametrize(("selections", "reason", "says"), [
    ({"g": {"A": "excellent"}}, "bad_opinion", "'excellent' is not a grade of this envelope; one of 'very good'"),
    ({"f": {"X": "yes"}}, "bad_opinion", "one of 'for', 'against'"),
    ({"g": ["A"]}, "wrong_ballot_form", "has grades ballots: give {\"project\": \"grade\""),
    ({"f": {"A": "for"}}, "project_not_in_envelope", "belongs to envelope 'g'"),
    ({"f": {"X": "for", "Y": "for"}, "g": {"A": "good", "B": "good", "C": "good"}}, "unknown_project", "'C'"),
])
def test_bad_opinions_are_rejected_with_a_reason(selections: Any, reason: str, says: str) -> None:
    r = vote(selections)
    assert isinstance(r, Rejection) and r.reason == reason and says in r.detail, r


def test_both_for_and_against_is_a_duplicate_key() -> None:
    raw = '{"token": "x", "cast_at": "2026-01-01T00:00:00Z", "selections": {"f": {"X": "for", "X": "against"}}}'
    r = parse_evote_line(raw, SRC)
    assert isinstance(r, Rejection) and r.reason == "duplicate_key" and "'X'" in r.detail


def test_the_fast_path_leaves_opinion_lines_to_the_reference_parser() -> None:
    for sel in ({"g": {"A": "good"}}, {"g": {"A": "good"}, "h": ["P"]}, {"g": {"A": 3}}, {"g": {}}):
        raw = json.dumps({"token": "t", "cast_at": "2026-01-01T00:00:00Z", "selections": sel})
        assert parse_evote_line(raw, SRC) == parse_evote_line_reference(raw, SRC)
    mixed = parse_evote_line_reference(json.dumps(
        {"token": "t", "cast_at": "c", "selections": {"g": {"A": "good"}, "h": ["P"]}}), SRC)
    assert isinstance(mixed, Submission) and mixed.selections == {"h": ["P"]} and mixed.opinions == {"g": {"A": "good"}}


def test_tally_counts_an_ungraded_project_as_the_declared_grade() -> None:
    # three voters; "good" (index 1) is the ungraded grade
    ballots = [vote({"g": {"A": "very good"}}), vote({"g": {"A": "poor", "B": "poor"}}), vote({"g": {"B": "good"}})]
    assert all(isinstance(b, Ballot) for b in ballots)
    result = count_ballots(ELECTION, ballots)  # type: ignore[arg-type]
    et = result.tally.envelopes["g"]
    assert et.projects["A"].grades == [1, 0, 1] and et.ungraded("A") == 1
    assert et.grade_profile("A") == [1, 1, 1]  # poor, good (ungraded), very good: median good
    assert et.grade_profile("B") == [1, 2, 0]  # poor, good, ungraded = good: median good
    # A: median good, 1 above, 1 below -> good-; B: median good, 0 above, 1 below -> good-,
    # ties on 1 opponent: cheaper first (B 50 before A 60); B fits, A does not (50 + 60 > 100)
    alloc = result.allocation.envelopes["g"]
    assert [o.project_id for o in alloc.outcomes] == ["B", "A"] and alloc.selected == ("B",)


def test_supported_projects_are_those_above_the_ungraded_grade_or_voted_for() -> None:
    """Grades lowest first: 0 poor, 1 good (the ungraded grade here), 2 very good: only "very
    good" is above the neutral point; the engine and the verifier's twin agree."""
    from engine.model.opinions import support_definition, supported_projects
    from engine.verifier.definition import parse_definition
    from engine.verifier.fairness_check import support_words, supported

    g, f = ELECTION.envelopes
    assert supported_projects(g, ["A=2", "B=1", "C=0"]) == ["A"]
    assert supported_projects(f, ["X=against", "Y=for"]) == ["Y"]
    assert support_definition(g) == "graded above 'good'" and support_definition(f) == "voted for"
    lowest = election_from_dict(doc(ungraded=None)).envelopes[0]  # ungraded = the lowest, "poor"
    assert supported_projects(lowest, ["A=2", "B=1", "C=0"]) == ["A", "B"]
    with pytest.raises(ValueError, match="not on the scale"):
        supported_projects(g, ["A=7"])
    d = parse_definition(election_to_dict(ELECTION))
    vg, vf = d.envelopes
    assert supported(vg, ["A=2", "B=1", "C=0"]) == ["A"] and supported(vf, ["X=against", "Y=for"]) == ["Y"]
    assert (support_words(vg), support_words(vf)) == (support_definition(g), support_definition(f))

"""validate_submission and the e-vote line parser: every rejection reason, and acceptance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.formats.election_definition import load_election
from engine.formats.evote import parse_evote_line
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef, Submission, validate_submission
from engine.model.tokens import TokenVerifier, issue_token

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "tiny_election.toml"
E = load_election(TINY)
KEY = Ed25519PrivateKey.generate()
V = TokenVerifier(KEY.public_key(), E.id)
SRC = SourceRef("votes.jsonl", 7)


def sub(selections: dict[str, list[str]], token: str | None = None, cast_at: str | None = "2026-05-01T10:00:00Z",
        channel: Channel = Channel.ONLINE) -> Submission:
    return Submission(token or issue_token(KEY, E.id), channel, selections, SRC, cast_at=cast_at)


def reason(s: Submission) -> str:
    r = validate_submission(E, V, s)
    assert isinstance(r, Rejection), r
    assert r.source == SRC
    return r.reason


def test_valid_two_envelope_ballot() -> None:
    b = validate_submission(E, V, sub({"north": ["N3", "N1"], "city": ["C1"]}))
    assert isinstance(b, Ballot)
    assert b.selections == (("city", ("C1",)), ("north", ("N1", "N3")))
    assert b.cast_at == "2026-05-01T10:00:00.000000Z"
    assert len(b.ballot_key) == 64


def test_order_of_selection_does_not_change_the_key() -> None:
    tok = issue_token(KEY, E.id)
    a = validate_submission(E, V, sub({"north": ["N3", "N1"]}, tok))
    b = validate_submission(E, V, sub({"north": ["N1", "N3"]}, tok))
    assert isinstance(a, Ballot) and isinstance(b, Ballot)
    assert a.ballot_key == b.ballot_key


def test_timezone_offsets_normalised() -> None:
    tok = issue_token(KEY, E.id)
    a = validate_submission(E, V, sub({"north": ["N1"]}, tok, "2026-05-01T12:00:00+02:00"))
    b = validate_submission(E, V, sub({"north": ["N1"]}, tok, "2026-05-01T10:00:00Z"))
    assert isinstance(a, Ballot) and isinstance(b, Ballot) and a.ballot_key == b.ballot_key


@pytest.mark.parametrize(
    ("selections", "expected"),
    [
        ({}, "empty_ballot"),
        ({"city": []}, "empty_ballot"),
        ({"east": ["N1"]}, "unknown_envelope"),
        ({"north": ["N1"], "south": ["S1"]}, "envelope_not_allowed"),
        ({"north": ["N9"]}, "unknown_project"),
        ({"north": ["S1"]}, "project_not_in_envelope"),
        ({"north": ["N1", "N1"]}, "duplicate_project"),
        ({"city": ["C1", "C2", "C3"]}, "too_many_selections"),
        ({"city": ["C2", "C3"]}, "category_limit_exceeded"),
        ({"north": ["N1", "N2", "N3"]}, "over_budget_selection"),
    ],
)
def test_rejection_reasons(selections: dict[str, list[str]], expected: str) -> None:
    assert reason(sub(selections)) == expected


def test_required_kind(tmp_path: Path) -> None:
    import tomllib

    from engine.formats.election_definition import election_from_dict

    doc = tomllib.loads(TINY.read_text())
    doc["voting"]["required_kinds"] = ["citywide"]
    e2 = election_from_dict(doc)
    r = validate_submission(e2, V, sub({"north": ["N1"]}))
    assert isinstance(r, Rejection) and r.reason == "envelope_not_allowed"


@pytest.mark.parametrize("cast_at", ["yesterday", "2026-13-01T00:00:00Z", "2026-05-01T10:00:00", ""])
def test_bad_cast_time(cast_at: str) -> None:
    assert reason(sub({"north": ["N1"]}, cast_at=cast_at)) == "bad_cast_time"


def test_token_checked_first() -> None:
    assert reason(sub({"east": ["X"]}, token="PB1-XYZ")) == "token_truncated"


def test_paper_without_cast_time_is_fine() -> None:
    b = validate_submission(E, V, sub({"north": ["N1"]}, cast_at=None, channel=Channel.PAPER))
    assert isinstance(b, Ballot) and b.channel is Channel.PAPER and b.cast_at == ""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "malformed_line"),
        ("[1, 2]", "malformed_line"),
        ('"just a string"', "malformed_line"),
        ('{"cast_at": "2026-05-01T10:00:00Z", "selections": {}}', "missing_field"),
        ('{"token": "x", "selections": {}}', "missing_field"),
        ('{"token": "x", "cast_at": "2026-05-01T10:00:00Z"}', "missing_field"),
        ('{"token": "x", "cast_at": "2026-05-01T10:00:00Z", "selections": {"a": "P1"}}', "missing_field"),
        ('{"token": "x", "cast_at": "2026-05-01T10:00:00Z", "selections": {"a": [1]}}', "missing_field"),
        (b"\xff\xfe{", "malformed_line"),
    ],
)
def test_line_parser_rejections(line: str | bytes, expected: str) -> None:
    r = parse_evote_line(line, SRC)
    assert isinstance(r, Rejection)
    assert r.reason == expected
    assert r.source == SRC


def test_line_parser_refuses_extra_keys() -> None:
    """One grammar for files and the API (issue 12.1): an unknown key is refused, not ignored."""
    tok = issue_token(KEY, E.id)
    line = json.dumps({"token": tok, "cast_at": "2026-05-01T10:00:00Z",
                       "selections": {"north": ["N1"]}, "client": "web"})
    s = parse_evote_line(line, SRC)
    assert isinstance(s, Rejection) and s.reason == "unknown_field" and "'client'" in s.detail


def test_required_kind_is_not_checked_on_a_single_paper_sheet() -> None:
    """Issue 13.9: a paper sheet covers one envelope; a voter's district sheet is valid on its
    own (the voter's sheets are checked together at count time, engine.counting.dedup)."""
    import tomllib

    from engine.formats.election_definition import election_from_dict

    doc = tomllib.loads(TINY.read_text())
    doc["voting"]["required_kinds"] = ["citywide"]
    e2 = election_from_dict(doc)
    tok = issue_token(KEY, E.id)
    sheet = Submission(tok, Channel.PAPER, {"north": ["N1"]}, SRC, None, "ab" * 32, "0" * 16)
    assert isinstance(validate_submission(e2, V, sheet), Ballot)
    online = validate_submission(e2, V, sub({"north": ["N1"]}, tok))
    assert isinstance(online, Rejection) and online.reason == "envelope_not_allowed"

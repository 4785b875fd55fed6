"""The one e-vote grammar (engine.formats.evote): total parser, strict keys, published schema.

Every input line ends as a Submission or a located Rejection with a documented reason:
never an exception (issue 13.3), duplicate keys and unknown keys are refused (13.13, 12.1),
and the JSON Schema in the docs is the one the code publishes (12.1).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.formats.election_definition import load_election
from engine.formats.evote import EVOTE_LINE_SCHEMA, parse_evote_line
from engine.model.ballots import REJECTION_REASONS, Ballot, Rejection, SourceRef, Submission
from engine.model.tokens import TokenVerifier, issue_token
from engine.services.ingest import validate_one

REPO = Path(__file__).resolve().parents[2]
ELECTION = load_election(REPO / "fixtures" / "samples" / "tiny_election.toml")
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VERIFIER = TokenVerifier(KEY.public_key(), ELECTION.id)
TOKEN = issue_token(KEY, ELECTION.id, bytes(10))
SRC = SourceRef("votes.jsonl", 3)
CITY = [p.id for p in ELECTION.projects_in("city")][:1]


def line(**fields: object) -> str:
    doc: dict[str, object] = {"token": TOKEN, "cast_at": "2026-05-03T10:00:00Z", "selections": {"city": CITY}}
    doc.update(fields)
    return json.dumps(doc)


def outcome(raw: str | bytes) -> Ballot | Rejection:
    return validate_one(ELECTION, VERIFIER, b"k" * 32, parse_evote_line(raw, SRC))


def test_a_valid_line_is_a_ballot() -> None:
    assert isinstance(outcome(line()), Ballot)


@pytest.mark.parametrize("cast_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_cast_time_that_overflows_is_a_bad_cast_time(cast_at: str) -> None:
    res = outcome(line(cast_at=cast_at))
    assert isinstance(res, Rejection) and res.reason == "bad_cast_time" and res.source == SRC


def test_a_5000_digit_integer_is_a_malformed_line() -> None:
    res = outcome(line()[:-1] + ', "n": ' + "9" * 5000 + "}")
    assert isinstance(res, Rejection) and res.reason == "malformed_line" and res.source == SRC
    res = outcome(line()[:-1].replace(json.dumps(TOKEN), "1" + "0" * 5000) + "}")
    assert isinstance(res, Rejection) and res.reason == "malformed_line"


@pytest.mark.parametrize("raw", [
    '{"token": "%s", "token": "PB1-OTHER", "cast_at": "2026-05-03T10:00:00Z", "selections": {"city": []}}',
    '{"token": "%s", "cast_at": "2026-05-03T10:00:00Z", "selections": {"city": ["C1"], "city": ["C2"]}}',
    '{"token": "%s", "cast_at": "2026-05-03T10:00:00Z", "cast_at": "2026-05-04T10:00:00Z", "selections": {}}',
])
def test_duplicate_keys_are_rejected(raw: str) -> None:
    res = outcome(raw % TOKEN)
    assert isinstance(res, Rejection) and res.reason == "duplicate_key", res
    assert "twice" in res.detail


def test_unknown_keys_are_rejected_naming_the_key() -> None:
    res = outcome(line(voter="me"))
    assert isinstance(res, Rejection) and res.reason == "unknown_field" and "'voter'" in res.detail


def test_unknown_key_with_a_lone_surrogate_gives_a_storable_detail() -> None:
    res = outcome(line()[:-1] + ', "\\ud800": 1}')
    assert isinstance(res, Rejection) and res.reason == "unknown_field"
    res.detail.encode("utf-8")


@pytest.mark.parametrize("token", [" " + TOKEN, TOKEN + " ", "\t" + TOKEN + "  "])
def test_spaces_around_the_token_are_stripped(token: str) -> None:
    res = outcome(line(token=token))
    ref = outcome(line())
    assert isinstance(res, Ballot) and isinstance(ref, Ballot) and res.ballot_key == ref.ballot_key


@pytest.mark.parametrize(("field", "value"), [
    ("token", "PB1-" + "0" * 400),
    ("cast_at", "2026-05-03T10:00:00" + "0" * 100 + "Z"),
    ("selections", {f"e{i}": ["x"] for i in range(60)}),
    ("selections", {"city": ["x"] * 150}),
    ("selections", {"city": ["x" * 150]}),
    ("selections", {"": ["C1"]}),
])
def test_fields_out_of_the_schemas_bounds_are_rejected(field: str, value: object) -> None:
    res = parse_evote_line(line(**{field: value}), SRC)
    assert isinstance(res, Rejection) and res.reason == "missing_field" and field in res.detail


def test_gzip_input_gets_a_hint() -> None:
    import gzip

    res = parse_evote_line(gzip.compress(line().encode()).split(b"\n")[0], SRC)
    assert isinstance(res, Rejection) and res.reason == "malformed_line" and "gzip" in res.detail


def test_cr_only_line_ends_get_a_hint() -> None:
    res = parse_evote_line((line() + "\r" + line() + "\r").encode(), SRC)
    assert isinstance(res, Rejection) and res.reason == "malformed_line" and "carriage return" in res.detail


def test_crlf_line_ends_are_fine() -> None:
    assert isinstance(parse_evote_line((line() + "\r\n").encode(), SRC), Submission)


def test_every_grammar_rejection_reason_is_documented() -> None:
    for reason in ("duplicate_key", "unknown_field", "cast_outside_voting_period", "cast_in_future"):
        assert reason in REJECTION_REASONS
    doc = (REPO / "docs" / "evote-format.md").read_text()
    for reason in REJECTION_REASONS:
        if reason != "duplicate_submission":
            assert f"`{reason}`" in doc, reason


def test_the_schema_in_the_docs_is_the_published_one() -> None:
    doc = (REPO / "docs" / "evote-format.md").read_text()
    m = re.search(r"<!-- evote-line-schema -->\s*```json\n(.*?)```", doc, re.S)
    assert m, "docs/evote-format.md must hold the JSON Schema block"
    assert json.loads(m.group(1)) == EVOTE_LINE_SCHEMA


def test_the_schema_says_what_the_parser_does() -> None:
    """Keys, required fields and bounds of the schema are the parser's (no second grammar)."""
    s = EVOTE_LINE_SCHEMA
    assert s["additionalProperties"] is False
    assert set(s["required"]) == set(s["properties"]) == {"token", "cast_at", "selections"}
    tok_max = s["properties"]["token"]["maxLength"]
    assert isinstance(parse_evote_line(line(token="x" * tok_max), SRC), Submission)
    assert isinstance(parse_evote_line(line(token="x" * (tok_max + 1)), SRC), Rejection)
    sel = s["properties"]["selections"]
    n_env = sel["maxProperties"]
    assert isinstance(parse_evote_line(line(selections={f"e{i}": [] for i in range(n_env)}), SRC), Submission)
    n_proj = sel["additionalProperties"]["oneOf"][0]["maxItems"]
    assert isinstance(parse_evote_line(line(selections={"city": ["p"] * n_proj}), SRC), Submission)

"""The voting period (issue 13.4): ``[voting] opens/closes`` bound every cast time."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.errors import ElectionDefinitionError
from engine.formats.election_canonical import definition_hash, election_to_dict
from engine.formats.election_definition import election_from_dict, load_election
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef, Submission, validate_submission
from engine.model.tokens import TokenVerifier, issue_token

REPO = Path(__file__).resolve().parents[2]
TINY = load_election(REPO / "fixtures" / "samples" / "tiny_election.toml")
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def with_period(opens: Any, closes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(election_to_dict(TINY))
    doc["voting"].pop("opens", None)
    doc["voting"].pop("closes", None)
    if opens is not None:
        doc["voting"]["opens"] = opens
    if closes is not None:
        doc["voting"]["closes"] = closes
    return doc


PERIOD = election_from_dict(with_period("2026-09-07T08:00:00+02:00", "2026-10-05T20:00:00+02:00"))
CITY = [p.id for p in PERIOD.projects_in("city")][:1]


def check(cast_at: str, not_after: str | None = None) -> Ballot | Rejection:
    sub = Submission(issue_token(KEY, PERIOD.id, bytes(10)), Channel.ONLINE, {"city": CITY},
                     SourceRef("v.jsonl", 1), cast_at)
    return validate_submission(PERIOD, TokenVerifier(KEY.public_key(), PERIOD.id), sub, not_after=not_after)


@pytest.mark.parametrize("cast_at", ["2026-09-07T06:00:00Z", "2026-09-20T10:00:00+02:00", "2026-10-05T17:59:59Z"])
def test_cast_times_inside_the_period_are_accepted(cast_at: str) -> None:
    assert isinstance(check(cast_at), Ballot)


@pytest.mark.parametrize("cast_at", ["2026-09-07T05:59:59.999999Z", "2026-10-05T18:00:00Z", "2099-01-01T00:00:00Z",
                                     "0999-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00"])
def test_cast_times_outside_the_period_are_rejected(cast_at: str) -> None:
    res = check(cast_at)
    assert isinstance(res, Rejection) and res.reason == "cast_outside_voting_period", res
    assert "2026-09-07T08:00:00+02:00" in res.detail and res.voter_serial


def test_a_cast_time_in_the_future_of_the_server_is_rejected() -> None:
    assert isinstance(check("2026-09-10T10:00:00Z", not_after="2026-09-10T10:05:00.000000Z"), Ballot)
    res = check("2026-09-10T10:05:00.000001Z", not_after="2026-09-10T10:05:00.000000Z")
    assert isinstance(res, Rejection) and res.reason == "cast_in_future"


def test_toml_datetimes_are_accepted_and_round_trip() -> None:
    e = election_from_dict(with_period(dt.datetime(2026, 9, 7, 8, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                                       "2026-10-05T20:00:00+02:00"))
    assert e.voting.opens == PERIOD.voting.opens and e.voting.closes == PERIOD.voting.closes
    again = election_from_dict(election_to_dict(PERIOD))
    assert again.voting == PERIOD.voting and definition_hash(again) == definition_hash(PERIOD)


@pytest.mark.parametrize(("opens", "closes", "message"), [
    ("2026-09-07T08:00:00", "2026-10-05T20:00:00Z", "timezone"),
    ("2026-10-07T08:00:00Z", "2026-10-05T20:00:00Z", "before"),
    ("2026-09-07T08:00:00Z", None, "both"),
    ("next monday", "2026-10-05T20:00:00Z", "ISO 8601"),
    (5, "2026-10-05T20:00:00Z", "ISO 8601"),
    ("0001-01-01T00:00:00+14:00", "2026-10-05T20:00:00Z", "out of range"),
])
def test_a_bad_period_is_a_definition_error_naming_the_key(opens: Any, closes: Any, message: str) -> None:
    with pytest.raises(ElectionDefinitionError, match=message) as err:
        election_from_dict(with_period(opens, closes))
    assert "voting" in str(err.value)


def test_without_a_period_the_definition_hash_is_unchanged() -> None:
    doc = with_period(None, None)
    assert "opens" not in election_to_dict(election_from_dict(doc))["voting"]

"""Issue 13.9: ``required_kinds`` is checked per voter across paper sheets, not per sheet.

A paper sheet covers one envelope. Before the fix a voter's district sheet went to review
("a 'citywide' envelope is required") although their city-wide sheet was accepted, and
``review resolve`` refused it with the same error; the verifier refused it in the bundle.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ballot_scan.decide import ACCEPTED, decide_page
from ballot_scan.read import PageRead
from engine.counting.count import count_ballots
from engine.formats.election_canonical import election_to_dict
from engine.formats.election_definition import election_from_dict
from engine.model.tokens import TokenVerifier, issue_token
from engine.verifier.definition import BallotRules, parse_definition

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "tiny_election.toml"
DOC = tomllib.loads(TINY.read_text())
DOC["voting"]["required_kinds"] = ["citywide"]
E = election_from_dict(DOC)
KEY = Ed25519PrivateKey.generate()
V = TokenVerifier(KEY.public_key(), E.id)


def page(token: str, code: str, votes: list[str], serial: str, n: int) -> PageRead:
    return PageRead(image=f"scan-{n}.png", page=1, image_sha256=f"{n:064x}", qr_read=True, envelope_code=code,
                    page_no=1, pages=1, token=token, ballot_serial=serial, layout_ok=True, votes=list(votes),
                    ocr_page_code=f"{code}-1")


def test_district_sheet_is_accepted_and_counts_with_the_citywide_sheet() -> None:
    tok = issue_token(KEY, E.id)
    city = decide_page(E, V, {}, page(tok, "CITY", ["C1"], "1" * 16, 1))
    north = decide_page(E, V, {}, page(tok, "NORTH", ["N1"], "2" * 16, 2))
    assert city.status == ACCEPTED, city.reasons
    assert north.status == ACCEPTED, (north.reasons, north.details)
    assert city.ballot is not None and north.ballot is not None
    res = count_ballots(E, [city.ballot, north.ballot])
    assert set(res.dedup.counted) == {city.ballot, north.ballot}
    # a voter with a district sheet only has an incomplete paper ballot: kept, not counted
    alone = decide_page(E, V, {}, page(issue_token(KEY, E.id), "SOUTH", ["S1"], "3" * 16, 3))
    assert alone.status == ACCEPTED and alone.ballot is not None
    res = count_ballots(E, [alone.ballot])
    assert res.dedup.counted == () and res.dedup.superseded[0].reason == "incomplete_paper_ballot"


def test_verifier_accepts_a_published_district_sheet_but_not_an_online_ballot_without_citywide() -> None:
    rules = BallotRules(parse_definition(election_to_dict(E)))
    assert rules.problem({"north": ["N1"]}, paper=True) is None
    assert "required" in (rules.problem({"north": ["N1"]}) or "")

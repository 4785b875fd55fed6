"""Issue 13.8 and 13.7 on the scan path: the scanner never chooses between two sheets of one
voter for one envelope, and a `latest` election refuses paper ballots up front.

Before: the second clean sheet was accepted and the count kept the one with the smaller
ballot key, so scanning one more sheet could change the counted vote.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ballot_scan.adjudicate import reject, resolve
from ballot_scan.pipeline import scan_paths
from ballot_scan.render import read_token_register
from ballot_scan.testdeck import DeckOptions, make_testdeck
from engine.errors import PrecedenceError
from engine.formats.election_definition import election_from_dict, load_election
from engine.model.tokens import TokenVerifier
from engine.services.count import count_store
from engine.storage.keyfiles import load_public_key
from engine.storage.review_store import ReviewStore
from engine.storage.store import Store

CLEAN = DeckOptions(p_blank_page=0, p_foreign=0, p_blank_ballot=0, p_overvote=0, p_ambiguous=0,
                    p_damaged_qr=0, p_upside_down=0, p_stray_dot=0, degrade=False)


def test_second_sheet_for_an_envelope_goes_to_review_and_accepting_it_counts_neither(
        small_paris: Path, tmp_path: Path) -> None:
    e = load_election(small_paris / "election.toml")
    token = read_token_register(small_paris / "paper_tokens.csv")[0]
    deck = tmp_path / "deck"
    make_testdeck(e, ["ar11"], [token], deck, count=2, seed=3, opts=CLEAN)  # two sheets, one token
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    keys = small_paris / "keys"
    summary = scan_paths(store, e, load_public_key(keys), [deck], workers=1)
    assert summary.accepted == 1 and summary.needs_review == 1, summary.line()
    [item] = ReviewStore(store).list()
    assert item.reasons == ["conflicting_sheet"]
    assert "already stored" in " ".join(item.details)
    counted = count_store(store, persist=False).dedup.counted
    assert len([b for b in counted if b.voter_serial == token.serial]) == 1
    # the adjudicator says both sheets are real: both kept, neither counts, the reason says why
    verifier = TokenVerifier(load_public_key(keys), e.id)
    resolve(store, verifier, item.id, item.proposed_selections, "alice", "two real sheets")
    res = count_store(store, persist=False)
    assert not [b for b in res.dedup.counted if b.voter_serial == token.serial]
    assert sorted(s.reason for s in res.dedup.superseded if s.ballot.voter_serial == token.serial) == [
        "conflicting_paper_sheets", "conflicting_paper_sheets"]


def test_rejecting_the_second_sheet_keeps_the_first(small_paris: Path, tmp_path: Path) -> None:
    e = load_election(small_paris / "election.toml")
    token = read_token_register(small_paris / "paper_tokens.csv")[1]
    deck = tmp_path / "deck"
    make_testdeck(e, ["ar11"], [token], deck, count=2, seed=4, opts=CLEAN)
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    scan_paths(store, e, load_public_key(small_paris / "keys"), [deck], workers=1)
    [item] = ReviewStore(store).list()
    reject(store, item.id, "alice", "a photocopy")
    counted = count_store(store, persist=False).dedup.counted
    assert len([b for b in counted if b.voter_serial == token.serial]) == 1


def test_a_second_district_sheet_goes_to_review(small_paris: Path, tmp_path: Path) -> None:
    """Paris allows one district envelope per voter: sheets for ar11 and ar12 with one token."""
    e = load_election(small_paris / "election.toml")
    assert e.voting.max_envelopes_per_kind["district"] == 1
    token = read_token_register(small_paris / "paper_tokens.csv")[2]
    deck = tmp_path / "deck"
    make_testdeck(e, ["ar11", "ar12"], [token], deck, count=2, seed=5, opts=CLEAN)
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    summary = scan_paths(store, e, load_public_key(small_paris / "keys"), [deck], workers=1)
    assert summary.accepted == 1 and summary.needs_review == 1, summary.line()
    [item] = ReviewStore(store).list()
    assert item.reasons == ["conflicting_sheet"] and "district" in " ".join(item.details)


def test_latest_election_refuses_paper(small_paris: Path, tmp_path: Path) -> None:
    doc = tomllib.loads((small_paris / "election.toml").read_text())
    doc["election"]["precedence"] = "latest"
    e = election_from_dict(doc)
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    with pytest.raises(PrecedenceError, match="latest"):
        scan_paths(store, e, load_public_key(small_paris / "keys"), [tmp_path], workers=1)
    assert store.ballot_count() == 0


def test_api_refuses_scans_in_a_latest_election(small_paris: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from helpers.api_fixtures import make_world

    from api import ApiSettings, create_app

    fixture = tmp_path / "fixture"
    fixture.mkdir()
    (fixture / "keys").symlink_to(small_paris / "keys")
    text = (small_paris / "election.toml").read_text()
    assert 'precedence = "paper-first"' in text
    (fixture / "election.toml").write_text(text.replace('precedence = "paper-first"', 'precedence = "latest"'))
    world = make_world(tmp_path / "w", fixture)
    app = create_app(ApiSettings(keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle"), store=world.store)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v1/scans", files=[("files", ("a.png", b"\x89PNG", "image/png"))], headers=world.op())
    assert r.status_code == 409 and r.json()["error"]["code"] == "paper_not_allowed", r.text

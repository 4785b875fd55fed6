"""End-to-end accuracy on a CI-size degraded test deck: render -> mark -> degrade -> scan.

The truth comes from the deck generator's plan (expected.json), never from the scanner.
The 2,000-image deck is benchmarks/bench_scan.py; this one is small but hard (more
ambiguous marks, damaged QR codes, upside-down, blank and foreign pages than reality).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ballot_scan.pipeline import read_register, scan_paths
from ballot_scan.render import read_token_register
from ballot_scan.testdeck import DeckOptions, make_testdeck
from engine.formats.election_definition import load_election
from engine.services.count import count_store
from engine.storage.keyfiles import load_public_key
from engine.storage.review_store import ReviewStore
from engine.storage.store import Store

HARD = DeckOptions(p_blank_page=0.05, p_foreign=0.05, p_blank_ballot=0.05, p_overvote=0.05, p_ambiguous=0.3,
                   p_damaged_qr=0.08, p_upside_down=0.15, p_png=0.2)


@pytest.fixture(scope="module")
def scanned(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("scan-acc")
    election = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")
    deck = tmp / "deck"
    make_testdeck(election, ["paris", "ar11", "ar18"], tokens, deck, count=48, seed=11, opts=HARD, workers=2)
    store = Store.open(f"sqlite:///{tmp / 'scan.db'}")
    report = tmp / "report.json"
    summary = scan_paths(store, election, load_public_key(small_paris / "keys"), [deck],
                         register=read_register(small_paris / "paper_tokens.csv"), workers=2, report_path=report)
    expected = json.loads((deck / "expected.json").read_text())
    return {"store": store, "summary": summary, "report": json.loads(report.read_text()),
            "expected": {b["image"]: b for b in expected["ballots"]}, "deck": deck, "election": election,
            "keys": small_paris / "keys", "paper_tokens": small_paris / "paper_tokens.csv"}


def test_deck_covers_the_hard_cases(scanned: dict) -> None:
    exp = scanned["expected"].values()
    kinds = {b["kind"] for b in exp}
    assert {"ballot", "blank", "foreign"} <= kinds
    assert sum(b["ambiguous"] for b in exp) >= 5
    assert any(b["upside_down"] for b in exp) and any(b["damaged_qr"] for b in exp)


def test_no_silent_misread(scanned: dict) -> None:
    for page in scanned["report"]["pages"]:
        truth = scanned["expected"][page["image"]]
        if page["status"] == "accepted":
            assert truth["kind"] == "ballot", page
            assert not truth["ambiguous"], page
            assert page["selections"] == truth["selections"], page
            assert page["envelope"] == truth["envelope"], page


def test_every_ambiguous_mark_goes_to_review(scanned: dict) -> None:
    by_image = {p["image"]: p for p in scanned["report"]["pages"]}
    ambiguous = [b for b in scanned["expected"].values() if b["ambiguous"]]
    assert ambiguous
    for b in ambiguous:
        page = by_image[b["image"]]
        assert page["status"] == "needs_review", (b, page)
        assert "ambiguous_mark" in page["reasons"]
        for m in b["ambiguous_marks"]:
            assert m["project_id"] in page["ambiguous"], (b, page)


def test_blank_and_foreign_pages_are_rejected_and_blank_ballots_reviewed(scanned: dict) -> None:
    by_image = {p["image"]: p for p in scanned["report"]["pages"]}
    for b in scanned["expected"].values():
        page = by_image[b["image"]]
        if b["kind"] in ("blank", "foreign"):
            assert page["status"] == "rejected" and page["reasons"], page
        elif "blank_ballot" in b["expected_reasons"]:
            assert page["status"] == "needs_review" and "blank_ballot" in page["reasons"]
        elif "overvote" in b["expected_reasons"]:
            assert page["status"] == "needs_review" and "overvote" in page["reasons"]


def test_clean_ballots_are_accepted(scanned: dict) -> None:
    """Unambiguous ballots with a readable QR: under 2 % may go to review (here: none of ~30)."""
    by_image = {p["image"]: p for p in scanned["report"]["pages"]}
    clean = [b for b in scanned["expected"].values()
             if b["kind"] == "ballot" and b["expected_status"] == "accepted" and not b["damaged_qr"]]
    assert len(clean) >= 20
    reviewed = [b["image"] for b in clean if by_image[b["image"]]["status"] != "accepted"]
    assert len(reviewed) / len(clean) < 0.02, reviewed


def test_report_contract(scanned: dict) -> None:
    pages = scanned["report"]["pages"]
    assert len(pages) == len(scanned["expected"])
    for p in pages:
        assert {"image", "status", "envelope", "selections", "reasons", "scores"} <= set(p)
        assert p["status"] in ("accepted", "needs_review", "rejected")
        if p["status"] != "accepted":
            assert p["reasons"]


def test_store_matches_report_and_rescan_changes_nothing(scanned: dict) -> None:
    store: Store = scanned["store"]
    pages = scanned["report"]["pages"]
    accepted = sum(p["status"] == "accepted" for p in pages)
    review = sum(p["status"] == "needs_review" for p in pages)
    assert store.ballot_count() == accepted
    assert len(ReviewStore(store).list()) == review
    again = scan_paths(store, scanned["election"], load_public_key(scanned["keys"]), [scanned["deck"]],
                       register=read_register(scanned["paper_tokens"]), workers=1)
    assert again.already_known == accepted and again.review_new == 0
    assert store.ballot_count() == accepted
    assert len(ReviewStore(store).list()) == review


def test_paper_ballots_are_counted_on_the_paper_channel(scanned: dict) -> None:
    result = count_store(scanned["store"], persist=False)
    papers = [b for b in result.dedup.counted if b.channel.value == "paper"]
    assert papers
    assert all(b.receipt_id.startswith("P") and b.image_sha256 for b in papers)

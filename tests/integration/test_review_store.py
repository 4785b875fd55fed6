"""The review queue repository on both backends (SQLite, PostgreSQL): idempotent adds,
one decision per item, and a resolved item counted like any paper ballot."""

from __future__ import annotations

from pathlib import Path

import pytest

from ballot_scan.adjudicate import resolve
from ballot_scan.payload import new_ballot_serial
from ballot_scan.render import read_token_register
from engine.errors import StoreError
from engine.formats.election_definition import load_election
from engine.model.tokens import TokenVerifier
from engine.services.count import count_store
from engine.storage.keyfiles import load_public_key
from engine.storage.review_store import NewReviewItem, ReviewStore
from engine.storage.store import Store


def test_review_queue_round_trip(store_url: str, small_paris: Path) -> None:
    e = load_election(small_paris / "election.toml")
    store = Store.open(store_url)
    store.freeze_election(e)
    tok = read_token_register(small_paris / "paper_tokens.csv")[3]
    serial = new_ballot_serial(bytes(range(10)))
    items = [
        NewReviewItem("a.jpg", 1, "1" * 64, "ar07", tok.token, serial, ["ambiguous_mark"],
                      {"AR07-001": 0.08, "AR07-002": 0.5}, ["AR07-002"],
                      details=["AR07-001: faint mark (score 0.080, faint 0.400) — « à vérifier »"]),
        NewReviewItem("b.tif", 2, "2" * 64, None, None, None, ["page_unidentified"], {}, []),
    ]
    reviews = ReviewStore(store)
    assert reviews.add(items) == 2
    assert reviews.add(items) == 0  # same image and page: already queued
    first, second = reviews.list()
    assert (first.source_name, first.scores["AR07-001"], first.proposed_selections) == ("a.jpg", 0.08, ["AR07-002"])
    assert second.envelope_id is None and second.token is None
    assert first.details == ["AR07-001: faint mark (score 0.080, faint 0.400) — « à vérifier »"]
    assert second.details == [] and first.public_dict()["details"] == first.details
    verifier = TokenVerifier(load_public_key(small_paris / "keys"), e.id)
    decided, ballot = resolve(store, verifier, first.id, ["AR07-001", "AR07-002"], "carol", "dot is a vote")
    assert decided.status == "accepted" and decided.final_selections == ["AR07-001", "AR07-002"]
    with pytest.raises(StoreError, match="already accepted"):
        reviews.decide(first.id, "rejected", "dave", "late", None)
    assert reviews.counts() == {"accepted": 1, "pending": 1}
    assert reviews.paper_serials() == {serial: "1" * 64}
    counted = [b for b in count_store(store, persist=False).dedup.counted if b.channel.value == "paper"]
    assert [(b.ballot_key, b.projects("ar07")) for b in counted] == [(ballot.ballot_key, ("AR07-001", "AR07-002"))]
    store.close()

"""Adjudication: review items are decided once, by a named person, and enter the count
through the same engine path; paper beats online for a voter who used both channels."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ballot_scan.adjudicate import AdjudicationError, reject, resolve
from ballot_scan.pipeline import scan_paths
from ballot_scan.render import read_token_register
from ballot_scan.testdeck import DeckOptions, make_testdeck
from engine.formats.election_definition import load_election
from engine.model.tokens import TokenVerifier
from engine.services.count import count_store
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import load_public_key, load_receipt_secret
from engine.storage.review_store import ReviewStore
from engine.storage.store import Store

# every ballot has one ambiguous mark -> every ballot page goes to review
ALL_REVIEW = DeckOptions(p_blank_page=0, p_foreign=0, p_blank_ballot=0, p_overvote=0, p_ambiguous=1.0,
                         p_damaged_qr=0, p_upside_down=0)


@pytest.fixture()
def queued(small_paris: Path, tmp_path: Path) -> dict:
    e = load_election(small_paris / "election.toml")
    rows = list(csv.DictReader((small_paris / "paper_tokens.csv").open()))
    also_online = [r for r in rows if r["also_online"] == "1"]
    tokens = [t for t in read_token_register(small_paris / "paper_tokens.csv") if t.serial == also_online[0]["serial"]]
    deck = tmp_path / "deck"
    make_testdeck(e, ["ar11"], tokens, deck, count=3, seed=5, opts=ALL_REVIEW)
    store = Store.open(f"sqlite:///{tmp_path / 'r.db'}")
    keys = small_paris / "keys"
    scan_paths(store, e, load_public_key(keys), [deck], workers=1)
    return {"store": store, "e": e, "verifier": TokenVerifier(load_public_key(keys), e.id),
            "serial": also_online[0]["serial"], "fixture": small_paris}


def test_scan_queues_pages_with_reasons_and_scores(queued: dict) -> None:
    items = ReviewStore(queued["store"]).list()
    assert len(items) == 3
    for it in items:
        assert it.status == "pending" and "ambiguous_mark" in it.reasons
        assert it.scores and it.token and it.ballot_serial and it.envelope_id == "ar11"


def test_resolve_counts_the_ballot_records_who_and_paper_beats_online(queued: dict) -> None:
    store: Store = queued["store"]
    keys = queued["fixture"] / "keys"
    ingest_evote_file(store, queued["fixture"] / "evotes.jsonl", queued["e"], load_public_key(keys),
                      load_receipt_secret(keys), workers=1)
    item = ReviewStore(store).list()[0]
    before = count_store(store, persist=False)
    online = [b for b in before.dedup.counted if b.voter_serial == queued["serial"]]
    assert online and online[0].channel.value == "online"
    decided, ballot = resolve(store, queued["verifier"], item.id, ["AR11-001", "AR11-002"], "alice",
                              "faint mark is a smudge")
    assert decided.status == "accepted" and decided.decided_by == "alice" and decided.decided_at
    assert decided.final_selections == ["AR11-001", "AR11-002"] and decided.decision_note == "faint mark is a smudge"
    after = count_store(store, persist=False)
    counted = [b for b in after.dedup.counted if b.voter_serial == queued["serial"]]
    assert [b.ballot_key for b in counted] == [ballot.ballot_key]
    assert counted[0].channel.value == "paper" and counted[0].projects("ar11") == ("AR11-001", "AR11-002")
    assert any(s.reason == "superseded_by_paper" and s.ballot.voter_serial == queued["serial"]
               for s in after.dedup.superseded)
    last = store.audit_entries()[-1]
    assert last.action == "review_resolved" and last.actor == "alice" and last.details["review_id"] == item.id


def test_a_decision_is_final(queued: dict) -> None:
    store: Store = queued["store"]
    item = ReviewStore(store).list()[0]
    resolve(store, queued["verifier"], item.id, ["AR11-003"], "alice")
    with pytest.raises(AdjudicationError, match="already accepted"):
        resolve(store, queued["verifier"], item.id, ["AR11-004"], "bob")
    with pytest.raises(AdjudicationError, match="already accepted"):
        reject(store, item.id, "bob", "no")


def test_invalid_selection_is_refused_and_item_stays_pending(queued: dict) -> None:
    store: Store = queued["store"]
    item = ReviewStore(store).list()[0]
    with pytest.raises(AdjudicationError, match="too_many_selections"):
        resolve(store, queued["verifier"], item.id, [f"AR11-00{i}" for i in range(1, 7)], "alice")
    with pytest.raises(AdjudicationError, match="project_not_in_envelope"):
        resolve(store, queued["verifier"], item.id, ["PAR-001"], "alice")
    with pytest.raises(AdjudicationError, match="names its author"):
        resolve(store, queued["verifier"], item.id, ["AR11-001"], " ")
    assert ReviewStore(store).get(item.id).status == "pending"


def test_reject_is_recorded_and_not_counted(queued: dict) -> None:
    store: Store = queued["store"]
    items = ReviewStore(store).list()
    n_before = store.ballot_count()
    decided = reject(store, items[1].id, "bob", "two different pens, voter intent unclear")
    assert decided.status == "rejected" and decided.decided_by == "bob"
    assert store.ballot_count() == n_before
    assert store.rejection_counts().get("rejected_by_adjudication") == 1
    assert store.audit_entries()[-1].action == "review_rejected"
    assert len(ReviewStore(store).list()) == len(items) - 1


def test_a_second_image_of_the_same_ballot_is_not_counted_twice(small_paris: Path, tmp_path: Path) -> None:
    """Same sheet scanned again (different bytes) or photocopied: same ballot serial -> review."""
    import random

    import cv2
    import numpy as np

    from ballot_scan.layout import envelope_layout
    from ballot_scan.render import render_ballots
    from ballot_scan.testdeck import draw_mark

    e = load_election(small_paris / "election.toml")
    res = render_ballots(e, "ar05", tmp_path / "p", dpi=200, tokens=read_token_register(small_paris /
                         "paper_tokens.csv")[:1], seed=2, pdf=False)
    mb = envelope_layout(e, "ar05")[0].boxes[2]
    img = np.array(cv2.imread(str(tmp_path / "p" / res.ballots[0].images[0]), cv2.IMREAD_GRAYSCALE))
    draw_mark(img, "tick", mb.box, mb.text, 200, random.Random(1))
    (tmp_path / "s").mkdir()
    cv2.imwrite(str(tmp_path / "s" / "first.png"), img)
    cv2.imwrite(str(tmp_path / "s" / "again.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    store = Store.open(f"sqlite:///{tmp_path / 'd.db'}")
    keys = small_paris / "keys"
    s = scan_paths(store, e, load_public_key(keys), [tmp_path / "s"], workers=1)
    assert (s.accepted, s.needs_review) == (1, 1)
    (item,) = ReviewStore(store).list()
    assert item.reasons == ["duplicate_ballot_serial"]
    verifier = TokenVerifier(load_public_key(keys), e.id)
    with pytest.raises(AdjudicationError, match="already counted"):
        resolve(store, verifier, item.id, [mb.project_id], "alice")
    assert ReviewStore(store).get(item.id).status == "pending"
    reject(store, item.id, "alice", "second scan of the same sheet")
    assert store.ballot_count() == 1

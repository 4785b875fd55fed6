"""A ballot too long for one page: its pages are read alone and assembled by ballot serial."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import numpy as np

from ballot_scan.layout import envelope_layout
from ballot_scan.pipeline import scan_paths
from ballot_scan.render import read_token_register, render_ballots
from ballot_scan.testdeck import draw_mark
from engine.election import election_from_dict, election_to_dict, load_election
from engine.keyfiles import load_public_key
from engine.storage.review_store import ReviewStore
from engine.storage.store import Store


def test_two_page_ballot_is_assembled_or_sent_to_review(small_paris: Path, tmp_path: Path) -> None:
    doc = election_to_dict(load_election(small_paris / "election.toml"))
    for i in range(1, 31):  # make the city-wide ballot longer than one page
        doc["projects"].append({"id": f"PAR-X{i:02d}", "envelope": "paris", "title": f"Extra {i}", "cost": 10_000,
                                "popular_neighbourhood": False, "category": f"extra{i}"})
    e = election_from_dict(doc)
    pages = envelope_layout(e, "paris")
    assert len(pages) == 2
    token = read_token_register(small_paris / "paper_tokens.csv")[:1]
    out = tmp_path / "print"
    res = render_ballots(e, "paris", out, dpi=200, tokens=token, seed=3, pdf=False)
    names = res.ballots[0].images
    picks = [pages[0].boxes[3], pages[1].boxes[-1]]
    rng = random.Random(1)
    for name, mb in zip(names, picks, strict=True):
        img = np.array(cv2.imread(str(out / name), cv2.IMREAD_GRAYSCALE))
        draw_mark(img, "cross", mb.box, mb.text, 200, rng)
        cv2.imwrite(str(out / name), img)
    assert json.loads((out / "layout.json").read_text())["pages"][1]["page"] == 2
    keys = load_public_key(small_paris / "keys")

    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    s = scan_paths(store, e, keys, [out / n for n in names], workers=1)
    assert (s.accepted, s.needs_review, s.rejected) == (1, 0, 0)
    (ballot,) = list(store.iter_ballots())
    assert ballot.projects("paris") == tuple(sorted(mb.project_id for mb in picks))

    store2 = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    s2 = scan_paths(store2, e, keys, [out / names[0]], workers=1)
    assert (s2.accepted, s2.needs_review) == (0, 1)
    (item,) = ReviewStore(store2).list()
    assert "missing_pages" in item.reasons and item.proposed_selections == [picks[0].project_id]

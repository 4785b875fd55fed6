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
from engine.formats.election_canonical import election_to_dict
from engine.formats.election_definition import election_from_dict, load_election
from engine.storage.keyfiles import load_public_key
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


def test_degraded_two_page_ballots_are_assembled_never_misread(small_paris: Path, tmp_path: Path) -> None:
    """Sheet-fed scan conditions on both pages (rotation, shift, blur, lighting, noise,
    JPEG, one page upside down), pages of several ballots interleaved in one folder: each
    ballot is assembled with exactly its marks, or goes to review; never counted wrong."""
    from ballot_scan.testdeck import DeckOptions, degrade, write_image

    doc = election_to_dict(load_election(small_paris / "election.toml"))
    for i in range(1, 31):
        doc["projects"].append({"id": f"PAR-X{i:02d}", "envelope": "paris", "title": f"Extra {i}", "cost": 10_000,
                                "popular_neighbourhood": False, "category": f"extra{i}"})
    e = election_from_dict(doc)
    pages = envelope_layout(e, "paris")
    tokens = read_token_register(small_paris / "paper_tokens.csv")[:4]
    out = tmp_path / "print"
    res = render_ballots(e, "paris", out, dpi=200, tokens=tokens, seed=5, pdf=False)
    scans = tmp_path / "scans"
    scans.mkdir()
    rng = random.Random(11)
    expected: dict[str, tuple[str, ...]] = {}
    for b, rendered in enumerate(res.ballots):
        picks = [pages[0].boxes[b + 1], pages[1].boxes[-1 - b]]
        expected[rendered.ballot_serial] = tuple(sorted(mb.project_id for mb in picks))
        for p, (name, mb) in enumerate(zip(rendered.images, picks, strict=True)):
            img = np.array(cv2.imread(str(out / name), cv2.IMREAD_GRAYSCALE))
            draw_mark(img, "cross", mb.box, mb.text, 200, rng)
            img = degrade(img, rng, DeckOptions(), upside_down=(b + p) % 3 == 0)
            # page 2 of each ballot sorts before page 1, and ballots interleave
            write_image(scans / f"scan-{(1 - p) * 10 + b:02d}.jpg", img, "jpg", rng.randint(70, 90))
    store = Store.open(f"sqlite:///{tmp_path / 'd.db'}")
    s = scan_paths(store, e, load_public_key(small_paris / "keys"), [scans], workers=1)
    counted = {bt.ballot_serial: bt.projects("paris") for bt in store.iter_ballots()}
    print(f"degraded two-page ballots: {s.line()}")
    reviewed = {it.ballot_serial for it in ReviewStore(store).list()}
    assert s.rejected == 0 and s.accepted + s.needs_review == len(expected)
    assert counted and all(counted[k] == expected[k] for k in counted)  # assembled right, never misread
    assert set(counted) | reviewed == set(expected)
    store.close()

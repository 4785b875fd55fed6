"""Paper ballots of a savings envelope (reverse PB): printed with "cut" wording, scanned as
approval ballots, and a ballot touching too few sectors goes to review with its reason.

The savings election reuses the small Paris fixture's election id so that its paper tokens
are valid for it (tokens are bound to the election id).
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ballot_scan.layout import envelope_layout
from ballot_scan.pipeline import scan_paths
from ballot_scan.render import instructions_text, line_amount_text, read_token_register, render_ballots
from ballot_scan.testdeck import draw_mark
from engine.formats.election_definition import election_from_dict, load_election
from engine.model.election import Election
from engine.storage.keyfiles import load_public_key
from engine.storage.review_store import ReviewStore
from engine.storage.store import Store

SAVINGS = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "savings_election.toml"


def savings_election(small_paris: Path, language: str = "fr") -> Election:
    doc = tomllib.loads(SAVINGS.read_text(encoding="utf-8"))
    doc["election"]["id"] = load_election(small_paris / "election.toml").id
    del doc["voting"]  # paper ballots carry no cast time
    e = election_from_dict(doc)
    return replace(e, extra={**e.extra, "language": language})  # as tests/unit/test_render.py does


def test_savings_ballot_wording_in_french_and_english(small_paris: Path) -> None:
    fr = savings_election(small_paris)
    env = fr.envelopes[0]
    assert instructions_text(fr, env) == ("Cochez les dépenses à SUPPRIMER : au plus 5 case(s) ; dans au moins "
                                          "2 secteurs. Objectif d'économies : 100 000 EUR.")
    assert line_amount_text(fr, env, 30000, "culture") == "économie 30 000 EUR si supprimée · secteur culture"
    en = savings_election(small_paris, "en")
    assert instructions_text(en, env) == ("Mark the spending lines to CUT: at most 5 box(es); in at least 2 "
                                          "sectors. Savings target: 100 000 EUR.")
    assert line_amount_text(en, env, 30000, "culture") == "saves 30 000 EUR if cut · sector culture"


def test_savings_paper_ballots_scan_and_min_sectors_goes_to_review(small_paris: Path, tmp_path: Path) -> None:
    e = savings_election(small_paris)
    (page,) = envelope_layout(e, "cuts")
    tokens = read_token_register(small_paris / "paper_tokens.csv")[:2]
    out = tmp_path / "print"
    res = render_ballots(e, "cuts", out, dpi=200, tokens=tokens, seed=5, pdf=False)
    by_id = {b.project_id: b for b in page.boxes}
    marks = [["L1", "L3"], ["L1", "L2"]]  # two sectors (culture, roads); one sector only (culture)
    rng = random.Random(2)
    paths = []
    for ballot, chosen in zip(res.ballots, marks, strict=True):
        (name,) = ballot.images
        img = np.array(cv2.imread(str(out / name), cv2.IMREAD_GRAYSCALE))
        for pid in chosen:
            draw_mark(img, "cross", by_id[pid].box, by_id[pid].text, 200, rng)
        cv2.imwrite(str(out / name), img)
        paths.append(out / name)
    store = Store.open(f"sqlite:///{tmp_path / 'scan.db'}")
    s = scan_paths(store, e, load_public_key(small_paris / "keys"), paths, workers=1)
    assert (s.accepted, s.needs_review, s.rejected) == (1, 1, 0)
    (ballot,) = list(store.iter_ballots())
    assert ballot.projects("cuts") == ("L1", "L3")
    (item,) = ReviewStore(store).list()
    assert item.reasons == ["too_few_sectors"] and item.proposed_selections == ["L1", "L2"]

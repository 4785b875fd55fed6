"""The independent judging-deck generator (fixtures/judging_deck) and its scoring harness.

Generator: same seed same bytes (whatever the workers), truth consistent with the
drawing (every mark where the plan says, strays away from boxes), every case and class
present, calibration and judging mixtures different, augraphy damage really applied.
Harness: the scoring rules on hand-made reports. Last, a test-size judging deck of every
profile through the real scanner, against the issue-11 targets.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from ballot_scan.layout import Rect, envelope_layout
from ballot_scan.render import read_token_register
from engine.formats.election_definition import load_election
from engine.model.election import Election
from fixtures.judging_deck.damage import EFFECTS, FIELD_SCALE, PROFILES, _augment, brightness_field
from fixtures.judging_deck.deck import draw_ballot, make_deck, plan_deck
from fixtures.judging_deck.score import run_scanner, score_deck, target_failures
from fixtures.judging_deck.styles import AMBIGUOUS_STYLES, VOTE_STYLES

ALL_ENVS = ["paris", "ar01", "ar11", "ar18"]


@pytest.fixture(scope="module")
def world(small_paris: Path) -> tuple[Election, list]:
    return load_election(small_paris / "election.toml"), read_token_register(small_paris / "paper_tokens.csv")


def test_same_seed_same_deck_whatever_the_workers(world: tuple, tmp_path: Path) -> None:
    e, tokens = world
    make_deck(e, ALL_ENVS, tokens, tmp_path / "a", count=4, profile="harsh", seed=5, workers=1)
    make_deck(e, ALL_ENVS, tokens, tmp_path / "b", count=4, profile="harsh", seed=5, workers=2)
    make_deck(e, ALL_ENVS, tokens, tmp_path / "c", count=4, profile="harsh", seed=6, workers=1)
    a, b = (tmp_path / d / "expected.json" for d in "ab")
    assert a.read_text() == b.read_text()
    doc = json.loads(a.read_text())
    assert doc["profile"] == "harsh" and doc["mixture"] == "judging" and len(doc["ballots"]) == 4
    for entry in doc["ballots"]:
        assert (tmp_path / "a" / entry["image"]).read_bytes() == (tmp_path / "b" / entry["image"]).read_bytes()
    other = json.loads((tmp_path / "c" / "expected.json").read_text())
    assert [x["ballot_serial"] for x in other["ballots"]] != [x["ballot_serial"] for x in doc["ballots"]]


def _overlaps(b: tuple[float, ...], r: Rect) -> bool:
    return b[0] < r.x + r.w and b[2] > r.x and b[1] < r.y + r.h and b[3] > r.y


def test_truth_is_consistent_and_covers_every_case(world: tuple) -> None:
    e, tokens = world
    plans = plan_deck(e, ALL_ENVS, tokens, 600, "moderate", "judging", seed=1)
    cases = Counter(p.case for p in plans)
    assert {"clear", "blank", "overvote", "ambiguous"} <= set(cases), cases
    assert cases["clear"] > 0.6 * len(plans)
    classes: Counter[str] = Counter()
    for p in plans:
        env = e.envelope(p.envelope_id)
        boxes = {b.project_id: b for b in envelope_layout(e, p.envelope_id)[0].boxes}
        votes = sorted(m.project_id for m in p.marks if m.role == "vote")
        assert list(p.selections) == votes
        amb = [m.project_id for m in p.marks if m.role == "ambiguous"]
        assert not set(amb) & set(votes) and len(set(amb)) == len(amb)
        for m in p.marks:
            if m.role == "stray":
                assert m.project_id is None
                assert not any(_overlaps(m.bbox_mm, b.box) or _overlaps(m.bbox_mm, b.strike_zone)
                               for b in boxes.values()), m
                assert min(abs(m.bbox_mm[0] - b.box.x) for b in boxes.values()) > 15.0
                continue
            box = boxes[m.project_id].box
            assert _overlaps(m.bbox_mm, box), m  # every box mark touches its box
            if m.style == "circle":  # around the box: its bounding box holds the box
                assert m.bbox_mm[0] < box.x and m.bbox_mm[2] > box.x + box.w
            if m.role == "ambiguous":
                classes[m.style] += 1
        if p.case == "clear":
            assert 1 <= len(votes) <= env.max_selections and not amb and p.expected_status == "accepted"
        elif p.case == "overvote":
            assert len(votes) > env.max_selections and "overvote" in p.expected_reasons
        elif p.case == "blank":
            assert not votes and not amb and p.expected_reasons == ("blank_ballot",)
        elif p.case == "ambiguous":
            assert amb and p.expected_status == "needs_review"
    assert set(classes) == set(AMBIGUOUS_STYLES), classes


def test_marks_are_drawn_where_the_truth_says(world: tuple) -> None:
    """Everything the pen changed on the printed page lies inside the planned marks' boxes."""
    e, tokens = world
    plans = [p for p in plan_deck(e, ALL_ENVS, tokens, 40, "mild", "judging", seed=2) if p.marks][:6]
    k = 200 / 25.4
    for p in plans:
        marked = draw_ballot(e, p, damage=False)
        bare = draw_ballot(e, dataclasses.replace(p, marks=()), damage=False)
        diff = np.abs(marked.astype(int) - bare.astype(int)) > 8
        inside = np.zeros_like(diff)
        for m in p.marks:
            x0, y0, x1, y1 = m.bbox_mm
            region = (slice(int(y0 * k) - 1, int(y1 * k) + 3), slice(int(x0 * k) - 1, int(x1 * k) + 3))
            inside[region] = True
            assert diff[region].any(), (p.image, m)  # the mark left ink
        assert not (diff & ~inside).any(), p.image


def test_mixtures_differ(world: tuple) -> None:
    e, tokens = world
    cal = plan_deck(e, ALL_ENVS, tokens, 400, "moderate", "calibration", seed=1)
    jud = plan_deck(e, ALL_ENVS, tokens, 400, "moderate", "judging", seed=1)
    styles = {name: Counter(m.style for p in plans for m in p.marks if m.role == "vote")
              for name, plans in (("cal", cal), ("jud", jud))}
    judging_only = {"edge_tick", "tick_long"}
    assert judging_only <= set(styles["jud"]) and not judging_only & set(styles["cal"])
    assert set(styles["jud"]) == set(VOTE_STYLES)
    pens = {name: Counter(p.pen.kind for p in plans) for name, plans in (("cal", cal), ("jud", jud))}
    assert pens["jud"]["pencil_hb"] > 2 * pens["cal"]["pencil_hb"]
    assert pens["cal"]["felt"] > 1.5 * pens["jud"]["felt"]
    assert min(p.pen.width_mm for p in jud if p.pen.kind == "ballpoint") < 0.35
    assert min(p.pen.width_mm for p in cal if p.pen.kind == "ballpoint") >= 0.45
    assert not {p.ballot_serial for p in cal} & {p.ballot_serial for p in jud}  # disjoint streams


def test_augraphy_effects_are_applied_and_seeded() -> None:
    page = np.full((240, 180), 255, dtype=np.uint8)
    page[60:180, 40:140] = 0  # printed ink
    page[100:140, 60:120] = 255
    for name in ("ink_bleed", "low_ink_random", "low_ink_periodic", "fold"):
        a, b = _augment(name, page, 0.8, 11), _augment(name, page, 0.8, 11)
        assert a.shape == page.shape and np.array_equal(a, b), name
        assert not np.array_equal(a, page), f"{name} changed nothing"
    a4 = (2339, 1654)  # 200 dpi
    for name in FIELD_SCALE:
        f1 = brightness_field(name, a4, 0.8, 12, lighting_min=180)
        assert np.array_equal(f1, brightness_field(name, a4, 0.8, 12, lighting_min=180)), name
        assert f1.shape == a4 and f1.min() < 250, f"{name} left the page untouched"
    drum = brightness_field("dirty_drum", a4, 0.9, 3).astype(float)
    assert drum.mean(axis=0).std() > 2 * drum.mean(axis=1).std()  # streaks run down the page
    assert set(EFFECTS) >= set(PROFILES["harsh"].effects)


def test_damaged_image_differs_from_the_clean_render(world: tuple) -> None:
    e, tokens = world
    p = plan_deck(e, ["ar11"], tokens, 1, "harsh", "judging", seed=3)[0]
    assert p.damage.effects
    clean, damaged = draw_ballot(e, p, damage=False), draw_ballot(e, p)
    assert damaged.shape[0] > clean.shape[0]  # scanner border
    assert abs(float(damaged.mean()) - float(clean.mean())) > 3 or p.damage.rotation_deg != 0


def test_gallery_writes_one_small_picture_per_class(world: tuple, tmp_path: Path) -> None:
    from ballot_scan.render import render_template
    from fixtures.judging_deck.gallery import GALLERY_DPI, _crop, write_gallery

    e, _ = world
    paths = write_gallery(tmp_path, e, "ar11")
    names = {p.stem for p in paths}
    assert {f"vote-{s}" for s in VOTE_STYLES} | {f"ambiguous-{s}" for s in AMBIGUOUS_STYLES} <= names
    assert {"pen-ballpoint", "pen-pencil_hb", "stray-doodle"} <= names
    pl = envelope_layout(e, "ar11")[0]
    bare = _crop(np.array(render_template(e, pl, GALLERY_DPI)), pl.boxes[2].box, GALLERY_DPI).astype(int)
    for p in paths:
        img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
        assert p.stat().st_size < 30_000 and img.shape == bare.shape, p
        assert (np.abs(img.astype(int) - bare) > 10).sum() > 5, f"{p.name}: no mark drawn"


# ------------------------------------------------------------------ scoring rules


def _truth(image: str, case: str, selections: list[str], ambiguous: tuple[tuple[str, str], ...] = ()) -> dict:
    marks = [{"role": "vote", "style": "tick", "project_id": s} for s in selections]
    marks += [{"role": "ambiguous", "style": c, "project_id": pid} for pid, c in ambiguous]
    return {"image": image, "case": case, "envelope": "ar11", "selections": selections, "marks": marks,
            "ambiguous_marks": [{"project_id": pid, "class": c} for pid, c in ambiguous]}


def _page(image: str, status: str, selections: list[str], ambiguous: dict | None = None) -> dict:
    return {"image": image, "status": status, "envelope": "ar11" if status != "rejected" else None,
            "selections": selections, "ambiguous": ambiguous or {}, "reasons": [] if status == "accepted" else ["x"],
            "scores": {p: 0.0 for p in ("A", "B", "C", "D")} if status != "rejected" else {}}


def test_score_counts_misreads_missed_ambiguous_and_clear_not_accepted() -> None:
    expected = {"profile": "moderate", "mixture": "judging", "ballots": [
        _truth("1", "clear", ["A"]),
        _truth("2", "clear", ["A", "B"]),
        _truth("3", "clear", ["C"]),
        _truth("4", "ambiguous", ["A"], [("B", "dot")]),
        _truth("5", "ambiguous", ["A"], [("C", "scratch_out")]),
        _truth("6", "ambiguous", [], [("D", "faint_short")]),
        _truth("7", "blank", []),
        _truth("8", "ambiguous", ["B"], [("A", "hesitation")]),
    ]}
    pages = [
        _page("1", "accepted", ["A"]),
        _page("2", "accepted", ["A"]),  # a vote missed: silent misread
        _page("3", "rejected", []),
        _page("4", "accepted", ["A"]),  # ambiguous dot ignored silently (selections right)
        _page("5", "accepted", ["A", "C"]),  # scratch-out counted: misread and ambiguous accepted
        _page("6", "needs_review", [], {"D": "faint_mark"}),
        _page("7", "needs_review", []),
        _page("8", "needs_review", ["B"], {}),  # in review, but the mark not named
    ]
    s = score_deck(expected, pages, seconds=2.0)
    assert s.silent_misreads == ["2", "5"]
    assert s.clear == 3 and s.clear_not_accepted == 1 and s.rejected == 1
    assert s.ambiguous_marks == 4 and s.ambiguous_to_review == 1
    assert s.ambiguous_accepted == ["4:B:dot", "5:C:scratch_out"] and s.ambiguous_unflagged == ["8:A:hesitation"]
    assert s.blank == 1 and s.blank_to_review == 1
    assert s.ballots_per_s == 4.0
    assert s.confusion["tick"]["vote"] == 5 and s.confusion["tick"]["unread"] == 1
    assert s.confusion["scratch_out (ambiguous)"] == {"vote": 1}
    fails = target_failures(s)
    assert len(fails) == 3 and "silent misread" in fails[0] and "clear ballots" in fails[2]
    ok = score_deck({**expected, "ballots": expected["ballots"][:1]}, pages[:1])
    assert target_failures(ok) == []


# ------------------------------------------------------------------ the real scanner on judging decks

JUDGING_SIZES = {"mild": 40, "moderate": 70, "harsh": 50}  # about 50 s of CPU in all, generation included


@pytest.fixture(scope="module")
def judged(small_paris: Path, world: tuple, tmp_path_factory: pytest.TempPathFactory) -> dict:
    e, tokens = world
    root = tmp_path_factory.mktemp("judging")
    out = {}
    for i, (profile, n) in enumerate(JUDGING_SIZES.items()):
        deck = root / profile
        make_deck(e, "all", tokens, deck, count=n, profile=profile, mixture="judging", seed=100 + i, workers=2)
        pages, seconds = run_scanner(deck, small_paris, workers=2)
        out[profile] = score_deck(json.loads((deck / "expected.json").read_text()), pages, seconds, str(deck), 2)
    return out


def test_judging_deck_is_scanned_and_scored(judged: dict) -> None:
    """The harness sees every page and every case (whatever the reader's quality)."""
    for profile, s in judged.items():
        assert s.pages == JUDGING_SIZES[profile]
        assert s.accepted + s.needs_review + s.rejected == s.pages
        assert s.clear > 0.5 * s.pages and s.ambiguous_marks > 0
        assert "(empty box)" in s.confusion


@pytest.mark.xfail(strict=True, reason="issue 11 targets not met: 15-34 % of clear ballots to review, "
                   "1 silent misread and 2 of 7 ambiguous missed at moderate (docs/paper-ballots.md, round 3)")
def test_judging_deck_meets_the_issue_11_targets(judged: dict) -> None:
    fails = [f for s in judged.values() for f in target_failures(s)]
    assert not fails, "\n".join(fails)


def test_score_cli_prints_the_table(tmp_path: Path, small_paris: Path, world: tuple,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from fixtures.judging_deck.score import main

    e, tokens = world
    make_deck(e, ["ar11"], tokens, tmp_path / "d", count=3, profile="mild", seed=4,
              fixture_dir=small_paris)
    assert main([str(tmp_path / "d"), "--json", str(tmp_path / "s.json"), "-j", "1"]) == 0
    printed = capsys.readouterr().out
    assert "mild" in printed and "silent misreads" in printed
    data = json.loads((tmp_path / "s.json").read_text())
    assert data[0]["pages"] == 3


def test_a_deck_larger_than_the_token_register_is_refused(world: tuple, tmp_path: Path) -> None:
    """Reused tokens made second sheets of one voter (conflicting_sheet), scored as clear
    ballots not accepted: 41-48 pages of each 300-ballot deck (docs/paper-ballots.md)."""
    e, tokens = world
    with pytest.raises(ValueError, match=f"a deck of {len(tokens) + 1} ballots needs {len(tokens) + 1} voter tokens"):
        make_deck(e, "all", tokens, tmp_path / "d", count=len(tokens) + 1, profile="mild", seed=1)
    assert not (tmp_path / "d" / "expected.json").exists()


def test_the_default_fixture_grows_its_register_for_a_large_deck(tmp_path: Path) -> None:
    from fixtures.judging_deck.deck import ensure_fixture

    fx = ensure_fixture(tmp_path / "fx", paper_voters=250)
    assert len(read_token_register(fx / "paper_tokens.csv")) >= 250


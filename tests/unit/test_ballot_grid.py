"""Row decisions of grade and for/against paper grids (ballot_scan/grid.py), hand-checked,
and the paper submission they give validated and counted like an online one."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ballot_scan.grid import decide_grid, grid_submission
from ballot_scan.layout import GRID_GAP_MM, Rect, grid_box_rects, grid_columns
from engine.counting.tally import tally
from engine.formats.election_definition import election_from_dict
from engine.model.ballots import Ballot, SourceRef, validate_submission
from engine.model.tokens import TokenVerifier, issue_token

DOC = {
    "election": {"id": "grid", "name": "Grid"},
    "envelopes": [
        {"id": "g", "name": "G", "kind": "citywide", "budget": 100, "max_selections": 3, "min_selections": 0,
         "ballot": "grades"},
        {"id": "f", "name": "F", "kind": "district", "budget": 100, "max_selections": 3, "ballot": "for-against"},
    ],
    "projects": [{"id": p, "envelope": "g", "title": p, "cost": 10} for p in ("A", "B", "C")]
    + [{"id": "X", "envelope": "f", "title": "X", "cost": 10}],
}
E = election_from_dict(DOC)
G, F = E.envelopes


def test_columns_are_the_grades_best_first_or_for_against() -> None:
    assert grid_columns(G) == ("J'adore", "J'aime bien", "Pourquoi pas", "Pas convaincu·e")
    assert grid_columns(F) == ("for", "against")


def test_boxes_fit_the_row_right_aligned() -> None:
    boxes = grid_box_rects(Rect(10, 20, 150, 10), 4)
    assert len(boxes) == 4 and boxes[-1].x + boxes[-1].w == pytest.approx(160)
    assert all(b.y == pytest.approx(22) for b in boxes)
    assert all(b2.x - (b1.x + b1.w) == pytest.approx(GRID_GAP_MM) for b1, b2 in zip(boxes, boxes[1:], strict=False))


def test_one_mark_per_row_an_empty_row_and_an_overvoted_row() -> None:
    judged = {("A", 0): "vote", ("B", 1): "vote", ("B", 3): "vote"}  # A: J'adore; B: two grades; C: empty
    d = decide_grid(G, ["A", "B", "C"], judged)
    assert d.opinions == {"A": "J'adore"}
    assert d.review == (("B", "overvote_row"),) and d.needs_review


def test_an_ambiguous_box_sends_its_row_to_review() -> None:
    d = decide_grid(G, ["A", "B"], {("A", 2): "vote", ("B", 0): "ambiguous", ("B", 1): "vote"})
    assert d.opinions == {"A": "Pourquoi pas"} and d.review == (("B", "ambiguous_row"),)


def test_both_for_and_against_is_an_overvote() -> None:
    d = decide_grid(F, ["X"], {("X", 0): "vote", ("X", 1): "vote"})
    assert d.opinions == {} and d.review == (("X", "overvote_row"),)
    with pytest.raises(ValueError, match="still need review"):
        grid_submission("t", F, d, SourceRef("scan.png", 1), "0" * 64)


def test_a_read_grid_counts_like_an_online_ballot_empty_rows_as_the_lowest_grade() -> None:
    key = Ed25519PrivateKey.from_private_bytes(b"\x17" * 32)
    d = decide_grid(G, ["A", "B", "C"], {("A", 1): "vote", ("C", 3): "vote"})  # B left empty
    sub = grid_submission(issue_token(key, "grid"), G, d, SourceRef("scan.png", 1), "a" * 64)
    b = validate_submission(E, TokenVerifier(key.public_key(), "grid"), sub)
    assert isinstance(b, Ballot) and b.selections == (("g", ("A=2", "C=0")),)
    et = tally(E, [b]).envelopes["g"]
    # A "J'aime bien" (2); B ungraded -> "Pas convaincu·e" (0); C marked "Pas convaincu·e" (0)
    assert [et.grade_profile(p) for p in ("A", "B", "C")] == [[0, 0, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0]]


def test_a_grade_envelope_prints_a_grid_and_layout_json_names_each_box(tmp_path: Path) -> None:
    import json

    from ballot_scan.render import render_ballots

    res = render_ballots(E, "g", tmp_path, dpi=100, pdf=False)  # was refused before grids were printed
    doc = json.loads(res.layout_path.read_text())
    (page,) = doc["pages"]
    assert page["columns"] == list(grid_columns(G))
    assert [(b["project_id"], b["column"]) for b in page["boxes"][:5]] == [
        ("A", "J'adore"), ("A", "J'aime bien"), ("A", "Pourquoi pas"), ("A", "Pas convaincu·e"), ("B", "J'adore")]
    assert (tmp_path / page["image"]).exists()


def test_sheet_opinions_refuses_unknown_opinions_and_two_per_project() -> None:
    from ballot_scan.grid import read_grid, sheet_opinions

    assert sheet_opinions(F, ["X=for"]) == {"X": "for"}
    with pytest.raises(ValueError, match="'pour' is not an opinion of envelope 'f'"):
        sheet_opinions(F, ["X=pour"])
    with pytest.raises(ValueError, match="given two opinions"):
        sheet_opinions(G, ["A=J'adore", "A=Pourquoi pas"])
    d = read_grid(G, ["A=J'adore", "B=J'adore", "B=Pourquoi pas", "junk"], {"C=Pourquoi pas": "faint_mark"})
    assert d.opinions == {"A": "J'adore"} and d.review == (("B", "overvote_row"), ("C", "ambiguous_row"))

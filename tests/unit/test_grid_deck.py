"""A test deck of grade-ballot grids through the real mark model: drawn grids (one box per
grade per project), marks drawn by the scan test deck's pen (fill, cross, tick, dot,
faint, crossed out), every box measured and judged by ``ballot_scan.marks``, every row
decided by ``ballot_scan.grid.decide_grid``. The truth is the deck's plan, not the code:
0 silent misreads (a row read as another opinion than planned, outside review)."""

from __future__ import annotations

import random

import cv2
import numpy as np

from ballot_scan.grid import decide_grid
from ballot_scan.layout import BOX_OUTLINE_MM, MarkBox, Rect, grid_box_rects, grid_columns, mm_to_px
from ballot_scan.marks import paper_profile, score_boxes
from ballot_scan.testdeck import draw_mark
from engine.formats.election_definition import election_from_dict

DPI = 200
ROWS = 8
ENV = election_from_dict({
    "election": {"id": "deck", "name": "Deck"},
    "envelopes": [{"id": "g", "name": "G", "kind": "citywide", "budget": 100, "max_selections": ROWS,
                   "ballot": "grades"}],
    "projects": [{"id": f"P{i}", "envelope": "g", "title": "x", "cost": 1} for i in range(ROWS)],
}).envelopes[0]
CLEAR = ("fill", "cross", "tick", "dot")  # one of these in one box: a mark


def page(rng: random.Random) -> tuple[np.ndarray, list[MarkBox], dict[str, str | None]]:
    """One drawn grid page: the image, its boxes, and the plan per row (the grade, None for an
    empty row, "review" where the row must go to a person: two marks, a faint or struck mark)."""
    w_mm, h_mm = 120, 14 + 12 * ROWS
    img = np.full((round(mm_to_px(h_mm, DPI)), round(mm_to_px(w_mm, DPI))), 250, dtype=np.uint8)
    cols = grid_columns(ENV)
    boxes: list[MarkBox] = []
    plan: dict[str, str | None] = {}
    for i in range(ROWS):
        pid = f"P{i}"
        row = Rect(5, 10 + 12 * i, 110, 8)
        rects = grid_box_rects(row, len(cols))
        for k, r in enumerate(rects):
            p0 = (round(mm_to_px(r.x, DPI)), round(mm_to_px(r.y, DPI)))
            p1 = (round(mm_to_px(r.x + r.w, DPI)), round(mm_to_px(r.y + r.h, DPI)))
            cv2.rectangle(img, p0, p1, 0, max(1, round(mm_to_px(BOX_OUTLINE_MM, DPI))))
            strike = Rect(r.x + r.w + 0.8, r.y + 1.2, 2.4, r.h - 2.4)
            boxes.append(MarkBox(f"{pid}#{k}", k + 1, r, strike, Rect(row.x, row.y, 40, 8)))
        case = rng.choice(("empty", "one", "one", "one", "two", "odd"))
        text = Rect(row.x, row.y, 40, 8)
        if case == "empty":
            plan[pid] = None
        elif case == "one":
            k = rng.randrange(len(cols))
            draw_mark(img, rng.choice(CLEAR), rects[k], text, DPI, rng)
            plan[pid] = cols[k]
        elif case == "two":
            for k in rng.sample(range(len(cols)), 2):
                draw_mark(img, rng.choice(CLEAR), rects[k], text, DPI, rng)
            plan[pid] = "review"
        else:
            k = rng.randrange(len(cols))
            draw_mark(img, rng.choice(("light", "crossed_out")), rects[k], text, DPI, rng)
            plan[pid] = "review-or-" + cols[k]  # faint or struck: review, or (never silently) another grade
    return img, boxes, plan


def test_grade_grid_deck_has_no_silent_misread() -> None:
    rng = random.Random(15)
    k = DPI / 25.4
    matrix = np.array([[k, 0.0, 0.0], [0.0, k, 0.0]])
    rows = silent = reviewed = read = 0
    misreads: list[object] = []
    for _ in range(12):
        img, boxes, plan = page(rng)
        scores = score_boxes(img, matrix, boxes, k, profile=paper_profile(img, k))
        judged = {}
        for b, s in zip(boxes, scores, strict=True):
            pid, col = b.project_id.split("#")
            judged[(pid, int(col))] = s.classify()[0]
        d = decide_grid(ENV, list(plan), judged)
        in_review = {pid for pid, _ in d.review}
        for pid, want in plan.items():
            rows += 1
            if pid in in_review:
                reviewed += 1
                continue
            got = d.opinions.get(pid)
            read += 1
            if want is not None and want.startswith("review-or-"):
                ok = got in (None, want.removeprefix("review-or-"))  # a faint or struck mark: never another grade
            else:
                ok = got == want  # "review" rows are never read: ok is False
            if not ok:
                silent += 1
                misreads.append((pid, want, got, {c: judged[(pid, c)] for c in range(4)}))
    print(f"grid deck: {rows} rows, {read} read, {reviewed} to review, {silent} silent misreads")
    assert rows == 12 * ROWS and read > rows // 2 and reviewed > 0
    assert silent == 0, misreads

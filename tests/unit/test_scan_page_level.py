"""Page-level reading of damaged scans: fiducials and the orientation bar found relative to
the paper when rollers, drums, dust and folds damage them (issue 11). Synthetic pages:
a rendered ballot with one kind of damage drawn on it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ballot_scan.align import align_page
from ballot_scan.layout import ORIENTATION_BAR, QR_BOX, envelope_layout, fiducial_rects, rect
from ballot_scan.payload import PagePayload, parse_payload
from ballot_scan.qr import read_qr
from ballot_scan.render import read_token_register, render_page
from engine.formats.election_definition import load_election

K = 200 / 25.4


@pytest.fixture(scope="module")
def img(small_paris: Path) -> np.ndarray:
    e = load_election(small_paris / "election.toml")
    t = read_token_register(small_paris / "paper_tokens.csv")[0]
    pl = envelope_layout(e, "ar11")[0]
    return np.array(render_page(e, pl, PagePayload(pl.envelope_code, 1, 1, "0" * 16, t.token), t.short_code, 200))


def _px(v: float) -> int:
    return round(v * K)


def test_bar_moved_by_a_fold_still_tells_upright_from_upside_down(img: np.ndarray) -> None:
    page = img.copy()
    bar = rect(ORIENTATION_BAR)
    x0, x1, y0, y1 = _px(bar.x - 1), _px(bar.x + bar.w + 1), _px(bar.y - 1), _px(bar.y + bar.h + 1)
    patch = page[y0:y1, x0:x1].copy()
    page[y0:y1, x0:x1] = 255
    dy = _px(2.6)  # a crease pushed the bar 2.6 mm down: its fixed place is mostly paper
    page[y0 + dy : y1 + dy, x0:x1] = np.minimum(page[y0 + dy : y1 + dy, x0:x1], patch)
    assert not align_page(page).upside_down
    assert align_page(cv2.rotate(page, cv2.ROTATE_180)).upside_down


def test_dust_on_the_blank_spot_opposite_the_bar_is_not_a_second_bar(img: np.ndarray) -> None:
    page = img.copy()
    spot = rect(ORIENTATION_BAR).rotated_180()
    rng = np.random.default_rng(3)
    region = page[_px(spot.y - 1) : _px(spot.y + spot.h + 1), _px(spot.x) : _px(spot.x + spot.w)]
    dust = rng.random(region.shape) < 0.5  # a dirty roller's speckle over half the spot
    region[dust] = 110
    assert not align_page(page).upside_down


def test_fiducial_cut_by_a_low_ink_line_and_touching_a_roller_band_is_found(img: np.ndarray) -> None:
    page = img.copy()
    f = fiducial_rects()[0]
    y = _px(f.y + f.h / 2)
    page[y - 1 : y + 2, :] = 255  # a low-ink line across the page cuts the fiducial in two
    band = slice(_px(f.y + f.h) - 2, _px(f.y + f.h + 1.5))
    page[band, :] = np.minimum(page[band, :], 150)  # a grey roller band touching it, page-wide
    al = align_page(page)
    assert not al.upside_down and abs(al.rotation_deg) < 0.3


@pytest.mark.parametrize("seed", [0, 1])
def test_qr_under_heavy_speckle_is_read_by_the_median_filtered_retry(img: np.ndarray, seed: int) -> None:
    page = img.copy()
    x0, y0, w, h = (_px(v) for v in QR_BOX)
    region = page[y0 : y0 + h, x0 : x0 + w]
    noise = np.random.default_rng(seed).random(region.shape)
    region[noise < 0.175] = 0  # salt and pepper over 35 % of the symbol's pixels (dust, dropouts)
    region[noise > 0.825] = 255
    al = align_page(page)
    text = read_qr(page, al.matrix, K)
    assert text is not None and parse_payload(text) is not None

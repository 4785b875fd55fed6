"""Score mark boxes and classify them: vote, ambiguous or empty.

Definition (after VotingWorks' interpreter, adapted to square boxes and uneven light):

* Each box is resampled deskewed from the scan (:func:`ballot_scan.align.warp_region`)
  with a search margin. The local paper level ``P`` is the 90th percentile of the patch;
  a pixel is *ink* when darker than ``INK_LEVEL x P`` and *faint* when darker than
  ``FAINT_LEVEL x P`` (a local threshold, so a gradient in lighting does not move it).
* The printed outline is located by trying every offset within ``search_mm`` of the
  expected place and keeping the one whose outline ring holds most ink (integral images,
  O(offsets) per box).
* ``score`` = share of ink pixels in the box interior (the box shrunk by
  ``INTERIOR_INSET_MM``, clear of the outline) at that offset; ``faint`` likewise.
* ``strike``: share of the columns of the blank strip right of the box crossed by ink;
  a line through the whole row (a crossed-out choice) crosses all of them.

Classification with two configurable thresholds (:class:`Thresholds`):
``score >= definite`` -> vote; ``marginal <= score < definite`` -> ambiguous
(``marginal_mark``); ``score < marginal`` but ``faint >= faint`` -> ambiguous
(``faint_mark``, e.g. light pencil); a struck-through row -> ambiguous
(``crossed_out_mark``); otherwise empty. Nothing ambiguous is ever counted silently.

Complexity: O(boxes x (patch pixels + offsets)).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ballot_scan.align import warp_region
from ballot_scan.layout import BOX_OUTLINE_MM, MarkBox, Rect

INK_LEVEL = 0.6
FAINT_LEVEL = 0.85
INTERIOR_INSET_MM = 0.9
SEARCH_MM = 1.0
MIN_OUTLINE_SHARE = 0.35  # a real printed box: at least this share of its outline ring is ink


@dataclass(frozen=True)
class Thresholds:
    """Mark thresholds (shares of the box interior). See ``docs/paper-ballots.md``."""

    definite: float = 0.15
    marginal: float = 0.04
    faint: float = 0.06
    strike: float = 0.9

    def __post_init__(self) -> None:
        if not 0 < self.marginal < self.definite < 1:
            raise ValueError("need 0 < marginal < definite < 1")


@dataclass(frozen=True)
class BoxScore:
    project_id: str
    score: float
    faint: float
    strike: float
    outline: float  # share of the outline ring that is ink (layout check)
    dx_mm: float
    dy_mm: float

    def classify(self, t: Thresholds) -> tuple[str, str | None]:
        """``("vote" | "ambiguous" | "empty", reason or None)``."""
        if self.strike >= t.strike:
            return "ambiguous", "crossed_out_mark"
        if self.score >= t.definite:
            return "vote", None
        if self.score >= t.marginal:
            return "ambiguous", "marginal_mark"
        if self.faint >= t.faint:
            return "ambiguous", "faint_mark"
        return "empty", None


def _rect_sums(integral: np.ndarray, x0: int, y0: int, w: int, h: int, n: int) -> np.ndarray:
    """Sums of the w x h rectangles at (x0+dx, y0+dy) for dx, dy in [0, n): an n x n array."""
    ys = slice(y0, y0 + n)
    xs = slice(x0, x0 + n)
    ys2 = slice(y0 + h, y0 + h + n)
    xs2 = slice(x0 + w, x0 + w + n)
    return integral[ys2, xs2] - integral[ys, xs2] - integral[ys2, xs] + integral[ys, xs]


def score_box(gray: np.ndarray, matrix: np.ndarray, mb: MarkBox, px_per_mm: float) -> BoxScore:
    """Score one mark box of a page aligned by ``matrix`` (layout mm -> image px)."""
    s = SEARCH_MM
    b = mb.box
    region = Rect(b.x - s, b.y - s, (mb.strike_zone.x + mb.strike_zone.w) - b.x + 2 * s, b.h + 2 * s)
    patch = warp_region(gray, matrix, region, px_per_mm)
    paper = float(np.percentile(patch, 90))
    paper = max(paper, 40.0)
    ink = (patch < INK_LEVEL * paper).astype(np.uint8)
    faint = (patch < FAINT_LEVEL * paper).astype(np.uint8)
    ii = cv2.integral(ink)
    fi = cv2.integral(faint)
    n = 2 * round(s * px_per_mm) + 1  # offsets 0..n-1 around the expected place
    bw = round(b.w * px_per_mm)
    bh = round(b.h * px_per_mm)
    ow = max(1, round((BOX_OUTLINE_MM + 0.35) * px_per_mm))
    outer = _rect_sums(ii, 0, 0, bw, bh, n)
    inner = _rect_sums(ii, ow, ow, bw - 2 * ow, bh - 2 * ow, n)
    ring = outer - inner
    oy, ox = np.unravel_index(int(np.argmax(ring)), ring.shape)
    ring_area = bw * bh - (bw - 2 * ow) * (bh - 2 * ow)
    ins = round(INTERIOR_INSET_MM * px_per_mm)
    iw, ih = bw - 2 * ins, bh - 2 * ins
    area = float(iw * ih)
    score = float(_rect_sums(ii, ox + ins, oy + ins, iw, ih, 1)[0, 0]) / area
    faint_share = float(_rect_sums(fi, ox + ins, oy + ins, iw, ih, 1)[0, 0]) / area
    # strike zone, shifted like the box
    sz = mb.strike_zone
    zx = ox + round((sz.x - b.x) * px_per_mm)
    zy = oy + round((sz.y - b.y) * px_per_mm)
    zw, zh = round(sz.w * px_per_mm), round(sz.h * px_per_mm)
    zone = ink[zy : zy + zh, zx : zx + zw]
    strike = float(zone.any(axis=0).mean()) if zone.size else 0.0
    centre = (n - 1) // 2
    return BoxScore(
        mb.project_id,
        round(score, 4),
        round(faint_share, 4),
        round(strike, 3),
        round(float(ring[oy, ox]) / ring_area, 3),
        round((ox - centre) / px_per_mm, 2),
        round((oy - centre) / px_per_mm, 2),
    )

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

from collections.abc import Sequence
from dataclasses import dataclass

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
    """Sums of the w x h rectangles at (x0+dx, y0+dy), dx, dy in [0, n), for every patch.

    ``integral``: (boxes, H+1, W+1) summed-area tables; returns (boxes, n, n).
    """
    ys, xs = slice(y0, y0 + n), slice(x0, x0 + n)
    ys2, xs2 = slice(y0 + h, y0 + h + n), slice(x0 + w, x0 + w + n)
    return integral[:, ys2, xs2] - integral[:, ys, xs2] - integral[:, ys2, xs] + integral[:, ys, xs]


def _integral(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0], a.shape[1] + 1, a.shape[2] + 1), dtype=np.int32)
    out[:, 1:, 1:] = a.cumsum(axis=1, dtype=np.int32).cumsum(axis=2, dtype=np.int32)
    return out


def score_boxes(
    gray: np.ndarray, matrix: np.ndarray, boxes: Sequence[MarkBox], px_per_mm: float
) -> list[BoxScore]:
    """Score the mark boxes of a page aligned by ``matrix`` (layout mm -> image px).

    All boxes share one size, so their patches are stacked and scored together.
    """
    if not boxes:
        return []
    s = SEARCH_MM
    b0 = boxes[0]
    reach = (b0.strike_zone.x + b0.strike_zone.w) - b0.box.x
    patches = np.stack([
        warp_region(gray, matrix, Rect(mb.box.x - s, mb.box.y - s, reach + 2 * s, mb.box.h + 2 * s), px_per_mm)
        for mb in boxes
    ])
    nb = patches.shape[0]
    paper = np.maximum(np.percentile(patches.reshape(nb, -1), 90, axis=1), 40.0)[:, None, None]
    ink = patches < INK_LEVEL * paper
    faint = patches < FAINT_LEVEL * paper
    ii, fi = _integral(ink), _integral(faint)
    n = 2 * round(s * px_per_mm) + 1  # offsets 0..n-1 around the expected place
    bw = round(b0.box.w * px_per_mm)
    bh = round(b0.box.h * px_per_mm)
    ow = max(1, round((BOX_OUTLINE_MM + 0.35) * px_per_mm))
    ring = _rect_sums(ii, 0, 0, bw, bh, n) - _rect_sums(ii, ow, ow, bw - 2 * ow, bh - 2 * ow, n)
    best = ring.reshape(nb, -1).argmax(axis=1)
    oys, oxs = np.unravel_index(best, (n, n))
    ring_area = bw * bh - (bw - 2 * ow) * (bh - 2 * ow)
    ins = round(INTERIOR_INSET_MM * px_per_mm)
    iw, ih = bw - 2 * ins, bh - 2 * ins
    area = float(iw * ih)
    interior = _rect_sums(ii, ins, ins, iw, ih, n)
    finterior = _rect_sums(fi, ins, ins, iw, ih, n)
    sz = b0.strike_zone
    zdx, zdy = round((sz.x - b0.box.x) * px_per_mm), round((sz.y - b0.box.y) * px_per_mm)
    zw, zh = round(sz.w * px_per_mm), round(sz.h * px_per_mm)
    centre = (n - 1) // 2
    out: list[BoxScore] = []
    for i, mb in enumerate(boxes):
        oy, ox = int(oys[i]), int(oxs[i])
        zone = ink[i, oy + zdy : oy + zdy + zh, ox + zdx : ox + zdx + zw]
        strike = float(zone.any(axis=0).mean()) if zone.size else 0.0
        out.append(BoxScore(
            mb.project_id,
            round(float(interior[i, oy, ox]) / area, 4),
            round(float(finterior[i, oy, ox]) / area, 4),
            round(strike, 3),
            round(float(ring[i, oy, ox]) / ring_area, 3),
            round((ox - centre) / px_per_mm, 2),
            round((oy - centre) / px_per_mm, 2),
        ))
    return out

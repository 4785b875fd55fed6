"""Measure mark boxes and decide what each one holds: vote, ambiguous or empty.

Measurement (all thresholds in :class:`ballot_scan.settings.ScanSettings`):

* Each box is resampled deskewed from the scan (:func:`ballot_scan.align.warp_region`)
  with a search margin and a ring around it. The *local paper level* ``P`` is the 90th
  percentile of that patch; a pixel is *ink* when darker than ``ink_level x P``, part of
  a *stroke* when darker than ``stroke_level x P`` and *faint* when darker than
  ``faint_level x P``. Every comparison is relative to the paper around the box, so grey
  or tinted paper, shadows and lighting gradients do not read as marks.
* The printed outline is located by trying every offset within ``search_mm`` and
  keeping the one whose outline ring holds most ink (integral images). Its share of ink
  (``outline``) checks the layout; its darkness relative to ``P`` (``outline_dark``, the
  page's own print) is reported as the page's reference contrast.
* Scanner streaks (a dirty drum or glass draws thin vertical lines along the feed) are
  found once per page (:func:`find_streaks`: image columns darker than the paper beside
  them over most of the page height) and masked out of every box they cross, so they
  never read as a mark; a streak wider than ``streak_max_mm`` through a box interior
  sends the box to review (``scanner_streak``: the scanner needs cleaning).
* Features of the box (the outline band removed; strokes crossing it are reconnected by
  a small closing, so a tick overlapping the edge stays one mark):

  - ``score``: ink share of the interior (box shrunk by ``interior_inset_mm``);
  - ``faint``: faint share of the interior;
  - ``area_mm2``: stroke area of the marks touching the interior (inside and outside);
  - ``span_mm``: the diagonal of those marks' bounding box — a tick, slash or cross
    spans most of the box whatever the pen, a dot or a hesitation hook does not;
  - ``sectors``: which of the 8 ring sectors around the box (``ring_inner_mm`` to
    ``ring_outer_mm`` beyond its edge; TL T TR L R BL B BR) hold ink of those marks
    (``sectors``) or of any mark (``ring_sides``, the 4 sides only, for a circle);
  - ``strike``: share of the columns of the strip right of the box crossed by ink.

Decision (:meth:`BoxScore.classify`, first match wins):

1. a streak wider than ``streak_max_mm`` through the interior -> ambiguous ``scanner_streak``;
2. dense interior (``score >= scratch_share``) with ink spilling into at least
   ``scratch_sectors`` ring sectors -> ambiguous ``scratched_out_mark``;
3. a mark inside whose strokes also reach two *opposite* ring sectors (a line through
   the box, a large X over it) or strike the row -> ambiguous ``crossed_out_mark``;
4. ``score >= fill_share`` -> vote (fills, scribbles, felt-tip marks);
5. nothing inside (``area_mm2 < marginal_area_mm2``): ink on at least ``circle_sides``
   sides of the ring -> vote (a circled box); interior ``faint >= faint_share`` ->
   ambiguous ``faint_mark``; else empty;
6. ``span_mm >= mark_min_span_mm`` and ``area_mm2 >= mark_min_area_mm2`` -> vote
   (thin ballpoint and pencil ticks, slashes and crosses count);
7. a short mark (``span_mm`` below the vote span: dot, short stroke, hesitation) ->
   ambiguous ``small_mark``; a long but too light one -> ambiguous ``marginal_mark``.

Nothing ambiguous is counted or ignored silently. Complexity: O(boxes x window pixels)
plus O(page pixels / 8) for the streaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ballot_scan.align import warp_region
from ballot_scan.layout import BOX_OUTLINE_MM, MarkBox, Rect
from ballot_scan.settings import DEFAULT_SETTINGS, ScanSettings

SECTORS = ("TL", "T", "TR", "L", "R", "BL", "B", "BR")
OPPOSITE = (("L", "R"), ("T", "B"), ("TL", "BR"), ("TR", "BL"))
SIDES = ("T", "B", "L", "R")
VOTE, AMBIGUOUS, EMPTY = "vote", "ambiguous", "empty"


@dataclass(frozen=True)
class BoxScore:
    """The measured features of one mark box (see the module docstring)."""

    project_id: str
    score: float
    faint: float
    strike: float
    outline: float  # share of the outline ring that is ink (layout check)
    dx_mm: float
    dy_mm: float
    span_mm: float = 0.0
    area_mm2: float = 0.0
    sectors: tuple[str, ...] = ()
    ring_sides: tuple[str, ...] = ()
    outline_dark: float = 0.0
    streak_mm: float = 0.0

    def classify(self, s: ScanSettings = DEFAULT_SETTINGS) -> tuple[str, str | None]:
        """``("vote" | "ambiguous" | "empty", reason or None)`` by the module's rules 1-7."""
        if self.streak_mm > s.streak_max_mm:
            return AMBIGUOUS, "scanner_streak"
        inside = self.area_mm2 >= s.marginal_area_mm2
        if self.score >= s.scratch_share and len(self.sectors) >= s.scratch_sectors:
            return AMBIGUOUS, "scratched_out_mark"
        if inside and (self.strike >= s.strike or any(a in self.sectors and b in self.sectors for a, b in OPPOSITE)):
            return AMBIGUOUS, "crossed_out_mark"
        if self.score >= s.fill_share:
            return VOTE, None
        if not inside:
            if len(self.ring_sides) >= s.circle_sides:
                return VOTE, None
            if self.faint >= s.faint_share:
                return AMBIGUOUS, "faint_mark"
            return EMPTY, None
        if self.span_mm >= s.mark_min_span_mm:
            return (VOTE, None) if self.area_mm2 >= s.mark_min_area_mm2 else (AMBIGUOUS, "marginal_mark")
        return AMBIGUOUS, "small_mark"


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


def find_streaks(gray: np.ndarray, px_per_mm: float, settings: ScanSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Image columns crossed by a vertical scanner streak (boolean, one per column).

    Every 8th row of the page is divided by its paper level
    (a horizontal grey closing wider than any streak, ``3 mm``); a column is a streak
    when it is darker than ``faint_level`` of that level in at least ``streak_rows`` of
    those rows (printed vertical lines — box outlines — cover well under half of the
    page height). O(pixels / 8).
    """
    small = np.ascontiguousarray(gray[::8])
    k = max(5, int(3.0 * px_per_mm) | 1)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    dark = small.astype(np.float32) < settings.faint_level * np.maximum(bg, 1).astype(np.float32)
    share = dark.mean(axis=0)
    cols = share >= settings.streak_rows
    if cols.any():
        cols = np.convolve(cols.astype(np.uint8), np.ones(3, np.uint8), mode="same") > 0  # ±1 px
    return np.asarray(cols)


def _streak_mask(matrix: np.ndarray, rect_mm: Rect, px_per_mm: float, shape: tuple[int, int],
                 streak_cols: np.ndarray) -> np.ndarray:
    """Pixels of a patch of ``rect_mm`` whose image column is a streak column."""
    h, w = shape
    s = 1.0 / px_per_mm
    u = np.arange(w, dtype=np.float64) * s + rect_mm.x
    v = np.arange(h, dtype=np.float64) * s + rect_mm.y
    x = matrix[0, 0] * u[None, :] + matrix[0, 1] * v[:, None] + matrix[0, 2]
    xi = np.clip(np.rint(x).astype(np.int64), 0, streak_cols.shape[0] - 1)
    return np.asarray(streak_cols[xi])


def score_boxes(
    gray: np.ndarray, matrix: np.ndarray, boxes: Sequence[MarkBox], px_per_mm: float,
    settings: ScanSettings = DEFAULT_SETTINGS, streak_cols: np.ndarray | None = None,
) -> list[BoxScore]:
    """Measure the mark boxes of a page aligned by ``matrix`` (layout mm -> image px).

    All boxes share one size, so their patches are stacked and located together;
    ``streak_cols`` (from :func:`find_streaks`) masks scanner streaks out.
    """
    if not boxes:
        return []
    st, k = settings, px_per_mm
    s, ring_mm = st.search_mm, st.ring_outer_mm
    b0 = boxes[0]
    right_mm = max(ring_mm, (b0.strike_zone.x + b0.strike_zone.w) - (b0.box.x + b0.box.w))
    margin = s + ring_mm
    rects = [Rect(mb.box.x - margin, mb.box.y - margin, mb.box.w + margin + s + right_mm, mb.box.h + 2 * margin)
             for mb in boxes]
    patches = np.stack([warp_region(gray, matrix, r, k) for r in rects])
    nb = patches.shape[0]
    flat = patches.reshape(nb, -1)
    paper = np.maximum(np.partition(flat, int(flat.shape[1] * 0.9), axis=1)[:, int(flat.shape[1] * 0.9)],
                       40).astype(np.float32)[:, None, None]
    streak_any = streak_cols is not None and bool(streak_cols.any())
    masks = None
    if streak_any:
        assert streak_cols is not None
        masks = np.stack([_streak_mask(matrix, r, k, patches.shape[1:], streak_cols) for r in rects])
        patches = np.where(masks, np.uint8(255), patches)  # masked pixels read as paper
    ink = patches < st.ink_level * paper
    stroke = patches < st.stroke_level * paper
    faint = patches < st.faint_level * paper
    sp, rp = round(s * k), round(ring_mm * k)
    n = 2 * sp + 1  # offsets 0..n-1 around the expected place
    bw, bh = round(b0.box.w * k), round(b0.box.h * k)
    ii = _integral(ink[:, rp : rp + n + bh, rp : rp + n + bw])  # the outline search area only
    ow = max(1, round((BOX_OUTLINE_MM + 0.35) * k))
    ring = (_rect_sums(ii, 0, 0, bw, bh, n) - _rect_sums(ii, ow, ow, bw - 2 * ow, bh - 2 * ow, n))
    best = ring.reshape(nb, -1).argmax(axis=1)
    oys, oxs = np.unravel_index(best, (n, n))
    ring_area = bw * bh - (bw - 2 * ow) * (bh - 2 * ow)
    ins = round(st.interior_inset_mm * k)
    iw, ih = bw - 2 * ins, bh - 2 * ins
    sz = b0.strike_zone
    zdx, zdy = round((sz.x - b0.box.x) * k) + rp, round((sz.y - b0.box.y) * k) + rp
    zw, zh = round(sz.w * k), round(sz.h * k)
    # window geometry (box top-left at (rp, rp)): outline band, interior, ring sectors
    wh, ww = bh + 2 * rp, bw + 2 * rp
    yy, xx = np.mgrid[0:wh, 0:ww]
    bx0, by0, bx1, by1 = rp, rp, rp + bw, rp + bh
    in_box = (xx >= bx0 - 1) & (xx < bx1 + 1) & (yy >= by0 - 1) & (yy < by1 + 1)
    band = in_box & ~((xx >= bx0 + ow) & (xx < bx1 - ow) & (yy >= by0 + ow) & (yy < by1 - ow))
    inner = (xx >= bx0 + ins) & (xx < bx1 - ins) & (yy >= by0 + ins) & (yy < by1 - ins)
    ri = round(st.ring_inner_mm * k)
    ring_zone = ~((xx >= bx0 - ri) & (xx < bx1 + ri) & (yy >= by0 - ri) & (yy < by1 + ri))
    col = np.where(xx < bx0, 0, np.where(xx >= bx1, 2, 1))
    row = np.where(yy < by0, 0, np.where(yy >= by1, 2, 1))
    cell_to_sector = np.array([1, 2, 3, 4, 0, 5, 6, 7, 8])  # 3x3 cells -> SECTORS index + 1 (0: none)
    sector_map = np.where(ring_zone, cell_to_sector[row * 3 + col], 0)
    side_idx = [SECTORS.index(name) + 1 for name in SIDES]
    px2 = k * k
    min_comp = max(2, round(st.min_component_mm2 * px2))
    sector_min = max(2, round(st.sector_min_mm2 * px2))
    close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ow + 3, ow + 3))
    centre = (n - 1) // 2
    out: list[BoxScore] = []
    for i, mb in enumerate(boxes):
        oy, ox = int(oys[i]), int(oxs[i])
        zone = ink[i, oy + zdy : oy + zdy + zh, ox + zdx : ox + zdx + zw]
        strike = float(zone.any(axis=0).mean()) if zone.size else 0.0
        win = stroke[i, oy : oy + wh, ox : ox + ww] & ~band
        span, area, sectors, sides = 0.0, 0.0, (), ()
        ring_counts = np.bincount(sector_map[win], minlength=9)
        sides = tuple(SIDES[j] for j, si in enumerate(side_idx) if ring_counts[si] >= sector_min)
        if int(np.count_nonzero(win & inner)) >= min_comp:
            joined = cv2.morphologyEx(win.astype(np.uint8), cv2.MORPH_CLOSE, close) | win
            nlab, labels, stats, _ = cv2.connectedComponentsWithStats(joined.astype(np.uint8), connectivity=8)
            keep = np.zeros(nlab, dtype=bool)
            keep[np.unique(labels[inner & win])] = True
            keep[0] = False
            keep &= stats[:, cv2.CC_STAT_AREA] >= min_comp
            mark = keep[labels] & win
            if mark.any():
                rows_any, cols_any = np.flatnonzero(mark.any(axis=1)), np.flatnonzero(mark.any(axis=0))
                span = float(np.hypot(rows_any[-1] - rows_any[0] + 1, cols_any[-1] - cols_any[0] + 1)) / k
                area = float(np.count_nonzero(mark)) / px2
                counts = np.bincount(sector_map[mark], minlength=9)
                sectors = tuple(name for j, name in enumerate(SECTORS) if counts[j + 1] >= sector_min)
        band_px = patches[i, oy : oy + wh, ox : ox + ww][band]
        outline_dark = 1.0 - float(np.partition(band_px, band_px.size // 2)[band_px.size // 2]) / float(paper[i, 0, 0])
        streak_mm = 0.0
        if masks is not None:
            m = masks[i, oy : oy + wh, ox : ox + ww] & inner
            streak_mm = float(m.any(axis=0).sum()) / k
        area_frac = float(iw * ih)
        y0, x0 = oy + rp + ins, ox + rp + ins
        n_ink = int(np.count_nonzero(ink[i, y0 : y0 + ih, x0 : x0 + iw]))
        n_faint = int(np.count_nonzero(faint[i, y0 : y0 + ih, x0 : x0 + iw]))
        out.append(BoxScore(
            mb.project_id,
            round(n_ink / area_frac, 4),
            round(n_faint / area_frac, 4),
            round(strike, 3),
            round(float(ring[i, oy, ox]) / ring_area, 3),
            round((ox - centre) / k, 2),
            round((oy - centre) / k, 2),
            round(span, 2),
            round(area, 3),
            sectors,
            sides,
            round(max(0.0, outline_dark), 3),
            round(streak_mm, 2),
        ))
    return out

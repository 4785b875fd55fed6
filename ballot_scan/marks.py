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
   the outline not found (``outline < box_outline_share``), or weak and light
   (``outline < located_outline_share`` and ``outline_dark < located_outline_dark``) with
   ink inside: the box's place was missed (a fold shears the page), what reads as a mark
   may be the outline itself -> ambiguous ``box_not_found``;
2. dense interior (``score >= scratch_share``) with ink spilling into at least
   ``scratch_sectors`` ring sectors -> ambiguous ``scratched_out_mark``;
3. a mark inside whose strokes also reach two *opposite* ring sectors (a line through
   the box, a large X over it) or strike the row -> ambiguous ``crossed_out_mark``;
4. ``score >= fill_share`` and ``span_mm >= mark_min_span_mm`` -> vote (fills, scribbles,
   felt-tip marks; a dense felt-tip hesitation blob shorter than a vote goes on to rule 7);
5. nothing inside (``area_mm2 < marginal_area_mm2``): interior ``faint >= faint_share``
   or ``shade >= shade_share`` -> ambiguous ``faint_mark``; ink beside the box left and
   right, or on ``circle_sides`` sides (a circle not closed) -> ambiguous
   ``mark_around_box``, and so does a ring both shaded (``rshade >= around_shade``) and
   textured beyond the page's boxes (``noise - page_noise >= around_noise_excess``: a light
   pencil circle too faint to ink any side); a core darker than the page's median box by ``faint_depth_excess``
   *and* a line contrast above the page's by ``faint_line_excess`` (a faint short stroke or
   light pencil line under every pixel level) -> ambiguous ``faint_mark``; a core darker
   than the page's median box by ``dark_core_excess`` whatever its line contrast (a tick
   or cross riding the box edge, its ink barely inside) -> ambiguous ``dark_interior``
   (not weighed by the mark model); else empty;
6. ``span_mm >= mark_min_span_mm`` and ``area_mm2 >= mark_min_area_mm2`` -> vote
   (thin ballpoint and pencil ticks, slashes and crosses count); a long mark too light
   for that, on a clean page where it stands far out of the page's own boxes
   (:meth:`BoxScore.clean_page_vote`, robust z-scores of depth and line contrast) -> vote;
   so is a light fill shading ``clean_fill_shade`` of the interior there (rule 5's
   ``faint_mark`` otherwise);
7. a short mark (``span_mm`` below the vote span: dot, short stroke, hesitation) ->
   ambiguous ``small_mark``; a long but too light one -> ambiguous ``marginal_mark``;
8. when ``mark_model`` is on (off by default), the weak verdicts of 5 and 7
   (``small_mark``, ``marginal_mark``, ``faint_mark``) are weighed by the calibrated mark
   model (:mod:`ballot_scan.mark_model`): a smudge of the scanner or of the paper's
   texture becomes empty, a clear thin stroke a vote, and the rest stays ambiguous.
   Its texture features: ``depth`` (the mark's darkest core), ``ihat`` (its line
   contrast), ``gmax`` (edge sharpness), ``istd``, and the paper beside the box
   (``noise``: its texture, ``rshade``: its smudged share), each also against the
   page's median box (``page_depth``, ``page_ihat``, ``page_noise``).

Nothing ambiguous is counted or ignored silently. Complexity: O(boxes x window pixels)
plus O(page pixels / 8) for the streaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ballot_scan.align import warp_region
from ballot_scan.layout import BOX_OUTLINE_MM, MarkBox, Rect
from ballot_scan.settings import DEFAULT_SETTINGS, ScanSettings

SECTORS = ("TL", "T", "TR", "L", "R", "BL", "B", "BR")
OPPOSITE = (("L", "R"), ("T", "B"), ("TL", "BR"), ("TR", "BL"))
SIDES = ("T", "B", "L", "R")
VOTE, AMBIGUOUS, EMPTY = "vote", "ambiguous", "empty"
# rule verdicts the mark model may overturn (a light or short mark, or shade only): the
# strong ones (streak, box not found, scratched or crossed out, circle) are never touched
WEAK_REASONS = ("small_mark", "marginal_mark", "faint_mark")


@dataclass(frozen=True)
class BoxScore:
    """The measured features of one mark box (see the module docstring)."""

    project_id: str  # the box key (MarkBox.key): the project id, or "<project>=<opinion>" on a grid
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
    paper_min: float = 1.0  # darkest paper-profile level under the interior (streaks, bands)
    shade: float = 0.0  # interior share darker than faint_level x P, line or not
    centre: float = 0.0  # stroke share of the interior's central half
    contrast: float = 0.0  # median line contrast (black top-hat / P) of the mark's pixels
    pieces: int = 0  # separate stroke pieces in the window (many: speckle, dirt)
    around: tuple[str, ...] = ()  # ring sectors holding any stroke ink (the mark's or not)
    # texture features (:mod:`ballot_scan.mark_model` weighs them): a pen or pencil mark is
    # darker and sharper than the paper's own texture around the box; a smudge is not
    depth: float = 0.0  # 1 - darkest (3x3 mean) interior level / P: how dark the mark's core is
    noise: float = 0.0  # 95th percentile of the line contrast beside the box (paper texture)
    rshade: float = 0.0  # share of the paper beside the box darker than faint_level x P (smudge)
    istd: float = 0.0  # standard deviation of the interior / P
    ihat: float = 0.0  # 99th percentile of the interior's line contrast
    gmax: float = 0.0  # 99th percentile of the interior's gradient / P per px (sharp edges)
    # the page's own reference (medians over all its boxes, most of them empty): a mark is
    # darker and sharper than the page's usual box, a smudge of a dirty scanner is not
    ring_line_mm2: float = 0.0  # area of sharp dark lines in the ring around the box (a pen stroke beside it)
    page_depth: float = 0.0
    page_ihat: float = 0.0
    page_noise: float = 0.0
    page_depth_mad: float = 1.0  # median absolute deviation of depth over the page's boxes (1: unknown)
    page_ihat_mad: float = 1.0  # ... of ihat: both small on a clean page whose empty boxes are alike

    def clean_page_vote(self, s: ScanSettings = DEFAULT_SETTINGS) -> bool:
        """Rule 8b: a light long mark that stands far out of a *clean* page's boxes.

        Definition: the page is clean (its boxes' core depth and line contrast vary by at
        most ``clean_page_mad`` (median absolute deviation), its paper texture
        ``page_noise`` at most ``clean_page_noise``), the paper beside this box is as clean
        (``noise`` within ``clean_side_noise`` of the page's, ``rshade`` at most
        ``clean_side_shade``: no ink spilling beside it), the mark is in at most
        ``clean_max_pieces`` pieces, and its robust z-scores against the page's median box
        (``(depth - page_depth) / max(page_depth_mad, clean_mad_floor)``, the same for
        ``ihat``) reach ``clean_depth_z`` and ``clean_line_z``. Used only for marks that
        already span a vote (``span_mm >= mark_min_span_mm``): dots, hesitation marks and
        short strokes never reach it. O(1).
        """
        if max(self.page_depth_mad, self.page_ihat_mad) > s.clean_page_mad or self.page_noise > s.clean_page_noise:
            return False
        if self.noise > self.page_noise + s.clean_side_noise or self.rshade > s.clean_side_shade:
            return False
        if self.pieces > s.clean_max_pieces:
            return False
        zd = (self.depth - self.page_depth) / max(self.page_depth_mad, s.clean_mad_floor)
        zh = (self.ihat - self.page_ihat) / max(self.page_ihat_mad, s.clean_mad_floor)
        return zd >= s.clean_depth_z and zh >= s.clean_line_z

    def classify(self, s: ScanSettings = DEFAULT_SETTINGS) -> tuple[str, str | None]:
        """``("vote" | "ambiguous" | "empty", reason or None)``: rules 1-7, then rule 8
        (:func:`ballot_scan.mark_model.refine`) on the weak ambiguous verdicts."""
        verdict = self.rule_verdict(s)
        if s.mark_model and verdict[0] == AMBIGUOUS and verdict[1] in WEAK_REASONS:
            from ballot_scan.mark_model import refine

            return refine(self, verdict, s)
        return verdict

    def rule_verdict(self, s: ScanSettings = DEFAULT_SETTINGS) -> tuple[str, str | None]:
        """``("vote" | "ambiguous" | "empty", reason or None)`` by the module's rules 1-7."""
        if self.paper_min < s.streak_unreadable:
            return AMBIGUOUS, "scanner_streak"
        if self.outline < s.box_outline_share:
            return AMBIGUOUS, "box_not_found"
        if (self.outline < s.located_outline_share and self.outline_dark < s.located_outline_dark
                and (self.area_mm2 > 0 or self.score > 0)):
            return AMBIGUOUS, "box_not_found"  # a faint outline band holding a "mark": the box was missed (fold)
        inside = self.area_mm2 >= s.marginal_area_mm2
        if self.score >= s.scratch_share and len(self.sectors) >= s.scratch_sectors:
            return AMBIGUOUS, "scratched_out_mark"
        if (len(self.ring_sides) >= s.circle_sides and {"L", "R"} <= set(self.ring_sides)
                and self.centre < s.circle_centre and self.score < s.scratch_share):
            return VOTE, None  # a circled box (its ink may cut a corner of the box)
        if inside and (self.strike >= s.strike or any(a in self.sectors and b in self.sectors for a, b in OPPOSITE)
                       or any(a in self.around and b in self.around for a, b in OPPOSITE[:1] + OPPOSITE[2:])):
            return AMBIGUOUS, "crossed_out_mark"
        if self.score >= s.fill_share and self.span_mm >= s.mark_min_span_mm:
            return VOTE, None  # a dense mark reaching across the box (a felt-tip blob or hook does not)
        if not inside:
            if self.faint >= s.faint_share or self.shade >= s.shade_share:
                if self.shade >= s.clean_fill_shade and self.clean_page_vote(s):
                    return VOTE, None  # rule 8b: a light pencil fill shading the box, on a clean page
                return AMBIGUOUS, "faint_mark"
            if {"L", "R"} <= set(self.ring_sides) or len(self.ring_sides) >= s.circle_sides:
                return AMBIGUOUS, "mark_around_box"  # an open or faint circle: never read as empty
            if self.rshade >= s.around_shade and self.noise - self.page_noise >= s.around_noise_excess:
                return AMBIGUOUS, "mark_around_box"  # a light pencil circle: shaded and textured around the box
            if (self.depth - self.page_depth >= s.faint_depth_excess
                    and self.ihat - self.page_ihat >= s.faint_line_excess):
                return AMBIGUOUS, "faint_mark"  # a faint line under every pixel level, darker than the page's boxes
            if self.depth - self.page_depth >= s.dark_core_excess:
                return AMBIGUOUS, "dark_interior"  # a stroke along or across the box edge: never read as empty
            return EMPTY, None
        if self.span_mm >= s.mark_min_span_mm:
            if (self.area_mm2 >= s.mark_min_area_mm2 and self.contrast >= s.mark_min_contrast
                    and self.pieces <= s.max_pieces):
                return VOTE, None
            if self.clean_page_vote(s):
                return VOTE, None  # rule 8b: a light pencil fill, tick or slash on a clean page
            return AMBIGUOUS, "marginal_mark"
        return AMBIGUOUS, "small_mark"


def _rect_sums(integral: np.ndarray, x0: int, y0: int, w: int, h: int, n: int) -> np.ndarray:
    """Sums of the w x h rectangles at (x0+dx, y0+dy), dx, dy in [0, n), for every patch.

    ``integral``: (boxes, H+1, W+1) summed-area tables; returns (boxes, n, n).
    """
    ys, xs = slice(y0, y0 + n), slice(x0, x0 + n)
    ys2, xs2 = slice(y0 + h, y0 + h + n), slice(x0 + w, x0 + w + n)
    return integral[:, ys2, xs2] - integral[:, ys, xs2] - integral[:, ys2, xs] + integral[:, ys, xs]


def _quantile(a: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` quantile (lower) of every row of ``a`` (one partition for all rows)."""
    j = int(q * (a.shape[1] - 1))
    return np.asarray(np.partition(a, j, axis=1)[:, j])


def _texture(patches: np.ndarray, hat: np.ndarray, paper: np.ndarray, oys: np.ndarray, oxs: np.ndarray,
             win: tuple[int, int], box: tuple[int, int, int, int], ins: int, ring_zone: np.ndarray,
             st: ScanSettings, k: float) -> np.ndarray:
    """(boxes, 7): depth, noise, rshade, istd, ihat, gmax, ring_line_mm2 of every box (see BoxScore).

    Every box's window (at its found offset) is gathered once, then each feature is one
    numpy reduction over all boxes: O(boxes x window pixels).
    """
    nb = patches.shape[0]
    wh, ww = win
    bx0, by0, bx1, by1 = box
    si, so = round(st.ring_inner_mm * k), round(st.ring_outer_mm * k)
    # the box's rows, from the left side strip to the right one; the interior within them
    y0, y1, x0, x1 = by0, by1, bx0 - so, bx1 + so
    at = list(zip(oys.tolist(), oxs.tolist(), strict=True))
    wp = np.stack([patches[i, oy + y0 : oy + y1, ox + x0 : ox + x1] for i, (oy, ox) in enumerate(at)])
    wt = np.stack([hat[i, oy + y0 : oy + y1, ox + x0 : ox + x1] for i, (oy, ox) in enumerate(at)])
    mean3 = cv2.blur(wp.reshape(-1, wp.shape[2]), (3, 3)).reshape(wp.shape)
    pv = paper[:, 0, 0]
    iy, ix = slice(ins, by1 - by0 - ins), slice(so + ins, so + bx1 - bx0 - ins)
    core = mean3[:, iy, ix]
    grad = cv2.morphologyEx(core.reshape(-1, core.shape[2]), cv2.MORPH_GRADIENT,
                            np.ones((3, 3), np.uint8)).reshape(core.shape)
    depth = 1.0 - core.reshape(nb, -1).min(axis=1) / pv
    ihat = _quantile(wt[:, iy, ix].reshape(nb, -1), 0.99) / pv
    gmax = _quantile(grad[:, 1:-1, 1:-1].reshape(nb, -1), 0.99) / pv
    istd = wp[:, iy, ix].reshape(nb, -1).std(axis=1) / pv
    side = np.zeros(wp.shape[1:], dtype=bool)
    side[:, : so - si] = True
    side[:, so + bx1 - bx0 + si :] = True
    noise = _quantile(wt[:, side], 0.95) / pv
    rshade = (mean3[:, side] < st.faint_level * pv[:, None]).mean(axis=1)
    rw = np.stack([hat[i, oy : oy + wh, ox : ox + ww][ring_zone] for i, (oy, ox) in enumerate(at)])
    rp = np.stack([patches[i, oy : oy + wh, ox : ox + ww][ring_zone] for i, (oy, ox) in enumerate(at)])
    line = (rw > st.ring_line_contrast * pv[:, None]) & (rp < st.stroke_level * pv[:, None])
    ring_line = line.sum(axis=1) / (k * k)
    return np.stack([np.maximum(depth, 0.0), noise, rshade, istd, ihat, gmax, ring_line], axis=1)


def _integral(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0], a.shape[1] + 1, a.shape[2] + 1), dtype=np.int32)
    out[:, 1:, 1:] = a.cumsum(axis=1, dtype=np.int32).cumsum(axis=2, dtype=np.int32)
    return out


@dataclass(frozen=True)
class PaperProfile:
    """The paper's brightness along the page's columns and rows, relative to its median.

    A dirty drum, glass or roller draws streaks and bands along (and across) the feed:
    thin columns or rows where even the blank paper is darker. ``col[x] x row[y]`` is the
    paper level at (x, y) as a share of the page's; dividing by it restores the paper.
    ``streaks`` counts the columns and rows darker than their neighbours by more than
    ``streak_depth`` (the scanner needs cleaning).
    """

    col: np.ndarray  # float32, one per image column
    row: np.ndarray  # float32, one per image row
    streaks: int


def _dips(level: np.ndarray, depth: float, px: int) -> int:
    """Entries darker than the running maximum over ``px`` entries by more than ``depth``."""
    env = cv2.dilate(level.reshape(1, -1), np.ones((1, px), np.uint8)).ravel()
    return int(np.count_nonzero(level < env - depth))


def paper_profile(gray: np.ndarray, px_per_mm: float, settings: ScanSettings = DEFAULT_SETTINGS) -> PaperProfile | None:
    """The page's paper profile (see :class:`PaperProfile`), or ``None`` when the paper is flat.

    Column level: the 90th percentile of every 16th row (mostly paper: print covers far
    less than a tenth of any column); row level: the same across every 16th column of
    the column-corrected page. O(pixels / 8).
    """
    sample = np.ascontiguousarray(gray[::16].T)  # (columns, rows/16): contiguous per column
    q = int(0.9 * (sample.shape[1] - 1))
    colp = np.sort(sample, axis=1, kind="stable")[:, q].astype(np.float32)  # radix sort of uint8: 2x a partition
    colr = np.maximum(colp / max(float(np.median(colp)), 1.0), 0.05)
    across = gray[::2, ::16].astype(np.float32) / colr[::16][None, :]  # every 2nd row (bands: >= 2 px)
    q = int(0.9 * (across.shape[1] - 1))
    rowp = np.repeat(np.partition(across, q, axis=1)[:, q], 2)[: gray.shape[0]]
    rowr = np.maximum(rowp / max(float(np.median(rowp)), 1.0), 0.05).astype(np.float32)
    tol = settings.profile_tolerance
    if float(np.abs(colr - 1).max()) < tol and float(np.abs(rowr - 1).max()) < tol:
        return None
    px = max(3, round(3 * px_per_mm))
    streaks = _dips(colr, settings.streak_depth, px) + _dips(rowr, settings.streak_depth, px)
    return PaperProfile(colr.astype(np.float32), rowr, streaks)


def _profile_field(matrix: np.ndarray, rects: Sequence[Rect], px_per_mm: float, shape: tuple[int, int],
                   profile: PaperProfile) -> np.ndarray:
    """The paper profile sampled at every pixel of the patches of ``rects`` (boxes, H, W)."""
    h, w = shape
    s = 1.0 / px_per_mm
    # image x and y of every patch pixel, in float32 (exact to well under a pixel on a page);
    # the +0.5 and truncation round them (coordinates are positive), cheaper than rint
    u = (np.array([r.x for r in rects])[:, None] + np.arange(w) * s).astype(np.float32)  # (nb, w) mm
    v = (np.array([r.y for r in rects])[:, None] + np.arange(h) * s).astype(np.float32)  # (nb, h) mm
    m = matrix.astype(np.float32)
    x = (m[0, 0] * u)[:, None, :] + (m[0, 1] * v + (m[0, 2] + 0.5))[:, :, None]
    y = (m[1, 0] * u)[:, None, :] + (m[1, 1] * v + (m[1, 2] + 0.5))[:, :, None]
    xi = np.clip(x, 0, profile.col.shape[0] - 1).astype(np.int32)
    yi = np.clip(y, 0, profile.row.shape[0] - 1).astype(np.int32)
    return np.asarray(profile.col[xi] * profile.row[yi], dtype=np.float32)


def score_boxes(
    gray: np.ndarray, matrix: np.ndarray, boxes: Sequence[MarkBox], px_per_mm: float,
    settings: ScanSettings = DEFAULT_SETTINGS, profile: PaperProfile | None = None,
) -> list[BoxScore]:
    """Measure the mark boxes of a page aligned by ``matrix`` (layout mm -> image px).

    All boxes share one size, so their patches are stacked and located together;
    ``profile`` (from :func:`paper_profile`) divides scanner streaks and bands out.
    """
    if not boxes:
        return []
    st, k = settings, px_per_mm
    s = st.search_mm
    b0 = boxes[0]
    side_mm = max(st.ring_side_mm, (b0.strike_zone.x + b0.strike_zone.w) - (b0.box.x + b0.box.w))
    mx, my = s + side_mm, s + st.ring_outer_mm
    rects = [Rect(mb.box.x - mx, mb.box.y - my, mb.box.w + 2 * mx, mb.box.h + 2 * my) for mb in boxes]
    patches = np.stack([warp_region(gray, matrix, r, k) for r in rects])
    nb = patches.shape[0]
    field = None
    if profile is not None:
        field = _profile_field(matrix, rects, k, patches.shape[1:], profile)
        patches = np.clip(patches / field, 0, 255).astype(np.uint8)
    flat = patches.reshape(nb, -1)
    q = int(flat.shape[1] * 0.9)
    # the 90th percentile of every patch from its 256-bin histogram (one bincount for all)
    hist = np.bincount((flat + (np.arange(nb, dtype=np.int32) * 256)[:, None]).ravel(),
                       minlength=256 * nb).reshape(nb, 256).cumsum(axis=1)
    level = (hist <= q).sum(axis=1)  # the (q+1)-th smallest value of each patch
    paper = np.maximum(level, 40).astype(np.float32)[:, None, None]
    kc = max(3, round(st.contrast_kernel_mm * k) | 1)
    hat = cv2.morphologyEx(patches.reshape(-1, patches.shape[2]), cv2.MORPH_BLACKHAT,
                           cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kc, kc))).reshape(patches.shape)
    ink = patches < st.ink_level * paper
    shade = patches < st.faint_level * paper
    stroke = ink | ((patches < st.stroke_level * paper) & (hat > st.stroke_contrast * paper))
    faint = stroke | (shade & (hat > st.faint_contrast * paper))
    sp = round(s * k)
    rx, ry = round(side_mm * k), round(st.ring_outer_mm * k)
    n = 2 * sp + 1  # offsets 0..n-1 around the expected place
    bw, bh = round(b0.box.w * k), round(b0.box.h * k)
    ow = max(1, round((BOX_OUTLINE_MM + 0.35) * k))
    # each edge of the printed outline found on its own (ink profile across it, within the
    # search range), so a box shifted, scaled or sheared by a fold is still found; the box
    # is placed at the middle of its found edges
    area_y = ink[:, ry + sp : ry + sp + bh, :]  # rows of the box (at its expected place)
    area_x = ink[:, :, rx + sp : rx + sp + bw]
    cols = area_y.sum(axis=1)  # (nb, W)
    rows = area_x.sum(axis=2)  # (nb, H)
    kern = np.ones(ow, dtype=np.int32)

    def edge(profile: np.ndarray, at: int) -> np.ndarray:
        seg = profile[:, at : at + n + ow - 1].astype(np.int32)
        sm = np.stack([np.convolve(r, kern, mode="valid") for r in seg])  # (nb, n): band sums
        return np.asarray(sm.argmax(axis=1))

    lx = edge(cols, rx)  # offset 0..n-1 of the left band
    rxe = edge(cols, rx + bw - ow)
    ty = edge(rows, ry)
    by_ = edge(rows, ry + bh - ow)
    ii = _integral(ink[:, ry : ry + n + bh, rx : rx + n + bw])
    ring = (_rect_sums(ii, 0, 0, bw, bh, n) - _rect_sums(ii, ow, ow, bw - 2 * ow, bh - 2 * ow, n))
    mid = (n - 1) / 2
    # two opposite edges that disagree by more than 3 px (a neighbour's ink or a line
    # caught one of them): the one nearer the expected place (the page fit) decides
    near_x = np.where(np.abs(lx - mid) <= np.abs(rxe - mid), lx, rxe)
    near_y = np.where(np.abs(ty - mid) <= np.abs(by_ - mid), ty, by_)
    oxs = np.where(np.abs(rxe - lx) <= 3, np.rint((lx + rxe) / 2), near_x).astype(np.int64).clip(0, n - 1)
    oys = np.where(np.abs(by_ - ty) <= 3, np.rint((ty + by_) / 2), near_y).astype(np.int64).clip(0, n - 1)
    ring_area = bw * bh - (bw - 2 * ow) * (bh - 2 * ow)
    ins = round(st.interior_inset_mm * k)
    iw, ih = bw - 2 * ins, bh - 2 * ins
    sz = b0.strike_zone
    zdx, zdy = round((sz.x - b0.box.x) * k) + rx, round((sz.y - b0.box.y) * k) + ry
    zw, zh = round(sz.w * k), round(sz.h * k)
    # window geometry (box top-left at (rx, ry)): outline band, interior, ring sectors
    wh, ww = bh + 2 * ry, bw + 2 * rx
    yy, xx = np.mgrid[0:wh, 0:ww]
    bx0, by0, bx1, by1 = rx, ry, rx + bw, ry + bh

    def grown(d: int) -> np.ndarray:
        return np.asarray((xx >= bx0 - d) & (xx < bx1 + d) & (yy >= by0 - d) & (yy < by1 + d))

    band = grown(2) & ~grown(-ow - 1)
    band_zone = grown(4) & ~grown(-ow - 3)
    inner = grown(-ins)
    ri = round(st.ring_inner_mm * k)
    side_cap = round(st.ring_outer_mm * k)  # the sectors reach as far on every side
    ring_zone = ~grown(ri) & grown(side_cap)
    col = np.where(xx < bx0, 0, np.where(xx >= bx1, 2, 1))
    row = np.where(yy < by0, 0, np.where(yy >= by1, 2, 1))
    cell_to_sector = np.array([1, 2, 3, 4, 0, 5, 6, 7, 8])  # 3x3 cells -> SECTORS index + 1 (0: none)
    sector_map = np.where(ring_zone, cell_to_sector[row * 3 + col], 0)
    gap = max(1, round(st.circle_gap_mm * k))
    side_map = np.zeros((wh, ww), dtype=np.int64)  # 1..4: T B L R strips, from the gap to the window edge
    side_map[(yy < by0 - gap) & (col == 1)] = 1
    side_map[(yy >= by1 + gap) & (col == 1)] = 2
    side_map[(xx < bx0 - gap) & (row == 1)] = 3
    side_map[(xx >= bx1 + gap) & (row == 1)] = 4
    px2 = k * k
    min_comp = max(2, round(st.min_component_mm2 * px2))
    span_comp = max(min_comp, round(st.marginal_area_mm2 * px2))
    sector_min = max(2, round(st.sector_min_mm2 * px2))
    close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ow + 3, ow + 3))
    bridge = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ow + 3, 2 * ow + 3))
    centre = (n - 1) // 2
    tex = _texture(patches, hat, paper, oys, oxs, (wh, ww), (bx0, by0, bx1, by1), ins, ring_zone, st, k)
    out: list[BoxScore] = []
    for i, mb in enumerate(boxes):
        oy, ox = int(oys[i]), int(oxs[i])
        zone = ink[i, oy + zdy : oy + zdy + zh, ox + zdx : ox + zdx + zw]
        strike = float(zone.any(axis=0).mean()) if zone.size else 0.0
        win = stroke[i, oy : oy + wh, ox : ox + ww] & ~band
        span, area, contrast, pieces = 0.0, 0.0, 0.0, 0
        sectors: tuple[str, ...] = ()
        side_counts = np.bincount(side_map[win], minlength=5)
        sides = tuple(SIDES[j] for j in range(4) if side_counts[j + 1] >= sector_min)
        ring_counts = np.bincount(sector_map[win], minlength=9)
        around = tuple(name for j, name in enumerate(SECTORS) if ring_counts[j + 1] >= sector_min)
        if int(np.count_nonzero(win & inner)) >= min_comp:
            w8 = win.astype(np.uint8)
            joined = (cv2.morphologyEx(w8, cv2.MORPH_CLOSE, close)
                      | (cv2.morphologyEx(w8, cv2.MORPH_CLOSE, bridge) & band_zone) | w8)
            nlab, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
            keep = np.zeros(nlab, dtype=bool)
            keep[np.unique(labels[inner & win])] = True
            keep[0] = False
            big = stats[:, cv2.CC_STAT_AREA] >= min_comp
            big[0] = False
            pieces = int(np.count_nonzero(big))
            keep &= big
            mark = keep[labels] & win
            if mark.any():
                main = keep & (stats[:, cv2.CC_STAT_AREA] >= span_comp)
                spanned = main[labels] & win if main.any() else mark
                rows_any, cols_any = np.flatnonzero(spanned.any(axis=1)), np.flatnonzero(spanned.any(axis=0))
                span = float(np.hypot(rows_any[-1] - rows_any[0] + 1, cols_any[-1] - cols_any[0] + 1)) / k
                area = float(np.count_nonzero(mark)) / px2
                counts = np.bincount(sector_map[mark], minlength=9)
                sectors = tuple(name for j, name in enumerate(SECTORS) if counts[j + 1] >= sector_min)
                hv = hat[i, oy : oy + wh, ox : ox + ww][mark]
                contrast = float(np.partition(hv, hv.size // 2)[hv.size // 2]) / float(paper[i, 0, 0])
        band_px = patches[i, oy : oy + wh, ox : ox + ww][band]
        outline_dark = 1.0 - float(np.partition(band_px, band_px.size // 2)[band_px.size // 2]) / float(paper[i, 0, 0])
        y0, x0 = oy + ry + ins, ox + rx + ins
        paper_min = 1.0
        if field is not None:
            paper_min = float(field[i, y0 : y0 + ih, x0 : x0 + iw].min())
        area_frac = float(iw * ih)
        n_ink = int(np.count_nonzero(ink[i, y0 : y0 + ih, x0 : x0 + iw]))
        n_faint = int(np.count_nonzero(faint[i, y0 : y0 + ih, x0 : x0 + iw]))
        n_shade = int(np.count_nonzero(shade[i, y0 : y0 + ih, x0 : x0 + iw]))
        depth, noise, rshade, istd, ihat, gmax, ring_line = (float(v) for v in tex[i])
        cy0, cx0 = y0 + ih // 4, x0 + iw // 4
        n_centre = int(np.count_nonzero(stroke[i, cy0 : cy0 + ih // 2, cx0 : cx0 + iw // 2]))
        out.append(BoxScore(
            mb.key,
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
            round(paper_min, 3),
            round(n_shade / area_frac, 4),
            round(n_centre / float((ih // 2) * (iw // 2)), 4),
            round(contrast, 3),
            pieces,
            around,
            round(max(0.0, depth), 3),
            round(noise, 3),
            round(rshade, 3),
            round(istd, 4),
            round(ihat, 3),
            round(gmax, 3),
            round(ring_line, 3),
        ))
    if out:
        pd = round(float(np.median([b.depth for b in out])), 3)
        ph = round(float(np.median([b.ihat for b in out])), 3)
        pn = round(float(np.median([b.noise for b in out])), 3)
        dmad = round(float(np.median([abs(b.depth - pd) for b in out])), 4)
        hmad = round(float(np.median([abs(b.ihat - ph) for b in out])), 4)
        out = [replace(b, page_depth=pd, page_ihat=ph, page_noise=pn, page_depth_mad=dmad, page_ihat_mad=hmad)
               for b in out]
    return out

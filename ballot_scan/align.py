"""Find the four corner fiducials of a scanned page and fit the page transform.

Method: in each corner region of the greyscale scan (22 % x 16 % of the image),
threshold with Otsu and keep the connected components whose size (6 mm ± 40 %, at the
resolution implied by the image width), squareness and fill ratio (> 0.7) match a
fiducial; the candidate nearest the image corner wins. A least-squares affine transform
maps the printed fiducial centres (mm) to the found ones (pixels). The orientation bar
printed at the top centre (its 180° image is blank paper) tells upright from upside
down; an upside-down page is re-fitted with the corners swapped.

Every darkness is relative to the paper: the corner regions are divided by their
background (a grey-level closing, i.e. the paper with the print removed, at a scale larger
than a fiducial) before Otsu, and the orientation bar is measured against the paper level
around it (90th percentile), so grey or tinted paper, shadows and lighting gradients
do not read as ink.

Limits (:class:`ballot_scan.settings.ScanSettings`, documented in ``docs/paper-ballots.md``;
beyond them the page is rejected with the reason): ``max_rotation_deg``, ``max_skew_deg``
(non-orthogonality), ``max_aspect_error`` (x/y scale mismatch), ``max_residual_mm`` (fit
residual), resolution between ``min_dpi`` and ``max_dpi``.

Complexity: O(pixels of the four corner regions) + O(1) fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ballot_scan.layout import (
    FIDUCIAL_MM,
    MM_PER_INCH,
    ORIENTATION_BAR,
    PAGE_W_MM,
    Rect,
    fiducial_centres_mm,
    rect,
)
from ballot_scan.settings import DEFAULT_SETTINGS, ScanSettings
from engine.errors import PaperPageError

CORNER_W, CORNER_H = 0.22, 0.16  # geometry of the layout, not a tunable


class AlignmentError(PaperPageError):
    """A page that cannot be aligned; ``reason`` is a stable code."""


@dataclass(frozen=True)
class Alignment:
    """Where the printed layout lies on the scanned image: the affine map from layout
    millimetres to image pixels found from the fiducials, with its rotation, skew, scan
    resolution, fit residual and whether the page was scanned upside down."""

    matrix: np.ndarray  # 2x3 affine: layout mm -> image px
    rotation_deg: float
    skew_deg: float
    dpi: float
    residual_mm: float
    upside_down: bool

    def to_image(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        """The image pixel (x, y) of the layout point (x_mm, y_mm)."""
        m = self.matrix
        return (m[0, 0] * x_mm + m[0, 1] * y_mm + m[0, 2], m[1, 0] * x_mm + m[1, 1] * y_mm + m[1, 2])


def _candidates(binary: np.ndarray, side_px: float, corner: int) -> tuple[float, tuple[float, float]] | None:
    """The fiducial-shaped component of ``binary`` nearest the image corner: (distance, centre)."""
    ch, cw = binary.shape
    n, _, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    area_exp = side_px * side_px
    cx_corner = 0 if corner in (0, 2) else cw
    cy_corner = 0 if corner in (0, 1) else ch
    a, bw_, bh_ = stats[:, cv2.CC_STAT_AREA], stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    bx_, by_ = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    ok = ((a >= 0.5 * area_exp) & (a <= 1.6 * area_exp)
          & (bw_ >= 0.7 * side_px) & (bw_ <= 1.45 * side_px) & (bh_ >= 0.7 * side_px) & (bh_ <= 1.45 * side_px)
          & (a >= 0.7 * bw_ * bh_)
          & (bx_ > 0) & (by_ > 0) & (bx_ + bw_ < cw) & (by_ + bh_ < ch))  # touching the edge: border or cropped
    ok[0] = False
    best: tuple[float, tuple[float, float]] | None = None
    for i in np.flatnonzero(ok):
        cx, cy = centroids[i]
        d = math.hypot(cx - cx_corner, cy - cy_corner)
        if best is None or d < best[0]:
            best = (d, (float(cx), float(cy)))
    return best


def _find_in_corner(gray: np.ndarray, corner: int, side_px: float) -> tuple[float, float] | None:
    h, w = gray.shape
    cw, ch = int(w * CORNER_W), int(h * CORNER_H)
    x0 = 0 if corner in (0, 2) else w - cw
    y0 = 0 if corner in (0, 1) else h - ch
    f = 2 if side_px >= 24 else 1  # halve the resolution: a fiducial stays >= 12 px wide
    region = gray[y0 : y0 + ch, x0 : x0 + cw]
    if f > 1:
        region = halve(region)
        ch, cw = region.shape
        side_px /= f
    region = flatten_background(region, side_px)
    _, binary = cv2.threshold(region, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    best = _candidates(binary, side_px, corner)
    if best is None:
        best = _candidates(_cleaned(region, side_px), side_px, corner)
    if best is None:
        return None
    cx, cy = best[1]
    return ((cx + 0.5) * f - 0.5 + x0, (cy + 0.5) * f - 0.5 + y0)


def _cleaned(flat: np.ndarray, side_px: float) -> np.ndarray:
    """Second look at a corner whose Otsu threshold found no fiducial: ink is what is darker
    than half the paper level (a fiducial is near-black; roller bands and drum dust are
    grey), light lines through the mark (low-ink rows, streaks) are closed, and thinner
    dark lines and dust touching it are opened away (a square of 0.6 of its side)."""
    ink = np.where(flat < 128, 255, 0).astype(np.uint8)
    kc = max(3, round(side_px / 5) | 1)
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (kc, kc)))
    ko = max(3, round(side_px * 0.6) | 1)
    return cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (ko, ko)))


def _fit(src_mm: list[tuple[float, float]], dst_px: list[tuple[float, float]]) -> tuple[np.ndarray, float]:
    a = np.array([[x, y, 1.0] for x, y in src_mm])
    b = np.array(dst_px)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    m = sol.T  # 2x3
    resid = a @ sol - b
    return m, float(np.sqrt((resid**2).sum(axis=1).mean()))


def halve(a: np.ndarray) -> np.ndarray:
    """``a`` at half its resolution, each pixel the mean of a 2 x 2 block (an odd last row or
    column dropped). A bilinear resize by exactly 2 is that mean, ten times cheaper in
    OpenCV than ``INTER_AREA``."""
    h, w = (a.shape[0] // 2) * 2, (a.shape[1] // 2) * 2
    return cv2.resize(a[:h, :w], (w // 2, h // 2), interpolation=cv2.INTER_LINEAR)


def flatten_background(region: np.ndarray, object_px: float) -> np.ndarray:
    """``region`` divided by its paper level (x 255): print removed by a grey closing
    (a maximum then minimum filter wider than ``object_px``), smoothed, then divided out.
    Paper reads 255 wherever it is, ink keeps its contrast to the paper around it."""
    k = max(3, int(object_px * 1.6) | 1)
    small = halve(halve(region)) if min(region.shape) >= 8 else region
    ks = max(3, (k // 4) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (ks, ks))
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    bg = cv2.blur(bg, (ks, ks))
    bg = cv2.resize(bg, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(region, np.maximum(bg, 1), scale=255.0)  # saturated at 255


def _bar_darkness(gray: np.ndarray, m: np.ndarray, r: Rect) -> float:
    """Darkness of a printed rectangle's centre relative to the paper around it
    (0 = paper, 1 = black), via ``m``: 1 - mean(centre) / P, where P is the 90th
    percentile of the rectangle grown by 4 mm on each side (mostly paper)."""
    k = 4.0
    around = Rect(r.x - 4.0, r.y - 4.0, r.w + 8.0, r.h + 8.0)
    patch = warp_region(gray, m, around, k)
    paper = max(float(np.percentile(patch, 90)), 20.0)
    x0, y0 = round((4.0 + r.w * 0.2) * k), round((4.0 + r.h * 0.25) * k)
    inner = patch[y0 : y0 + max(1, round(r.h * 0.5 * k)), x0 : x0 + max(1, round(r.w * 0.6 * k))]
    return max(0.0, 1.0 - float(inner.mean()) / paper)


def _bar_darkness_searched(gray: np.ndarray, m: np.ndarray, r: Rect, search_mm: float = 3.0) -> float:
    """Darkness of a printed bar relative to the paper, found where a fold or a crease moved
    it: for every column of the bar's central 60 %, the darkest run of half the bar's height
    within ``search_mm`` above or below its place (0 = paper, 1 = black); the median of the
    columns. Used only when :func:`_bar_darkness` (the fixed place) is inconclusive."""
    k = 4.0
    g = search_mm + 1.0
    around = Rect(r.x - 4.0, r.y - g, r.w + 8.0, r.h + 2 * g)
    patch = warp_region(gray, m, around, k)
    paper = max(float(np.percentile(patch, 90)), 20.0)
    run = max(1, round(r.h * 0.5 * k))
    col = cv2.blur(patch.astype(np.float32), (1, run), borderType=cv2.BORDER_REPLICATE)
    top, bottom = round(1.0 * k), patch.shape[0] - round(1.0 * k)
    x0, x1 = round((4.0 + r.w * 0.2) * k), round((4.0 + r.w * 0.8) * k)
    darkest = col[top:bottom, x0:x1].min(axis=0)
    return max(0.0, 1.0 - float(np.median(darkest)) / paper)


def _orientation(gray: np.ndarray, m: np.ndarray, st: ScanSettings) -> bool | None:
    """Whether the page is upside down (``None``: the bar is not found either way).

    First the bar at its place and the blank spot opposite (``orientation_dark`` /
    ``orientation_light``). When that is inconclusive (a fold moved the bar, dust or a
    shadow greys the blank spot, the bar printed faint), both are searched
    (:func:`_bar_darkness_searched`) and the page is decided when the darker of the two is
    at least ``orientation_min_bar`` and at least ``orientation_ratio`` times the lighter.
    """
    bar = rect(ORIENTATION_BAR)
    up, down = _bar_darkness(gray, m, bar), _bar_darkness(gray, m, bar.rotated_180())
    if down > st.orientation_dark and up < st.orientation_light:
        return True
    if up > st.orientation_dark and down < st.orientation_light:
        return False
    up_s = max(up, _bar_darkness_searched(gray, m, bar))
    down_s = max(down, _bar_darkness_searched(gray, m, bar.rotated_180()))
    hi, lo = max(up_s, down_s), min(up_s, down_s)
    if hi >= st.orientation_min_bar and hi >= st.orientation_ratio * lo:
        return down_s > up_s
    return None


def warp_region(gray: np.ndarray, m: np.ndarray, r: Rect, px_per_mm: float) -> np.ndarray:
    """Resample layout rectangle ``r`` (mm) from the scan at ``px_per_mm``, deskewed."""
    w = max(1, round(r.w * px_per_mm))
    h = max(1, round(r.h * px_per_mm))
    s = 1.0 / px_per_mm
    lin = m[:, :2]
    # patch px -> mm: (x*s + r.x, y*s + r.y); then mm -> image px via m
    total = np.empty((2, 3), dtype=np.float64)
    total[:, :2] = lin * s
    total[:, 2] = lin @ np.array([r.x, r.y]) + m[:, 2]
    return cv2.warpAffine(
        gray, total, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=255
    )


def align_page(gray: np.ndarray, settings: ScanSettings = DEFAULT_SETTINGS) -> Alignment:
    """Fit the layout-to-image transform of one page; raise :class:`AlignmentError`."""
    st = settings
    h, w = gray.shape
    if h < 200 or w < 140:
        raise AlignmentError("page_unreadable", f"image too small ({w}x{h} px)")
    dpi_est = w / PAGE_W_MM * MM_PER_INCH
    side = FIDUCIAL_MM * dpi_est / MM_PER_INCH
    found = [_find_in_corner(gray, c, side) for c in range(4)]
    missing = [name for name, f in zip(("top-left", "top-right", "bottom-left", "bottom-right"), found,
                                       strict=True) if f is None]
    if missing:
        raise AlignmentError("fiducials_not_found", f"no fiducial mark in the {', '.join(missing)} corner(s)")
    pts = [f for f in found if f is not None]
    src = fiducial_centres_mm()
    m, resid = _fit(src, pts)
    upside_down = _orientation(gray, m, st)
    if upside_down is None:
        bar = rect(ORIENTATION_BAR)
        up, down = _bar_darkness(gray, m, bar), _bar_darkness(gray, m, bar.rotated_180())
        raise AlignmentError(
            "orientation_unknown", f"orientation bar not found (darkness top {up:.2f}, bottom {down:.2f})"
        )
    if upside_down:
        m, resid = _fit(src, [pts[3], pts[2], pts[1], pts[0]])
    ux, uy = m[0, 0], m[1, 0]
    vx, vy = m[0, 1], m[1, 1]
    sx, sy = math.hypot(ux, uy), math.hypot(vx, vy)
    rotation = math.degrees(math.atan2(uy, ux))
    if upside_down:  # the fit includes the 180° turn; the limit applies to what is left
        rotation = (rotation + 360.0) % 360.0 - 180.0
    skew = math.degrees(math.acos(max(-1.0, min(1.0, (ux * vx + uy * vy) / (sx * sy))))) - 90.0
    dpi = sx * MM_PER_INCH
    resid_mm = resid / sx
    if resid_mm > st.max_residual_mm:
        raise AlignmentError("fiducials_inconsistent", f"fiducials do not fit the page ({resid_mm:.2f} mm off)")
    if abs(rotation) > st.max_rotation_deg:
        raise AlignmentError("rotation_too_large", f"page rotated {rotation:.1f}° (limit {st.max_rotation_deg}°)")
    if abs(skew) > st.max_skew_deg:
        raise AlignmentError("skew_too_large", f"page skewed {skew:.2f}° (limit {st.max_skew_deg}°)")
    if abs(sy / sx - 1.0) > st.max_aspect_error:
        raise AlignmentError("scale_mismatch", f"x/y scale differ by {abs(sy / sx - 1) * 100:.1f} %")
    if not st.min_dpi <= dpi <= st.max_dpi:
        raise AlignmentError("resolution_out_of_range", f"page resolution {dpi:.0f} dpi")
    return Alignment(m, rotation, skew, dpi, resid_mm, upside_down)

"""Read the printed page code (``AR11-1``) by matching it against the election's codes.

The page code comes from a closed vocabulary (the election's envelopes x pages), printed
by us in a known monospaced font at a known place. Every page's deskewed crop is compared
by normalised cross-correlation (:func:`cv2.matchTemplate`, ``TM_CCOEFF_NORMED``, at
half the working resolution, searched ±1.5 mm) with each code rendered the same way:
about 2 ms a page, robust to blur, noise and JPEG, where a Tesseract call costs tens of
milliseconds per crop. Tesseract (:mod:`ballot_scan.ocr`) remains the reader when the QR
code is damaged (page code and short codes) and when matching is inconclusive.

Use: with a readable QR the printed code must *confirm* it (the QR's code scores best);
another code scoring clearly better is an ``envelope_mismatch``.

Complexity: O(codes x search positions x template pixels) per page.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ballot_scan.align import warp_region
from ballot_scan.layout import PAGE_CODE_BOX, Rect, rect
from ballot_scan.render import ballot_font
from ballot_scan.settings import DEFAULT_SETTINGS, ScanSettings

SCALE = 0.5  # match at half the working resolution
FONT_MM = 9.0  # as printed by ballot_scan.render
SLACK_MM = 1.5


class PageCodeMatcher:
    """The election's page codes (``AR11-1``…) drawn once as templates in the ballot font;
    :meth:`read` matches a page's code region against all of them (normalised
    cross-correlation) to confirm the QR's code or, with no QR, to name the page; a code is
    taken only above ``code_min_score`` and ``code_min_margin`` ahead of the others."""

    def __init__(self, codes: Sequence[str], px_per_mm: float, settings: ScanSettings = DEFAULT_SETTINGS) -> None:
        self.codes = list(codes)
        self.min_score, self.min_margin = settings.code_min_score, settings.code_min_margin
        self.k = px_per_mm * SCALE
        box = rect(PAGE_CODE_BOX)
        hi = px_per_mm * 2  # draw at twice the working resolution, then reduce
        font = ballot_font(max(1, round(FONT_MM * hi)), mono=True, bold=True)
        w, h = round(box.w * hi), round(box.h * hi)
        raw: list[tuple[np.ndarray, float, float]] = []
        for code in self.codes:
            img = Image.new("L", (w, h), 255)
            ImageDraw.Draw(img).text((0, 0), code, fill=0, font=font)
            a = np.array(img)
            ink = a < 128
            rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
            t = a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            raw.append((t, cols[0] / hi, rows[0] / hi))
        x0 = min(ox for _, ox, _ in raw)
        y0 = min(oy for _, _, oy in raw)
        x1 = max(ox + t.shape[1] / hi for t, ox, _ in raw)
        y1 = max(oy + t.shape[0] / hi for t, _, oy in raw)
        self.region = Rect(box.x + x0 - SLACK_MM, box.y + y0 - SLACK_MM, x1 - x0 + 2 * SLACK_MM,
                           y1 - y0 + 2 * SLACK_MM)
        f = self.k / hi
        self.templates = [
            cv2.resize(t, (max(1, round(t.shape[1] * f)), max(1, round(t.shape[0] * f))),
                       interpolation=cv2.INTER_AREA)
            for t, _, _ in raw
        ]

    def crop(self, gray: np.ndarray, matrix: np.ndarray) -> np.ndarray:
        """The code's region of the page, warped upright at the templates' scale."""
        return warp_region(gray, matrix, self.region, self.k)

    def scores(self, crop: np.ndarray) -> dict[str, float]:
        """Each code's best match score in ``crop`` (-1.0 when its template does not fit)."""
        out: dict[str, float] = {}
        for code, t in zip(self.codes, self.templates, strict=True):
            if t.shape[0] > crop.shape[0] or t.shape[1] > crop.shape[1]:
                out[code] = -1.0
            else:
                out[code] = float(cv2.matchTemplate(crop, t, cv2.TM_CCOEFF_NORMED).max())
        return out

    def read(self, crop: np.ndarray, expected: str | None = None) -> tuple[str | None, dict[str, float]]:
        """The printed code, or ``None`` when inconclusive.

        With ``expected`` (from the QR): returns ``expected`` when it scores best (above
        ``code_min_score``), another code when that one beats it by ``code_min_margin``,
        else ``None``. Without: the best code when it leads the runner-up by the margin.
        """
        sc = self.scores(crop)
        ranked = sorted(sc.items(), key=lambda kv: -kv[1])
        best, best_score = ranked[0]
        if best_score < self.min_score:
            return None, sc
        if expected is not None and expected in sc:
            if best == expected:
                return expected, sc
            return (best if best_score - sc[expected] >= self.min_margin else None), sc
        second = ranked[1][1] if len(ranked) > 1 else -1.0
        return (best if best_score - second >= self.min_margin else None), sc

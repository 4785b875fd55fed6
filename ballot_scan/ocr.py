"""Read printed codes with Tesseract, several crops per Tesseract call.

Each pytesseract call starts a process (about 70 ms here), so the crops of a batch of
pages are scaled to one height, laid side by side with white gaps and read in a single
``--psm 7`` (one text line) call with a character whitelist; the characters are mapped
back to their crop by position (``image_to_boxes``). ``OMP_THREAD_LIMIT=1`` is set because
Tesseract's OpenMP threads make it several times slower on a busy machine.

Codes read here are always validated afterwards (page codes against the election's
known codes, short codes by their check symbol): an OCR result is never trusted alone.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence

import cv2
import numpy as np

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import pytesseract  # noqa: E402

WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-*~$="
LINE_HEIGHT = 40
GAP = 32


def read_lines(crops: Sequence[np.ndarray]) -> list[str]:
    """OCR each crop (one text line each) with one Tesseract call; '' when nothing read."""
    if not crops:
        return []
    scaled: list[np.ndarray] = []
    for c in crops:
        c = _trim(c)
        h, w = c.shape
        nw = max(1, round(w * LINE_HEIGHT / h))
        scaled.append(cv2.resize(c, (nw, LINE_HEIGHT), interpolation=cv2.INTER_AREA))
    total_w = sum(s.shape[1] for s in scaled) + GAP * (len(scaled) + 1)
    canvas = np.full((LINE_HEIGHT + 2 * GAP, total_w), 255, dtype=np.uint8)
    spans: list[tuple[int, int]] = []
    x = GAP
    for s in scaled:
        canvas[GAP : GAP + LINE_HEIGHT, x : x + s.shape[1]] = s
        spans.append((x, x + s.shape[1]))
        x += s.shape[1] + GAP
    config = f"--psm 7 --oem 1 -c tessedit_char_whitelist={WHITELIST}"
    with tempfile.TemporaryDirectory(prefix="pbcount-ocr-") as tmp:
        path = os.path.join(tmp, "line.bmp")  # uncompressed: PNG encoding costs more than OCR
        cv2.imwrite(path, canvas)
        boxes = pytesseract.image_to_boxes(path, config=config)
    # one line per character: "<char> <left> <bottom> <right> <top> <page>"; the whitelist
    # has no space, so characters (not words) are mapped back to their crop by position
    words: list[list[tuple[int, str]]] = [[] for _ in crops]
    for line in boxes.splitlines():
        parts = line.split(" ")
        if len(parts) < 6 or not parts[0].strip():
            continue
        left, right = int(parts[1]), int(parts[3])
        centre = (left + right) / 2
        for i, (a, b) in enumerate(spans):
            if a - GAP / 2 <= centre <= b + GAP / 2:
                words[i].append((left, parts[0]))
                break
    return ["".join(t for _, t in sorted(ws)) for ws in words]


def _trim(crop: np.ndarray) -> np.ndarray:
    """Cut a crop down to its ink (plus a small margin): Tesseract's time grows with width."""
    paper = float(np.percentile(crop, 90))
    ink = crop < 0.6 * paper
    cols = np.flatnonzero(ink.any(axis=0))
    rows = np.flatnonzero(ink.any(axis=1))
    if cols.size == 0 or rows.size == 0:
        return crop
    pad = 6
    y0, y1 = max(0, rows[0] - pad), min(crop.shape[0], rows[-1] + pad + 1)
    x0, x1 = max(0, cols[0] - pad), min(crop.shape[1], cols[-1] + pad + 1)
    return crop[y0:y1, x0:x1]


_CONFUSABLE = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "S": "5", "B": "8",
                             "Z": "2", "G": "6"})


def match_code(text: str, known: Sequence[str]) -> str | None:
    """The known code ``text`` reads as, tolerating OCR confusions (O/0, I/1, S/5…).

    Returns ``None`` when no known code or more than one matches.
    """
    cleaned = re.sub(r"[^A-Z0-9-]", "", text.upper())
    if cleaned in known:
        return cleaned
    folded = cleaned.translate(_CONFUSABLE)
    hits = [k for k in known if k.translate(_CONFUSABLE) == folded]
    return hits[0] if len(hits) == 1 else None


_SHORT = re.compile(r"([0-9A-Z]{4})-?([0-9A-Z]{4})-?([0-9A-Z]{4})-?([0-9A-Z]{4})-?([0-9A-Z*~$=])")


def find_short_code(text: str) -> str | None:
    """The ``XXXX-XXXX-XXXX-XXXX-C`` pattern in an OCR line (not yet check-validated)."""
    m = _SHORT.search(text.upper().replace(" ", ""))
    if m is None:
        return None
    return "-".join(m.groups())

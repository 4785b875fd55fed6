"""Read the QR code of a ballot page with zxing-cpp on the known (deskewed) corner crop.

zxing-cpp is used rather than OpenCV's ``QRCodeDetector``, which decodes far fewer
degraded symbols (see ``/work/shared/REFERENCE.md``). The crop is the printed QR box plus
a ``qr_margin_mm`` margin, resampled upright (the page transform undoes rotation and
skew) at the working resolution, so the quiet zone is intact.

Several passes, cheapest first, stopping at the first valid symbol: each binarizer of
``settings.qr_binarizers`` on the upright crop (zxing's default ``LocalAverage`` first,
then a global histogram and fixed thresholds, which read symbols the local one loses to
streaks or low contrast), then the crop flattened against its paper level and upscaled
by 1.5 (thin modules, JPEG blur), then both median-filtered (JPEG ringing, speckle on the
modules); :func:`read_qr` does all that again on the crop resampled from the scan at
``qr_retry_scale`` x the resolution. A clean page costs one pass; only a damaged code
pays for the others, before the page falls back to OCR.
"""

from __future__ import annotations

import cv2
import numpy as np
import zxingcpp

from ballot_scan.align import flatten_background, warp_region
from ballot_scan.layout import QR_BOX, Rect
from ballot_scan.settings import DEFAULT_SETTINGS, ScanSettings


def qr_crop(gray: np.ndarray, matrix: np.ndarray, px_per_mm: float,
            settings: ScanSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """The upright crop of the QR box plus its margin, at ``px_per_mm``."""
    q = Rect(*QR_BOX)
    mg = settings.qr_margin_mm
    r = Rect(q.x - mg, q.y - mg, q.w + 2 * mg, q.h + 2 * mg)
    return warp_region(gray, matrix, r, px_per_mm)


_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _decode_once(crop: np.ndarray, binarizer: str) -> str | None:
    found = zxingcpp.read_barcodes(
        crop, formats=_QR_ONLY, try_rotate=False, try_invert=False,
        binarizer=getattr(zxingcpp.Binarizer, binarizer),
    )
    for r in found:
        if r.valid and r.text:
            return str(r.text)
    return None


def decode_qr(crop: np.ndarray, settings: ScanSettings = DEFAULT_SETTINGS) -> str | None:
    """The text of the first valid QR code in ``crop`` (see the module docstring), or ``None``."""
    crop = np.ascontiguousarray(crop)
    for b in settings.qr_binarizers:
        text = _decode_once(crop, b)
        if text is not None:
            return text
    flat = flatten_background(crop, crop.shape[1] / 6)
    big = cv2.resize(flat, (crop.shape[1] * 3 // 2, crop.shape[0] * 3 // 2), interpolation=cv2.INTER_CUBIC)
    for img in (big, cv2.medianBlur(crop, 3), cv2.medianBlur(big, 3)):
        for b in settings.qr_binarizers[:2]:
            text = _decode_once(np.ascontiguousarray(img), b)
            if text is not None:
                return text
    return None


def read_qr(gray: np.ndarray, matrix: np.ndarray, px_per_mm: float,
            settings: ScanSettings = DEFAULT_SETTINGS) -> str | None:
    """The page's QR text: :func:`decode_qr` on the upright crop at ``px_per_mm``, then (a
    damaged code only) on the crop resampled from the scan at ``qr_retry_scale`` times that
    resolution, where modules bent by a fold or blurred by JPEG keep more pixels."""
    text = decode_qr(qr_crop(gray, matrix, px_per_mm, settings), settings)
    if text is None and settings.qr_retry_scale > 1:
        text = decode_qr(qr_crop(gray, matrix, px_per_mm * settings.qr_retry_scale, settings), settings)
    return text

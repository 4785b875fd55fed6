"""Read the QR code of a ballot page with zxing-cpp on the known (deskewed) corner crop.

zxing-cpp is used rather than OpenCV's ``QRCodeDetector``, which decodes far fewer
degraded symbols (see ``/work/shared/REFERENCE.md``). The crop is the printed QR box plus
a 3 mm margin, resampled at the working resolution, so the quiet zone is intact.
"""

from __future__ import annotations

import numpy as np
import zxingcpp

from ballot_scan.align import warp_region
from ballot_scan.layout import QR_BOX, Rect

QR_MARGIN_MM = 3.0


def qr_crop(gray: np.ndarray, matrix: np.ndarray, px_per_mm: float) -> np.ndarray:
    q = Rect(*QR_BOX)
    r = Rect(q.x - QR_MARGIN_MM, q.y - QR_MARGIN_MM, q.w + 2 * QR_MARGIN_MM, q.h + 2 * QR_MARGIN_MM)
    return warp_region(gray, matrix, r, px_per_mm)


def decode_qr(crop: np.ndarray) -> str | None:
    """The text of the first valid QR code in ``crop``, or ``None``."""
    found = zxingcpp.read_barcodes(
        np.ascontiguousarray(crop), formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False, try_invert=False
    )
    for r in found:
        if r.valid and r.text:
            return r.text
    return None

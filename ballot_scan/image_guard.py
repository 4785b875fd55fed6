"""Guard in front of the image decoder: reject bad scan files with a reason, cheaply.

A scan folder on counting night may hold anything: an empty file left by a crashed
transfer, a file cut short, random bytes, a PDF (scanner set to the wrong format), a
200-megapixel image (wrong resolution setting, or a hostile decompression bomb).
:func:`check_image` looks only at the bytes already in memory and at the image header
— it never decodes pixels — so each of these is refused before the decoder allocates
anything, in time linear in the file size and memory bounded by the file.

Checks, first failing wins (reason code, see :data:`IMAGE_REASONS`):

1. ``image_empty``       — zero bytes.
2. ``image_is_pdf``      — starts with ``%PDF`` (PDF scans are read page by page by
   :func:`check_document` and :mod:`ballot_scan.read`; this guard is for single images).
3. ``image_unknown_format`` — not PNG, JPEG or TIFF by its magic bytes.
4. ``image_corrupt``     — the header cannot be parsed (Pillow, lazy open).
5. ``image_too_large``   — width x height above ``max_pixels`` (any TIFF page), or more
   than ``max_pages_per_file`` pages (:class:`ballot_scan.settings.ScanSettings`).
6. ``image_truncated``   — PNG without its ``IEND`` chunk, JPEG without its end marker.

Pixels that are corrupt behind a valid header are left to the decoder, which returns
nothing (the page is then ``page_unreadable``). Complexity: O(file size).

Multi-page files (TIFF, PDF) are checked **once per file** by :func:`check_document`
(from the file on disk, headers only), which returns the page count; a refused file is
one rejection, not one per page, and its pages are then decoded one at a time.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Callable

from PIL import Image

from ballot_scan.settings import DEFAULT_SETTINGS, ScanSettings
from engine.errors import PaperPageError

# An A3 sheet at 600 dpi is 7016 x 9921 = 70 Mpx; anything above is not a ballot scan.
MAX_PIXELS = DEFAULT_SETTINGS.max_pixels

IMAGE_REASONS: dict[str, str] = {
    "image_empty": "the file is empty (0 bytes)",
    "image_is_pdf": "a PDF, not an image: scan to PNG, JPEG or TIFF",
    "image_unknown_format": "not a PNG, JPEG or TIFF file",
    "image_corrupt": "the image header is damaged",
    "image_too_large": f"more than {MAX_PIXELS // 1_000_000} megapixels: not a ballot scan",
    "image_truncated": "the file is cut short (incomplete transfer?)",
    "pdf_unreadable": "a PDF that cannot be opened (damaged, encrypted or not a PDF)",
}

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_TIFF = (b"II*\x00", b"MM\x00*")


class ImageRejected(PaperPageError):
    """A scan file refused before decoding. ``reason`` is a key of :data:`IMAGE_REASONS`."""

    def __init__(self, reason: str, detail: str, image_sha256: str = "") -> None:
        super().__init__(reason, detail)
        self.image_sha256 = image_sha256


def sniff_format(data: bytes) -> str | None:
    """The image format named by the file's first bytes (``PNG``, ``JPEG`` or ``TIFF``), or None
    if they are not one the scanner reads.
    """
    if data.startswith(_PNG):
        return "PNG"
    if data.startswith(_JPEG):
        return "JPEG"
    if data.startswith(_TIFF):
        return "TIFF"
    return None


def _check_pixels(sizes: list[tuple[int, int]], refuse: Callable[[str, str], ImageRejected],
                  max_pixels: int = MAX_PIXELS) -> None:
    for page, (w, h) in enumerate(sizes, start=1):
        if w * h > max_pixels:
            where = f" (page {page})" if len(sizes) > 1 else ""
            raise refuse(
                "image_too_large",
                f"{w} x {h} pixels{where} = {w * h / 1e6:.0f} Mpx, above {max_pixels / 1e6:.0f} Mpx",
            )


def check_image(data: bytes, name: str = "image", image_sha256: str = "",
                settings: ScanSettings = DEFAULT_SETTINGS) -> None:
    """Raise :class:`ImageRejected` if ``data`` must not reach the decoder."""
    max_pixels, max_pages = settings.max_pixels, settings.max_pages_per_file

    def refuse(reason: str, detail: str) -> ImageRejected:
        return ImageRejected(reason, f"{name}: {detail}", image_sha256)

    if not data:
        raise refuse("image_empty", "the file is empty (0 bytes)")
    if data.lstrip()[:5] == b"%PDF-":
        raise refuse("image_is_pdf", "this is a PDF document, not an image; scan to PNG, JPEG or TIFF")
    fmt = sniff_format(data)
    if fmt is None:
        raise refuse("image_unknown_format", f"not a PNG, JPEG or TIFF file (starts with {data[:8]!r})")
    if fmt == "PNG" and len(data) >= 24 and data[12:16] == b"IHDR":  # exact size, even past Pillow's limit
        _check_pixels([struct.unpack(">II", data[16:24])], refuse, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: we decide below
            with Image.open(io.BytesIO(data)) as im:
                sizes = [im.size]
                if fmt == "TIFF":
                    frames = getattr(im, "n_frames", 1)
                    if frames > max_pages:
                        raise refuse("image_too_large", f"{frames} pages (at most {max_pages})")
                    for i in range(1, frames):
                        im.seek(i)
                        sizes.append(im.size)
    except ImageRejected:
        raise
    except Image.DecompressionBombError:  # Pillow's own limit (2 x 89 Mpx) hit while opening
        raise refuse("image_too_large", f"above Pillow's decompression-bomb limit "
                     f"({2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} Mpx)") from None
    except Exception as exc:  # Pillow's parsers raise many kinds on damaged headers
        raise refuse("image_corrupt", f"{fmt} header cannot be read ({exc.__class__.__name__})") from None
    _check_pixels(sizes, refuse, max_pixels)
    if fmt == "PNG" and b"IEND" not in data[-64:]:
        raise refuse("image_truncated", "PNG file ends before its IEND chunk (cut short?)")
    if fmt == "JPEG" and b"\xff\xd9" not in data[-1024:]:
        raise refuse("image_truncated", "JPEG file ends without its end-of-image marker (cut short?)")


def is_pdf(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a PDF (by its magic, whatever its name)."""
    return head.lstrip()[:5] == b"%PDF-"


def check_document(path: str, fmt: str, name: str, image_sha256: str,
                   settings: ScanSettings = DEFAULT_SETTINGS) -> int:
    """Check a multi-page file once (headers only) and return its page count.

    ``fmt``: ``"TIFF"`` or ``"PDF"``. Raises :class:`ImageRejected` (``image_corrupt``,
    ``pdf_unreadable``, ``image_too_large`` for too many pages or pixels, ``image_empty``).
    PDF pages are measured at ``settings.pdf_dpi``. O(pages) header reads, no pixels.
    """

    def refuse(reason: str, detail: str) -> ImageRejected:
        return ImageRejected(reason, f"{name}: {detail}", image_sha256)

    max_pages = settings.max_pages_per_file
    sizes: list[tuple[int, int]] = []
    if fmt == "PDF":
        import pypdfium2

        try:
            doc = pypdfium2.PdfDocument(path)
        except Exception as exc:  # pdfium raises PdfiumError on any damage; also OSError
            raise refuse("pdf_unreadable", f"the PDF cannot be opened ({exc.__class__.__name__})") from None
        try:
            n = len(doc)
            if n == 0:
                raise refuse("image_empty", "the PDF has no page")
            if n > max_pages:
                raise refuse("image_too_large", f"{n} pages (at most {max_pages})")
            k = settings.pdf_dpi / 72.0
            for i in range(n):
                w_pt, h_pt = doc.get_page_size(i)
                sizes.append((round(w_pt * k), round(h_pt * k)))
        finally:
            doc.close()
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(path) as im:
                    n = getattr(im, "n_frames", 1)
                    if n > max_pages:
                        raise refuse("image_too_large", f"{n} pages (at most {max_pages})")
                    for i in range(n):
                        im.seek(i)
                        sizes.append(im.size)
        except ImageRejected:
            raise
        except Image.DecompressionBombError:
            raise refuse("image_too_large", "above Pillow's decompression-bomb limit") from None
        except Exception as exc:  # Pillow's parsers raise many kinds on damaged headers
            raise refuse("image_corrupt", f"TIFF header cannot be read ({exc.__class__.__name__})") from None
    _check_pixels(sizes, refuse, settings.max_pixels)
    return len(sizes)

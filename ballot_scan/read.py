"""Read one batch of scanned pages: align, QR, printed codes, mark scores.

Printed page code: template matching on every page (:mod:`ballot_scan.printed_code`);
Tesseract (:mod:`ballot_scan.ocr`, all crops of the batch in one call) when the match is
inconclusive or the QR is damaged (then also the voter short code and ballot serial).

This is the image work, run in the worker processes of the scan pool. It produces a
:class:`PageRead` per page — facts only (what was found and how sure); the decision
(accepted / needs_review / rejected) is :func:`ballot_scan.decide.decide_page`.

Image identity: ``image_sha256`` is the SHA-256 of the file's bytes; for page *n* of a
multi-page TIFF it is SHA-256 of ``"<file sha256>:<n>"``, so every page has its own
stable identity and re-scanning the same file changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from ballot_scan.align import Alignment, AlignmentError, align_page, warp_region
from ballot_scan.image_guard import ImageRejected, check_document, check_image, is_pdf
from ballot_scan.layout import (
    MM_PER_INCH,
    PAGE_CODE_BOX,
    SERIAL_BOX,
    SHORT_CODE_BOX,
    PageLayout,
    all_page_layouts,
    rect,
)
from ballot_scan.marks import VOTE, paper_profile, score_boxes
from ballot_scan.ocr import find_short_code, match_code, read_lines
from ballot_scan.payload import parse_payload
from ballot_scan.printed_code import PageCodeMatcher
from ballot_scan.qr import read_qr
from ballot_scan.settings import DEFAULT_SETTINGS, ScanSettings
from engine.formats.file_digest import file_sha256
from engine.model.election import Election

TIFF_SUFFIXES = (".tif", ".tiff")
PDF_SUFFIXES = (".pdf",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", *TIFF_SUFFIXES)
SCAN_SUFFIXES = (*IMAGE_SUFFIXES, *PDF_SUFFIXES)


@dataclass(frozen=True)
class PageTask:
    """One page to read, as the batch lists it: the file, the name reports show, the page
    number within a multi-page TIFF or PDF, and that file's hash (taken once when listed)."""

    path: str
    name: str  # name shown in reports (file name relative to the scanned folder)
    page: int  # 1-based page within the file (TIFF, PDF), 1 otherwise
    multi: bool = False  # a page of a file of several pages (its identity includes the page)
    kind: str = "image"  # image | tiff | pdf
    file_sha256: str = ""  # of the whole file, for TIFF and PDF (hashed once, when listed)
    refused: tuple[str, str] | None = None  # (reason, detail): the whole file was refused once


@dataclass
class PageRead:
    """What was read on one page (facts, no decision)."""

    image: str
    page: int
    image_sha256: str
    fatal: str | None = None  # reason code when nothing could be read (page rejected)
    detail: str = ""
    envelope_code: str | None = None
    page_no: int | None = None
    pages: int | None = None
    ballot_serial: str | None = None
    token: str | None = None
    qr_read: bool = False
    qr_foreign: bool = False  # a QR code that is not a pbcount ballot payload
    ocr_page_code: str | None = None  # matched known page code, or None
    ocr_page_text: str = ""
    page_code_method: str = ""  # template | tesseract | conflict | "" (not read)
    ocr_voter_code: str | None = None  # XXXX-XXXX-XXXX-XXXX-C pattern (unvalidated)
    ocr_serial_code: str | None = None
    rotation_deg: float = 0.0
    upside_down: bool = False
    scores: dict[str, float] = field(default_factory=dict)
    faint: dict[str, float] = field(default_factory=dict)
    votes: list[str] = field(default_factory=list)
    ambiguous: dict[str, str] = field(default_factory=dict)  # project -> reason
    features: dict[str, dict[str, object]] = field(default_factory=dict)  # project -> measured features
    layout_ok: bool = True
    streaks: int = 0  # scanner streak columns/rows found on the page (the scanner needs cleaning)


def _kind(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(16)
    if is_pdf(head):
        return "pdf"
    if head.startswith((b"II*\x00", b"MM\x00*")) and path.suffix.lower() in TIFF_SUFFIXES:
        return "tiff"
    return "image"


def list_tasks(inputs: Sequence[Path], settings: ScanSettings = DEFAULT_SETTINGS) -> list[PageTask]:
    """Expand files and folders (sorted, recursive) into page tasks.

    A TIFF or PDF is hashed and checked once here (:func:`check_document`): its pages
    become tasks sharing the file's hash, or the whole file becomes one refused task.
    """
    files: list[tuple[Path, str]] = []
    for item in inputs:
        if item.is_dir():
            for p in sorted(item.rglob("*")):
                if p.is_file() and p.suffix.lower() in SCAN_SUFFIXES:
                    files.append((p, str(p.relative_to(item))))
        elif item.is_file():
            files.append((item, item.name))
        else:
            raise FileNotFoundError(2, "No such file or directory", str(item))
    tasks: list[PageTask] = []
    for p, name in files:
        kind = _kind(p) if p.stat().st_size else "image"
        if kind == "image":
            tasks.append(PageTask(str(p), name, 1))
            continue
        sha = file_sha256(p)
        try:
            n = check_document(str(p), "PDF" if kind == "pdf" else "TIFF", name, sha, settings)
        except ImageRejected as exc:
            tasks.append(PageTask(str(p), name, 1, False, kind, sha, (exc.reason, exc.detail)))
            continue
        tasks.extend(PageTask(str(p), name, i, n > 1, kind, sha) for i in range(1, n + 1))
    return tasks


def page_sha256(task: PageTask) -> str:
    """The identity of a page of a TIFF/PDF: the file's hash, suffixed by the page if several."""
    if task.multi:
        return hashlib.sha256(f"{task.file_sha256}:{task.page}".encode()).hexdigest()
    return task.file_sha256


class _Documents:
    """The multi-page file being read by this process, kept open between its pages."""

    def __init__(self, settings: ScanSettings) -> None:
        self.settings = settings
        self.path: str | None = None
        self.handle: Any = None

    def _open(self, task: PageTask) -> Any:
        if self.path != task.path:
            self.close()
            if task.kind == "pdf":
                import pypdfium2

                self.handle = pypdfium2.PdfDocument(task.path)
            else:
                self.handle = Image.open(task.path)
            self.path = task.path
        return self.handle

    def page(self, task: PageTask) -> np.ndarray | None:
        try:
            doc = self._open(task)
            if task.kind == "pdf":
                page = doc[task.page - 1]
                bitmap = page.render(scale=self.settings.pdf_dpi / 72.0, grayscale=True)
                arr = bitmap.to_numpy()
                return np.ascontiguousarray(arr[..., 0] if arr.ndim == 3 else arr)
            doc.seek(task.page - 1)
            return np.array(doc.convert("L"))
        except Exception:  # damaged pixel data behind a valid header (any Pillow / pdfium error)
            self.close()
            return None

    def close(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(Exception):  # closing a damaged file: nothing more to do
                self.handle.close()
        self.path, self.handle = None, None


def load_page(task: PageTask, settings: ScanSettings = DEFAULT_SETTINGS,
              documents: _Documents | None = None) -> tuple[np.ndarray | None, str]:
    """Decode one page as greyscale; returns (image or None, image SHA-256).

    Raises :class:`ImageRejected` for a file refused before decoding.
    """
    if task.refused is not None:
        raise ImageRejected(task.refused[0], task.refused[1], task.file_sha256)
    if task.kind != "image":
        docs = documents or _Documents(settings)
        return docs.page(task), page_sha256(task)
    data = Path(task.path).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    check_image(data, task.name, sha, settings)  # raises ImageRejected before any pixel is decoded
    if data.startswith((b"II*\x00", b"MM\x00*")):  # a single TIFF named otherwise
        try:
            with Image.open(io.BytesIO(data)) as im:
                return np.array(im.convert("L")), sha
        except Exception:  # damaged pixel data behind a valid header (any Pillow error)
            return None, sha
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    return img, sha


class PageReader:
    """Reads pages of one election (layouts computed once)."""

    def __init__(self, election: Election, settings: ScanSettings = DEFAULT_SETTINGS,
                 ocr: bool | None = None) -> None:
        self.election = election
        self.settings = settings
        self.layouts: dict[str, PageLayout] = all_page_layouts(election)
        self.codes = sorted(self.layouts)
        self.k = settings.work_dpi / MM_PER_INCH
        self.matcher = PageCodeMatcher(self.codes, self.k, settings)
        self.ocr = settings.ocr if ocr is None else ocr
        self.documents = _Documents(settings)

    def read_batch(self, tasks: Sequence[PageTask]) -> list[PageRead]:
        """Read several pages; their OCR crops go to Tesseract in one call."""
        reads: list[PageRead] = []
        pending: list[tuple[PageRead, np.ndarray, Alignment]] = []
        crops: list[np.ndarray] = []
        slots: list[tuple[int, str]] = []  # (index in pending, what)
        for t in tasks:
            try:
                img, sha = load_page(t, self.settings, self.documents)
            except ImageRejected as exc:
                reads.append(PageRead(t.name, t.page, exc.image_sha256, fatal=exc.reason, detail=exc.detail))
                continue
            r = PageRead(t.name, t.page, sha)
            reads.append(r)
            if img is None:
                r.fatal, r.detail = "page_unreadable", "cannot decode the image file"
                continue
            try:
                al = align_page(img, self.settings)
            except AlignmentError as exc:
                r.fatal, r.detail = exc.reason, exc.detail
                continue
            r.rotation_deg, r.upside_down = round(al.rotation_deg, 2), al.upside_down
            text = read_qr(img, al.matrix, self.k, self.settings)
            if text is not None:
                payload = parse_payload(text)
                if payload is None:
                    r.qr_foreign = True
                else:
                    r.qr_read = True
                    r.envelope_code, r.page_no, r.pages = payload.envelope_code, payload.page, payload.pages
                    r.ballot_serial, r.token = payload.ballot_serial, payload.token
            idx = len(pending)
            pending.append((r, img, al))
            expected = f"{r.envelope_code}-{r.page_no}" if r.qr_read else None
            code, _ = self.matcher.read(self.matcher.crop(img, al.matrix), expected)
            r.ocr_page_code, r.page_code_method = code, "template" if code else ""
            if self.ocr:
                if code is None or not r.qr_read:  # Tesseract: inconclusive match, or QR damaged
                    crops.append(warp_region(img, al.matrix, rect(PAGE_CODE_BOX), self.k))
                    slots.append((idx, "page"))
                if not r.qr_read:
                    crops.append(warp_region(img, al.matrix, rect(SHORT_CODE_BOX), self.k))
                    slots.append((idx, "voter"))
                    crops.append(warp_region(img, al.matrix, rect(SERIAL_BOX), self.k))
                    slots.append((idx, "serial"))
        texts = read_lines(crops) if crops else []
        for (idx, what), text in zip(slots, texts, strict=True):
            r = pending[idx][0]
            if what == "page":
                r.ocr_page_text = text
                read = match_code(text, self.codes)
                if r.ocr_page_code is None:
                    r.ocr_page_code, r.page_code_method = read, "tesseract" if read else ""
                elif read is not None and read != r.ocr_page_code:  # the two readers disagree
                    r.ocr_page_code, r.page_code_method = None, "conflict"
            elif what == "voter":
                r.ocr_voter_code = find_short_code(text)
            else:
                r.ocr_serial_code = find_short_code(text)
        for r, img, al in pending:
            self._score(r, img, al)
        return reads

    def _score(self, r: PageRead, img: np.ndarray, al: Alignment) -> None:
        code = f"{r.envelope_code}-{r.page_no}" if r.qr_read else r.ocr_page_code
        pl = self.layouts.get(code or "")
        if pl is None:
            return
        if not r.qr_read and r.ocr_page_code:
            env_code, _, page = r.ocr_page_code.rpartition("-")
            r.envelope_code, r.page_no, r.pages = env_code, int(page), pl.pages
        profile = paper_profile(img, al.dpi / MM_PER_INCH, self.settings)
        r.streaks = profile.streaks if profile is not None else 0
        outlines: list[float] = []
        for s in score_boxes(img, al.matrix, pl.boxes, self.k, self.settings, profile):
            r.scores[s.project_id] = s.score
            r.faint[s.project_id] = s.faint
            outlines.append(s.outline)
            verdict, reason = s.classify(self.settings)
            if verdict == VOTE:
                r.votes.append(s.project_id)
            elif reason:
                r.ambiguous[s.project_id] = reason
            if verdict != "empty" or s.area_mm2 > 0:
                r.features[s.project_id] = {
                    "span_mm": s.span_mm, "area_mm2": s.area_mm2, "sectors": list(s.sectors),
                    "ring_sides": list(s.ring_sides), "strike": s.strike, "outline_dark": s.outline_dark,
                    "paper_min": s.paper_min, "shade": s.shade, "centre": s.centre, "contrast": s.contrast,
                    "pieces": s.pieces, "around": list(s.around), "outline": s.outline}
        if outlines and float(np.median(outlines)) < self.settings.min_outline_share:
            r.layout_ok = False

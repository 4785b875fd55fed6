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

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ballot_scan.align import Alignment, AlignmentError, align_page, warp_region
from ballot_scan.image_guard import ImageRejected, check_image
from ballot_scan.layout import (
    MM_PER_INCH,
    PAGE_CODE_BOX,
    SERIAL_BOX,
    SHORT_CODE_BOX,
    PageLayout,
    all_page_layouts,
    rect,
)
from ballot_scan.marks import MIN_OUTLINE_SHARE, Thresholds, score_boxes
from ballot_scan.ocr import find_short_code, match_code, read_lines
from ballot_scan.payload import parse_payload
from ballot_scan.printed_code import PageCodeMatcher
from ballot_scan.qr import decode_qr, qr_crop
from engine.model.election import Election

TIFF_SUFFIXES = (".tif", ".tiff")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", *TIFF_SUFFIXES)
WORK_DPI = 200.0


@dataclass(frozen=True)
class PageTask:
    path: str
    name: str  # name shown in reports (file name relative to the scanned folder)
    page: int  # 1-based page within the file (TIFF), 1 otherwise
    multi: bool = False


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
    layout_ok: bool = True


def list_tasks(inputs: Sequence[Path]) -> list[PageTask]:
    """Expand files and folders (sorted, recursive) into page tasks; TIFF pages counted."""
    files: list[tuple[Path, str]] = []
    for item in inputs:
        if item.is_dir():
            for p in sorted(item.rglob("*")):
                # PDFs too: refused with a reason (image_is_pdf) rather than silently skipped
                if p.is_file() and p.suffix.lower() in (*IMAGE_SUFFIXES, ".pdf"):
                    files.append((p, str(p.relative_to(item))))
        elif item.is_file():
            files.append((item, item.name))
        else:
            raise FileNotFoundError(2, "No such file or directory", str(item))
    tasks: list[PageTask] = []
    for p, name in files:
        if p.suffix.lower() in TIFF_SUFFIXES:
            try:
                with Image.open(p) as im:
                    n = getattr(im, "n_frames", 1)
            except Exception:  # Pillow raises many kinds on damaged TIFFs: one page, refused later
                n = 1
            tasks.extend(PageTask(str(p), name, i, n > 1) for i in range(1, n + 1))
        else:
            tasks.append(PageTask(str(p), name, 1))
    return tasks


def load_page(task: PageTask) -> tuple[np.ndarray | None, str]:
    """Decode one page as greyscale; returns (image or None, image SHA-256)."""
    data = Path(task.path).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if task.multi:
        sha = hashlib.sha256(f"{sha}:{task.page}".encode()).hexdigest()
    check_image(data, task.name, sha)  # raises ImageRejected before any pixel is decoded
    if Path(task.path).suffix.lower() in TIFF_SUFFIXES:
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.seek(task.page - 1)
                return np.array(im.convert("L")), sha
        except Exception:  # damaged pixel data behind a valid header (any Pillow error)
            return None, sha
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    return img, sha


class PageReader:
    """Reads pages of one election (layouts computed once)."""

    def __init__(self, election: Election, thresholds: Thresholds | None = None,
                 work_dpi: float = WORK_DPI, ocr: bool = True) -> None:
        self.election = election
        self.layouts: dict[str, PageLayout] = all_page_layouts(election)
        self.codes = sorted(self.layouts)
        self.thresholds = thresholds or Thresholds()
        self.k = work_dpi / MM_PER_INCH
        self.matcher = PageCodeMatcher(self.codes, self.k)
        self.ocr = ocr

    def read_batch(self, tasks: Sequence[PageTask]) -> list[PageRead]:
        """Read several pages; their OCR crops go to Tesseract in one call."""
        reads: list[PageRead] = []
        pending: list[tuple[PageRead, np.ndarray, Alignment]] = []
        crops: list[np.ndarray] = []
        slots: list[tuple[int, str]] = []  # (index in pending, what)
        for t in tasks:
            try:
                img, sha = load_page(t)
            except ImageRejected as exc:
                reads.append(PageRead(t.name, t.page, exc.image_sha256, fatal=exc.reason, detail=exc.detail))
                continue
            r = PageRead(t.name, t.page, sha)
            reads.append(r)
            if img is None:
                r.fatal, r.detail = "page_unreadable", "cannot decode the image file"
                continue
            try:
                al = align_page(img)
            except AlignmentError as exc:
                r.fatal, r.detail = exc.reason, exc.detail
                continue
            r.rotation_deg, r.upside_down = round(al.rotation_deg, 2), al.upside_down
            text = decode_qr(qr_crop(img, al.matrix, self.k))
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
        outlines: list[float] = []
        for s in score_boxes(img, al.matrix, pl.boxes, self.k):
            r.scores[s.project_id] = s.score
            r.faint[s.project_id] = s.faint
            outlines.append(s.outline)
            verdict, reason = s.classify(self.thresholds)
            if verdict == "vote":
                r.votes.append(s.project_id)
            elif verdict == "ambiguous" and reason:
                r.ambiguous[s.project_id] = reason
        if outlines and float(np.median(outlines)) < MIN_OUTLINE_SHARE:
            r.layout_ok = False

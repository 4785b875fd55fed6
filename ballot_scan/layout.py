"""Ballot page geometry: where everything is printed, in millimetres, for one envelope.

The layout is a pure function of the election and the envelope
(:func:`envelope_layout`), so the renderer and the scanner compute exactly the same
geometry; ``layout.json`` (:func:`layout_document`) publishes it in pixels for auditors.

Page (A4 portrait, 210 x 297 mm, origin top-left)::

    +--------------------------------------------------+
    | #        [=== orientation bar ===]            #  |   # fiducial squares, 6 mm
    |  Election name (large)               +------+    |
    |  Envelope name                       |  QR  |    |   QR + quiet zone inside margin
    |  [PAGE CODE e.g. AR11-1]  page 1/1   +------+    |
    |                                 VOTER-SHORT-CODE |
    |  [ ] 1 AR11-001 title   cost  [ ] 24 ...         |   two columns of mark boxes
    |  ...                                             |
    |  - - - - - - - - - - - stub - - - - - - - - - -  |
    | #  ballot serial XXXX-XXXX-XXXX-XXXX-C        #  |
    +--------------------------------------------------+

A grade or for/against envelope (``Envelope.ballot``) prints a *grid* instead of the two
columns: one full-width row per project, its text on the left and one box per grade (best
first) or ``for`` / ``against`` on the right, under a heading row that names each column
(:func:`grid_layout`). Each grid box is its own :class:`MarkBox` whose ``column`` is the
opinion it stands for, so the reader measures it like any box and
:mod:`ballot_scan.grid` decides the rows.

The *page code* ``<ENVELOPE CODE>-<page>`` is printed in large monospaced capitals for
OCR; the QR carries the same page identity plus the ballot serial and the voter token
(:mod:`ballot_scan.payload`). Each page can therefore be read on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model.election import AGAINST, FOR, Election, Envelope, Project
from engine.model.opinions import opinion_item

PAGE_W_MM = 210.0
PAGE_H_MM = 297.0
MM_PER_INCH = 25.4

FIDUCIAL_MM = 6.0
FIDUCIAL_INSET_MM = 9.0  # distance from the page edge to the fiducial's outer edge
ORIENTATION_BAR = (93.0, 10.0, 24.0, 4.0)  # x, y, w, h: top centre; its 180° image is blank
QR_BOX = (152.0, 20.0, 36.0, 36.0)  # the QR symbol *including* its 4-module quiet zone
SHORT_CODE_BOX = (112.0, 58.0, 78.0, 7.0)
PAGE_CODE_BOX = (18.0, 44.0, 64.0, 12.0)
TITLE_BOX = (18.0, 19.0, 130.0, 9.0)
ENVELOPE_NAME_BOX = (18.0, 30.0, 130.0, 8.0)
PAGE_NUMBER_BOX = (86.0, 47.0, 40.0, 7.0)
INSTRUCTIONS_BOX = (18.0, 66.0, 174.0, 6.0)
SERIAL_BOX = (40.0, 278.0, 130.0, 7.0)
STUB_LINE_Y = 274.0

BOX_MM = 6.0  # mark box side
BOX_OUTLINE_MM = 0.4
ROW_MM = 8.5
BODY_TOP_MM = 76.0
BODY_BOTTOM_MM = 270.0
COLUMNS_X_MM = (18.0, 112.0)
COLUMN_W_MM = 86.0
ROWS_PER_COLUMN = int((BODY_BOTTOM_MM - BODY_TOP_MM) // ROW_MM)

GRID_BOX_MM = 6.0  # side of a grid box
GRID_GAP_MM = 12.0  # between two boxes of a row: holds each box's strike zone and the headings
GRID_X_MM, GRID_W_MM = 18.0, 172.0  # the grid's full-width row
GRID_HEADING_MM = 8.0  # the heading row (column names, up to two lines) above the first row
GRID_HEADING_CLEAR_MM = 2.5  # blank paper between a heading and the box under it (no ink near a box)
GRID_ROWS_PER_PAGE = int((BODY_BOTTOM_MM - BODY_TOP_MM - GRID_HEADING_MM) // ROW_MM)


@dataclass(frozen=True)
class Rect:
    """Axis-aligned rectangle in millimetres (x, y = top-left corner)."""

    x: float
    y: float
    w: float
    h: float

    def px(self, dpi: float) -> tuple[int, int, int, int]:
        """The rectangle in pixels at ``dpi``: ``(x, y, w, h)`` rounded."""
        s = dpi / MM_PER_INCH
        return (round(self.x * s), round(self.y * s), round(self.w * s), round(self.h * s))

    @property
    def cx(self) -> float:
        """Centre x, in mm."""
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        """Centre y, in mm."""
        return self.y + self.h / 2

    def rotated_180(self) -> Rect:
        """The same rectangle on the page turned upside down."""
        return Rect(PAGE_W_MM - self.x - self.w, PAGE_H_MM - self.y - self.h, self.w, self.h)


@dataclass(frozen=True)
class MarkBox:
    """One project row of a page: its mark box, the blank strike zone beside it (dark there:
    the row was crossed out) and the text area, in mm.
    """

    project_id: str
    number: int  # 1-based number printed beside the box
    box: Rect
    strike_zone: Rect  # blank strip between box and text: dark here means a crossed-out row
    text: Rect
    column: str = ""  # grid boxes: the opinion this box stands for (a grade name, for, against)

    @property
    def key(self) -> str:
        """What the reader files this box's measures under: the project id, or on a grid
        ``"<project>=<column>"`` (the adjudicator's ``project=opinion`` item)."""
        return opinion_item(self.project_id, self.column) if self.column else self.project_id


@dataclass(frozen=True)
class PageLayout:
    """Where everything is on one page of an envelope's ballot: the envelope, page number and
    count, and one :class:`MarkBox` per project on the page.
    """

    envelope_id: str
    envelope_code: str
    page: int  # 1-based
    pages: int
    boxes: tuple[MarkBox, ...]
    columns: tuple[str, ...] = ()  # a grid page: the column opinions, left to right; () otherwise

    @property
    def page_code(self) -> str:
        """The code printed on this page (:func:`page_code`)."""
        return page_code(self.envelope_code, self.page)


def page_code(envelope_code: str, page: int) -> str:
    """The code printed on a page: ``<envelope code>-<page>``."""
    return f"{envelope_code}-{page}"


def mm_to_px(mm: float, dpi: float) -> float:
    """``mm`` millimetres in pixels at ``dpi``."""
    return mm * dpi / MM_PER_INCH


def page_size_px(dpi: float) -> tuple[int, int]:
    """``(width, height)`` of the page in pixels at ``dpi``."""
    return round(mm_to_px(PAGE_W_MM, dpi)), round(mm_to_px(PAGE_H_MM, dpi))


def fiducial_rects() -> tuple[Rect, Rect, Rect, Rect]:
    """Top-left, top-right, bottom-left, bottom-right fiducial squares."""
    a, f = FIDUCIAL_INSET_MM, FIDUCIAL_MM
    return (
        Rect(a, a, f, f),
        Rect(PAGE_W_MM - a - f, a, f, f),
        Rect(a, PAGE_H_MM - a - f, f, f),
        Rect(PAGE_W_MM - a - f, PAGE_H_MM - a - f, f, f),
    )


def fiducial_centres_mm() -> list[tuple[float, float]]:
    """The centres of the four fiducial squares (same order as :func:`fiducial_rects`), in mm."""
    return [(r.cx, r.cy) for r in fiducial_rects()]


def rect(t: tuple[float, float, float, float]) -> Rect:
    """A :class:`Rect` from an ``(x, y, w, h)`` tuple in mm."""
    return Rect(*t)


def sorted_projects(election: Election, envelope_id: str) -> list[Project]:
    """Ballot order: by project id (stable, printed numbers follow it)."""
    return sorted(election.projects_in(envelope_id), key=lambda p: p.id)


def envelope_layout(
    election: Election, envelope_id: str, rows_per_column: int = ROWS_PER_COLUMN
) -> tuple[PageLayout, ...]:
    """All pages of the ballot for one envelope (more pages when projects do not fit)."""
    env = election.envelope(envelope_id)
    if env is None:
        raise KeyError(envelope_id)
    if env.ballot != "approval":
        return grid_layout(election, envelope_id)
    projects = sorted_projects(election, envelope_id)
    per_page = rows_per_column * len(COLUMNS_X_MM)
    chunks = [projects[i : i + per_page] for i in range(0, len(projects), per_page)] or [[]]
    pages: list[PageLayout] = []
    number = 0
    for pi, chunk in enumerate(chunks, start=1):
        boxes: list[MarkBox] = []
        for i, p in enumerate(chunk):
            number += 1
            col, row = divmod(i, rows_per_column)
            x = COLUMNS_X_MM[col]
            y = BODY_TOP_MM + row * ROW_MM
            box = Rect(x, y, BOX_MM, BOX_MM)
            strike = Rect(x + BOX_MM + 0.8, y + 1.2, 2.4, BOX_MM - 2.4)
            text = Rect(x + BOX_MM + 4.0, y, COLUMN_W_MM - BOX_MM - 4.0, BOX_MM)
            boxes.append(MarkBox(p.id, number, box, strike, text))
        pages.append(PageLayout(env.id, env.code, pi, len(chunks), tuple(boxes)))
    return tuple(pages)


def grid_columns(env: Envelope) -> tuple[str, ...]:
    """The box opinions of one grid row, left to right: the grades best first, or for / against."""
    if env.ballot == "grades":
        return tuple(env.grades)
    if env.ballot == "for-against":
        return (FOR, AGAINST)
    raise ValueError(f"envelope {env.id!r} has approval ballots: one box per project, not a grid")


def grid_box_rects(row: Rect, n_columns: int) -> list[Rect]:
    """The boxes of one grid row, right-aligned in ``row`` and vertically centred."""
    y = row.y + (row.h - GRID_BOX_MM) / 2
    width = n_columns * GRID_BOX_MM + (n_columns - 1) * GRID_GAP_MM
    x0 = row.x + row.w - width
    return [Rect(x0 + k * (GRID_BOX_MM + GRID_GAP_MM), y, GRID_BOX_MM, GRID_BOX_MM) for k in range(n_columns)]


def grid_heading_rects(columns: int) -> list[Rect]:
    """Where each column's name is printed: centred over its box, as wide as the column pitch,
    ending :data:`GRID_HEADING_CLEAR_MM` above the first row's box."""
    top = Rect(GRID_X_MM, BODY_TOP_MM, GRID_W_MM, GRID_HEADING_MM - GRID_HEADING_CLEAR_MM)
    pitch = GRID_BOX_MM + GRID_GAP_MM
    return [Rect(b.cx - pitch / 2 + 0.5, top.y, pitch - 1.0, top.h)
            for b in grid_box_rects(Rect(top.x, top.y, top.w, GRID_BOX_MM), columns)]


def grid_layout(election: Election, envelope_id: str,
                rows_per_page: int = GRID_ROWS_PER_PAGE) -> tuple[PageLayout, ...]:
    """The pages of a grade or for/against envelope's grid (module doc): one row per project
    in ballot order, one :class:`MarkBox` per column; more pages when projects do not fit."""
    env = election.envelope(envelope_id)
    if env is None:
        raise KeyError(envelope_id)
    columns = grid_columns(env)
    projects = sorted_projects(election, envelope_id)
    chunks = [projects[i : i + rows_per_page] for i in range(0, len(projects), rows_per_page)] or [[]]
    pages: list[PageLayout] = []
    number = 0
    text_w = GRID_W_MM - len(columns) * (GRID_BOX_MM + GRID_GAP_MM)
    for pi, chunk in enumerate(chunks, start=1):
        boxes: list[MarkBox] = []
        for i, p in enumerate(chunk):
            number += 1
            y = BODY_TOP_MM + GRID_HEADING_MM + i * ROW_MM
            text = Rect(GRID_X_MM, y, text_w, BOX_MM)
            for r, col in zip(grid_box_rects(Rect(GRID_X_MM, y, GRID_W_MM, GRID_BOX_MM), len(columns)), columns,
                              strict=True):
                strike = Rect(r.x + r.w + 0.8, r.y + 1.2, 2.4, r.h - 2.4)
                boxes.append(MarkBox(p.id, number, r, strike, text, col))
        pages.append(PageLayout(env.id, env.code, pi, len(chunks), tuple(boxes), columns))
    return tuple(pages)


def all_page_layouts(election: Election) -> dict[str, PageLayout]:
    """Every page of every envelope, by page code (``AR11-1``)."""
    out: dict[str, PageLayout] = {}
    for env in election.envelopes:
        for pl in envelope_layout(election, env.id):
            out[pl.page_code] = pl
    return out


def page_entry(pl: PageLayout, dpi: int, image: str) -> dict[str, object]:
    """One ``layout.json`` page entry: pixel coordinates on the PNG rendered at ``dpi``."""
    w, h = page_size_px(dpi)

    def box(r: Rect) -> dict[str, int]:
        x, y, bw, bh = r.px(dpi)
        return {"x": x, "y": y, "w": bw, "h": bh}

    return {
        "page": pl.page,
        "pages": pl.pages,
        "image": image,
        "width_px": w,
        "height_px": h,
        "width_mm": PAGE_W_MM,
        "height_mm": PAGE_H_MM,
        "envelope": pl.envelope_id,
        "envelope_code": pl.envelope_code,
        "page_code": pl.page_code,
        "fiducials": [box(r) for r in fiducial_rects()],
        "orientation_mark": box(rect(ORIENTATION_BAR)),
        "boxes": [
            {"project_id": b.project_id, "number": b.number, **({"column": b.column} if b.column else {}),
             **box(b.box)} for b in pl.boxes
        ],
        **({"columns": list(pl.columns)} if pl.columns else {}),
        "qr": box(rect(QR_BOX)),
        "text_regions": {
            "title": box(rect(TITLE_BOX)),
            "envelope_name": box(rect(ENVELOPE_NAME_BOX)),
            "page_code": box(rect(PAGE_CODE_BOX)),
            "page_number": box(rect(PAGE_NUMBER_BOX)),
            "short_code": box(rect(SHORT_CODE_BOX)),
            "ballot_serial": box(rect(SERIAL_BOX)),
            "instructions": box(rect(INSTRUCTIONS_BOX)),
        },
    }

"""Render printable paper ballots: one PNG per page, print-ready PDF, ``layout.json``.

``render_page`` draws one page (Pillow, greyscale) from the shared geometry of
:mod:`ballot_scan.layout`; ``render_ballots`` writes a whole print run: a specimen
(no token) or one personalised ballot per token of a register CSV (``serial,
short_code, token`` as written by ``pbcount fixtures paris``). Each ballot gets a fresh
random ballot serial (QR + stub); ``ballots.csv`` maps ballot serials to voter serials
for the election authority (keep it private: it links stubs to voters).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import segno
from PIL import Image, ImageChops, ImageDraw, ImageFont

from ballot_scan.layout import (
    BOX_OUTLINE_MM,
    ENVELOPE_NAME_BOX,
    INSTRUCTIONS_BOX,
    ORIENTATION_BAR,
    PAGE_CODE_BOX,
    PAGE_NUMBER_BOX,
    PAGE_W_MM,
    QR_BOX,
    SERIAL_BOX,
    SHORT_CODE_BOX,
    STUB_LINE_Y,
    TITLE_BOX,
    PageLayout,
    Rect,
    envelope_layout,
    fiducial_rects,
    grid_heading_rects,
    mm_to_px,
    page_entry,
    page_size_px,
    rect,
)
from ballot_scan.payload import SPECIMEN, PagePayload, new_ballot_serial, serial_with_check
from engine.errors import PbcountError
from engine.model.election import Election, Envelope
from engine.storage.keyfiles import open_private

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
PDF_PAGES_PER_FILE = 100


class RenderError(PbcountError):
    """Ballots that cannot be rendered (names the election, envelope or token file and why)."""

    pass


@dataclass(frozen=True)
class BallotToken:
    """One row of a token register: voter serial, printed short code, token text."""

    serial: str
    short_code: str
    token: str


def read_token_register(path: Path) -> list[BallotToken]:
    """Read ``serial,short_code,token`` rows; errors name the file and line."""
    out: list[BallotToken] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"serial", "short_code", "token"} - set(reader.fieldnames or [])
        if missing:
            raise RenderError(f"{path}: token register lacks column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            if not row["token"] or not row["short_code"]:
                raise RenderError(f"{path}:{line}: empty token or short code")
            out.append(BallotToken(row["serial"], row["short_code"], row["token"]))
    return out


def ballot_font(size_px: int, mono: bool = False, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The ballot typeface (DejaVu Sans / Sans Mono), Pillow's default font if missing."""
    name = "DejaVuSansMono" if mono else "DejaVuSans"
    name += "-Bold.ttf" if bold else ".ttf"
    for d in FONT_DIRS:
        if (d / name).exists():
            return ImageFont.truetype(str(d / name), size_px)
    return ImageFont.load_default(size=size_px)  # type: ignore[return-value]  # Pillow >= 10.1 returns a FreeTypeFont for a size


def _qr_image(payload: str, size_px: int, mask: int | None = None) -> np.ndarray:
    """The QR symbol with its 4-module quiet zone, scaled to ``size_px`` (white = 255).

    ``mask=None`` lets segno pick the best mask (print runs); a fixed mask is faster
    (test decks) and equally valid for decoders.
    """
    qr = segno.make(payload, error="m", micro=False, mask=mask)
    modules = np.array([list(row) for row in qr.matrix], dtype=np.uint8)
    n = modules.shape[0] + 8
    full = np.zeros((n, n), dtype=np.uint8)
    full[4:-4, 4:-4] = modules
    idx = (np.arange(size_px) * n // size_px).astype(int)
    return np.where(full[np.ix_(idx, idx)] == 1, 0, 255).astype(np.uint8)


def _fmt_cost(cost: int, currency: str) -> str:
    return f"{cost:,}".replace(",", " ") + f" {currency}"


def _boxer(dpi: int) -> tuple[Callable[[Rect], tuple[int, int, int, int]], Callable[[float], int]]:
    def box(r: Rect) -> tuple[int, int, int, int]:
        x, y, bw, bh = r.px(dpi)
        return (x, y, x + bw - 1, y + bh - 1)

    def px(mm: float) -> int:
        return max(1, round(mm_to_px(mm, dpi)))

    return box, px


def ballot_language(election: Election) -> str:
    """The election's language: top-level ``language = "fr" | "en"`` in the definition (default fr)."""
    lang = str(election.extra.get("language", "fr")).lower()
    return lang if lang in ("fr", "en") else "fr"


def instructions_text(election: Election, env: Envelope) -> str:
    """Every rule the voter must follow on this envelope, in the election's language only:
    at most / at least N projects, the limit per category, the cost cap."""
    if env.savings is not None:
        return savings_instructions_text(election, env)
    if env.ballot != "approval":
        return grid_instructions_text(election, env)
    most, least, per_category, cost_cap, sep = _INSTRUCTIONS[ballot_language(election)]
    parts = [most.format(n=env.max_selections)]
    if env.min_selections > 1:
        parts.append(least.format(n=env.min_selections))
    parts += [per_category.format(n=n, c=c) for c, n in sorted(env.category_limits.items())]
    if env.max_selection_cost is not None:
        parts.append(cost_cap.format(cost=_fmt_cost(env.max_selection_cost, election.currency)))
    return sep.join(parts) + "."


# the instruction phrases by language: at most, at least, per category, cost cap, separator
_INSTRUCTIONS = {
    "en": ("Mark at most {n} box(es)", "at least {n}", "at most {n} in category {c}",
           "chosen projects may cost {cost} in all", "; "),
    "fr": ("Cochez au plus {n} case(s)", "au moins {n}", "au plus {n} dans la catégorie {c}",
           "les projets choisis coûtent au plus {cost} au total", " ; "),
}


# savings envelopes: to cut, at least, sectors, target, separator
_SAVINGS_INSTRUCTIONS = {
    "en": ("Mark the spending lines to CUT: at most {n} box(es)", "at least {n}", "in at least {n} sectors",
           ". Savings target: {target}.", "; "),
    "fr": ("Cochez les dépenses à SUPPRIMER : au plus {n} case(s)", "au moins {n}", "dans au moins {n} secteurs",
           ". Objectif d'économies : {target}.", " ; "),
}


# grids: one box per row, the grades' empty-row rule, for/against
_GRID_INSTRUCTIONS = {
    "en": ("For each project, mark at most ONE box: the grade you give it. A project left empty counts as "
           "\u201c{default}\u201d.", "For each project, mark at most ONE box: FOR or AGAINST. Leave it empty "
           "for no opinion."),
    "fr": ("Pour chaque projet, cochez au plus UNE case : l'appréciation que vous lui donnez. Un projet "
           "sans case cochée compte comme « {default} ».", "Pour chaque projet, cochez au plus UNE case : "
           "POUR ou CONTRE. Ne cochez rien si vous n'avez pas d'avis."),
}
# what the grid's for / against columns print, by language
_STANCE_HEADINGS = {"en": {"for": "For", "against": "Against"}, "fr": {"for": "Pour", "against": "Contre"}}


def grid_instructions_text(election: Election, env: Envelope) -> str:
    """A grade or for/against grid's rule, in the election's language: one box per row, and
    on a grades grid what an empty row counts as (``env.default_grade``)."""
    grades, stances = _GRID_INSTRUCTIONS[ballot_language(election)]
    if env.ballot == "for-against":
        return stances
    return grades.format(default=env.grade_scale[env.default_grade])


def grid_heading(election: Election, column: str) -> str:
    """What a grid column prints above its boxes: the grade name as defined, or Pour / Contre."""
    return _STANCE_HEADINGS[ballot_language(election)].get(column, column)


def savings_instructions_text(election: Election, env: Envelope) -> str:
    """A savings envelope's rules (reverse PB): tick the lines to *cut*, at most / at least
    N, the fewest sectors, the savings target."""
    most, least, sectors, target, sep = _SAVINGS_INSTRUCTIONS[ballot_language(election)]
    need = env.savings.min_sectors if env.savings is not None else 0
    parts = [most.format(n=env.max_selections)]
    if env.min_selections > 1:
        parts.append(least.format(n=env.min_selections))
    if need > 1:
        parts.append(sectors.format(n=need))
    return sep.join(parts) + target.format(target=_fmt_cost(env.budget, election.currency))


def line_amount_text(election: Election, env: Envelope, cost: int, category: str | None) -> str:
    """The second line of a box: the cost, or for a savings line the amount saved if cut and its sector."""
    money = _fmt_cost(cost, election.currency)
    if env.savings is None:
        return money
    if ballot_language(election) == "en":
        return f"saves {money} if cut · sector {category}"
    return f"économie {money} si supprimée · secteur {category}"


# below the ballot serial, above the bottom fiducials' row end (they sit at x < 15 and x > 195 mm)
STUB_TEXT_BOX = (20.0, 287.0, 170.0, 7.0)
# the specimen watermark stays in the middle of the page: clear of the QR, page code and fiducials
WATERMARK_BAND_MM = (30.0, 95.0, 180.0, 235.0)  # x0, y0, x1, y1


def stub_text(election: Election) -> str:
    """What the stub says, in the election's language: it is the voter's receipt, and how to
    check it (the number on the results page, ``results_url`` of the definition when given)."""
    url = str(election.extra.get("results_url", "")).strip()
    if ballot_language(election) == "en":
        where = url or "the results page"
        return (f"Your receipt: keep this stub. After the count, type this number on {where} "
                "(\"Check my ballot\") to see that your ballot was counted.")
    where = url or "la page des résultats"
    return (f"Votre reçu : gardez ce talon. Après le dépouillement, saisissez ce numéro sur {where} "
            "(« Vérifier mon bulletin ») pour voir que votre bulletin a été compté.")


def specimen_watermark(img: Image.Image, dpi: int, word: str = "SPECIMEN") -> Image.Image:
    """A copy of ``img`` with ``word`` in outlined letters across the middle of the page (tilted,
    inside :data:`WATERMARK_BAND_MM`). Outlines only: black strokes that survive the 1-bit PDF and
    leave the printed text readable. Only specimens get it (:func:`render_ballots` without tokens)."""
    _, px = _boxer(dpi)
    x0, y0, x1, y1 = (px(v) for v in WATERMARK_BAND_MM)
    size = px(30.0)
    font = ballot_font(size, bold=True)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = (int(v) for v in probe.textbbox((0, 0), word, font=font, stroke_width=max(1, px(0.5))))
    layer = Image.new("L", (right - left + 2 * size, bottom - top + 2 * size), 0)
    d = ImageDraw.Draw(layer)
    stroke = max(1, px(0.5))
    d.text((size - left, size - top), word, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    inner = Image.new("L", layer.size, 0)
    ImageDraw.Draw(inner).text((size - left, size - top), word, fill=255, font=font)
    outline = ImageChops.subtract(layer, inner).rotate(20, expand=True, resample=Image.Resampling.NEAREST)
    band_w, band_h = x1 - x0, y1 - y0
    if outline.width > band_w or outline.height > band_h:
        scale = min(band_w / outline.width, band_h / outline.height)
        outline = outline.resize((max(1, int(outline.width * scale)), max(1, int(outline.height * scale))),
                                 Image.Resampling.NEAREST)
    out = img.copy()
    pos = (x0 + (band_w - outline.width) // 2, y0 + (band_h - outline.height) // 2)
    mask = outline.point(lambda v: 255 if v > 127 else 0)
    out.paste(0, (*pos, pos[0] + outline.width, pos[1] + outline.height), mask)
    return out


def draw_fitted(
    d: ImageDraw.ImageDraw, area: tuple[int, int, int, int], text: str, size_px: int, min_px: int,
    bold: bool = False,
) -> None:
    """Draw ``text`` inside ``area`` (x0, y0, x1, y1) and never past it: at ``size_px`` if it
    fits, else at the largest size down to ``min_px`` that fits on one line, else on two
    lines at the size that fits the box height, the second cut with "…" if still too long.
    (The header's QR code sits right of the title box: a long town name must not run under it.)"""
    x0, y0, x1, y1 = area
    width = x1 - x0
    for size in range(size_px, min_px - 1, -1):
        font = ballot_font(size, bold=bold)
        if d.textlength(text, font=font) <= width:
            d.text((x0, y0), text, fill=0, font=font)
            return
    size = max(1, min(min_px, int((y1 - y0) / 2.3)))  # two lines, descenders included
    font = ballot_font(size, bold=bold)
    words, lines, cur = text.split(), [], ""
    for word in words:
        cand = f"{cur} {word}".strip()
        if d.textlength(cand, font=font) <= width or not cur:
            cur = cand
        else:
            lines.append(cur)
            cur = word
    lines.append(cur)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    for i, line in enumerate(lines):
        while d.textlength(line, font=font) > width and len(line) > 1:
            line = line[:-2] + "…"
        d.text((x0, y0 + i * size), line, fill=0, font=font)


def draw_centred(d: ImageDraw.ImageDraw, area: tuple[int, int, int, int], text: str, size_px: int) -> None:
    """Draw ``text`` in bold at ``size_px``, centred in ``area`` and resting on its bottom (a grid
    heading): on one line if it fits, else broken into two balanced lines."""
    x0, y0, x1, y1 = area
    width = x1 - x0
    font = ballot_font(size_px, bold=True)
    if d.textlength(text, font=font) <= width:
        d.text(((x0 + x1) / 2, y1), text, fill=0, font=font, anchor="mb")
        return
    words = text.split()
    cut = max(1, min(range(1, len(words) + 1),
                     key=lambda i: abs(d.textlength(" ".join(words[:i]), font=font)
                                       - d.textlength(" ".join(words[i:]), font=font))))
    lines = [" ".join(words[:cut]), " ".join(words[cut:])] if len(words) > 1 else [text]
    for i, line in enumerate(reversed([ln for ln in lines if ln])):
        while d.textlength(line, font=font) > width and len(line) > 1:
            line = line[:-2] + "…"
        d.text(((x0 + x1) / 2, y1 - i * round(size_px * 1.15)), line, fill=0, font=font, anchor="mb")


def render_template(election: Election, pl: PageLayout, dpi: int = 300) -> Image.Image:
    """Everything printed on a page except the personal parts (QR, short code, serial)."""
    w, h = page_size_px(dpi)
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    box, px = _boxer(dpi)
    for f in fiducial_rects():
        d.rectangle(box(f), fill=0)
    d.rectangle(box(rect(ORIENTATION_BAR)), fill=0)
    env = election.envelope(pl.envelope_id)
    assert env is not None
    draw_fitted(d, box(rect(TITLE_BOX)), election.name, px(6.0), px(4.0), bold=True)
    draw_fitted(d, box(rect(ENVELOPE_NAME_BOX)), env.name, px(5.0), px(3.5))
    d.text(box(rect(PAGE_CODE_BOX))[:2], pl.page_code, fill=0, font=ballot_font(px(9.0), mono=True, bold=True))
    d.text(box(rect(PAGE_NUMBER_BOX))[:2], f"page {pl.page}/{pl.pages}", fill=0, font=ballot_font(px(4.0)))
    draw_fitted(d, box(rect(INSTRUCTIONS_BOX)), instructions_text(election, env), px(3.5), px(2.6))
    outline = px(BOX_OUTLINE_MM)
    small = ballot_font(px(3.2))
    heads = [(box(r), grid_heading(election, c)) for r, c in zip(grid_heading_rects(len(pl.columns)), pl.columns,
                                                                 strict=True)]
    size = px(2.8)  # one size for every heading: the largest at which all fit on one line
    while size > px(2.0) and any(d.textlength(t, font=ballot_font(size, bold=True)) > a[2] - a[0] for a, t in heads):
        size -= 1
    for area, text in heads:
        draw_centred(d, area, text, size)
    written: set[str] = set()
    for b in pl.boxes:
        d.rectangle(box(b.box), outline=0, width=outline)
        if b.project_id in written:  # a grid row: its text is printed once, beside its first box
            continue
        written.add(b.project_id)
        proj = election.project(b.project_id)
        assert proj is not None
        tx, ty, tx1, _ = box(b.text)
        draw_fitted(d, (tx, ty, tx1, ty + px(3.3)), f"{b.number}. {proj.id}  {proj.title}", px(3.2), px(2.6))
        d.text((tx, ty + px(3.3)), line_amount_text(election, env, proj.cost, proj.category), fill=0, font=small)
    # tear-off stub line: the part below it (ballot serial) is kept by the voter
    y = px(STUB_LINE_Y)
    for x in range(px(15), px(PAGE_W_MM - 15), px(4)):
        d.line((x, y, x + px(2), y), fill=0, width=max(1, px(0.2)))
    draw_fitted(d, box(rect(STUB_TEXT_BOX)), stub_text(election), px(2.8), px(2.0))
    return img


def personalise_page(
    template: Image.Image,
    payload: PagePayload,
    voter_short_code: str | None,
    dpi: int = 300,
    qr_mask: int | None = None,
) -> Image.Image:
    """A copy of ``template`` with the QR, the voter short code and the ballot serial."""
    img = template.copy()
    d = ImageDraw.Draw(img)
    box, px = _boxer(dpi)
    qx, qy, qw, _ = rect(QR_BOX).px(dpi)
    img.paste(Image.fromarray(_qr_image(payload.text(), qw, qr_mask)), (qx, qy))
    if voter_short_code:
        d.text(box(rect(SHORT_CODE_BOX))[:2], voter_short_code, fill=0, font=ballot_font(px(5.0), mono=True, bold=True))
    d.text(
        box(rect(SERIAL_BOX))[:2],
        f"N° {serial_with_check(payload.ballot_serial)}",
        fill=0,
        font=ballot_font(px(4.5), mono=True, bold=True),
    )
    return img


def render_page(
    election: Election,
    pl: PageLayout,
    payload: PagePayload,
    voter_short_code: str | None,
    dpi: int = 300,
) -> Image.Image:
    """Draw one ballot page (mode ``L``) at ``dpi``."""
    return personalise_page(render_template(election, pl, dpi), payload, voter_short_code, dpi)


@dataclass(frozen=True)
class RenderedBallot:
    """One rendered ballot: its serial, the voter serial of its token (None for specimens) and
    its page images.
    """

    ballot_serial: str
    voter_serial: str | None
    images: tuple[str, ...]


@dataclass(frozen=True)
class RenderResult:
    """What rendering wrote: the output directory, the ballots, the PDFs and ``layout.json``."""

    out_dir: Path
    ballots: tuple[RenderedBallot, ...]
    pdfs: tuple[Path, ...]
    layout_path: Path

    @property
    def pages(self) -> int:
        """Number of page images written."""
        return sum(len(b.images) for b in self.ballots)


def _print_page(path: Path) -> Image.Image:
    """A page for the PDF: 1-bit (lossless CCITT G4 in the PDF, sharp QR and boxes)."""
    with Image.open(path) as im:
        return im.convert("L").point(lambda v: 255 if v >= 160 else 0).convert("1")


class _LazyImages(Sequence[Image.Image]):
    """Pages opened on demand when the PDF writer asks for them."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Image.Image:  # type: ignore[override]  # int index only (no slices)
        return _print_page(self.paths[i])

    def __iter__(self) -> Iterator[Image.Image]:
        for p in self.paths:
            yield _print_page(p)


def write_pdfs(png_paths: list[Path], out_dir: Path, dpi: int, stem: str = "ballots") -> list[Path]:
    """Print-ready PDF(s): one file, or ``stem-001.pdf``… of 100 pages for large runs.

    Pages are embedded as 1-bit images at the rendering resolution (CCITT G4, lossless).
    """
    chunks = [png_paths[i : i + PDF_PAGES_PER_FILE] for i in range(0, len(png_paths), PDF_PAGES_PER_FILE)]
    out: list[Path] = []
    for i, chunk in enumerate(chunks, start=1):
        name = f"{stem}.pdf" if len(chunks) == 1 else f"{stem}-{i:03d}.pdf"
        first = _print_page(chunk[0])
        first.save(
            out_dir / name, "PDF", resolution=float(dpi), save_all=True, append_images=_LazyImages(chunk[1:])
        )
        out.append(out_dir / name)
    return out


def render_ballots(
    election: Election,
    envelope_id: str,
    out_dir: Path,
    *,
    dpi: int = 300,
    tokens: Sequence[BallotToken] | None = None,
    seed: int | None = None,
    pdf: bool = True,
    progress: Callable[[int], None] | None = None,
    prefix: str = "ballot",
) -> RenderResult:
    """Render a specimen (``tokens=None``) or one ballot per token into ``out_dir``."""
    env = election.envelope(envelope_id) or election.envelope_by_code(envelope_id)
    if env is None:
        known = ", ".join(e.id for e in election.envelopes)
        raise RenderError(f"unknown envelope {envelope_id!r} (known: {known})")
    if not 72 <= dpi <= 1200:
        raise RenderError(f"--dpi must be between 72 and 1200, got {dpi}")
    out_dir.mkdir(parents=True, exist_ok=True)
    layouts = envelope_layout(election, env.id)
    templates = [render_template(election, pl, dpi) for pl in layouts]
    rng = random.Random(seed) if seed is not None else None
    voters: Sequence[BallotToken | None] = tokens if tokens is not None else [None]
    ballots: list[RenderedBallot] = []
    pages_doc: list[dict[str, object]] = []
    png_paths: list[Path] = []
    width = max(5, len(str(len(voters))))
    for i, voter in enumerate(voters, start=1):
        serial = new_ballot_serial(rng.randbytes(10) if rng is not None else None)
        names: list[str] = []
        for pl, template in zip(layouts, templates, strict=True):
            payload = PagePayload(env.code, pl.page, pl.pages, serial, voter.token if voter else SPECIMEN)
            img = personalise_page(template, payload, voter.short_code if voter else None, dpi)
            if voter is None:  # a specimen is shown, never voted: say so across the page
                img = specimen_watermark(img, dpi)
            stem = f"{prefix}-{env.code}-{i:0{width}d}" if voter else f"specimen-{env.code}"
            name = f"{stem}-p{pl.page}.png"
            img.save(out_dir / name, dpi=(dpi, dpi), optimize=False, compress_level=3)
            names.append(name)
            png_paths.append(out_dir / name)
            entry = page_entry(pl, dpi, name)
            entry["ballot_serial"] = serial
            pages_doc.append(entry)
        ballots.append(RenderedBallot(serial, voter.serial if voter else None, tuple(names)))
        if progress:
            progress(1)
    layout_path = out_dir / "layout.json"
    layout_path.write_text(
        json.dumps({"dpi": dpi, "election": election.id, "envelope": env.id, "pages": pages_doc}, indent=1)
        + "\n",
        encoding="utf-8",
    )
    if tokens is not None:
        with open_private(out_dir / "ballots.csv", newline="") as f:  # serial <-> voter: 0600
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["ballot_serial", "voter_serial", "images"])
            for b in ballots:
                w.writerow([b.ballot_serial, b.voter_serial or "", " ".join(b.images)])
    pdfs = write_pdfs(png_paths, out_dir, dpi) if pdf else []
    return RenderResult(out_dir, tuple(ballots), tuple(pdfs), layout_path)

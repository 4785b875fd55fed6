"""Logic-and-accuracy test decks: rendered ballots marked like people do, then "scanned".

``make_testdeck`` writes ``count`` images and ``expected.json`` (the truth for every
image). Everything is drawn from ``random.Random(seed)`` per image, so the same seed gives
the same deck.

Marks (pen width 0.6–0.9 mm, dark ink) counted as votes: ``cross``, ``tick``, ``fill``,
``offset`` (a cross up to 1.2 mm off the box centre, i.e. slightly outside the box).
Deliberately ambiguous marks (must go to review): ``light`` (a barely visible cross, 83–85 %
of the paper's brightness: lighter than the lightest pencil line, which counts as a vote
since issue 11 — this class was 69–78 % before, where HB pencil votes are),
``dot`` (a 1.1–1.4 mm dot in the box), ``crossed_out`` (a cross, then the whole row
struck through). Harmless noise: stray dots outside the boxes.

Ballot-level cases: blank ballot (no mark), overvote (more marks than allowed), a
damaged QR code (ink blot: the short code must be read by OCR), a few blank pages and
ballots of a foreign election (``kind`` ``blank`` / ``foreign``). On a grade or
for/against envelope the ballot is a grid: each row marked in one box or left empty, the
overvote is a row marked twice (``overvote_row``), marks and selections are keyed
``"<project>=<opinion>"`` (the reader's box keys).

Scan simulation: a 4 mm scanner border around the sheet, rotation up to ±3°, scale
±2 %, shift ±3 mm, some pages upside down, uneven lighting (a linear gradient down to
75 % brightness), Gaussian blur, Gaussian noise, JPEG compression (quality 60–92;
one image in ten is written as PNG instead).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from ballot_scan.layout import QR_BOX, PageLayout, Rect, envelope_layout, mm_to_px, rect
from ballot_scan.payload import PagePayload, new_ballot_serial
from ballot_scan.render import BallotToken, personalise_page, render_template
from engine.model.election import Election
from engine.model.opinions import opinion_item, split_item
from engine.model.tokens import issue_token, short_code
from engine.storage.keyfiles import open_private

VOTE_MARKS = ("cross", "tick", "fill", "offset")
VOTE_MARK_WEIGHTS = (40, 25, 20, 15)
AMBIGUOUS_MARKS = ("light", "dot", "crossed_out")


@dataclass(frozen=True)
class DeckOptions:
    """Shares of each case (per ballot); defaults give a realistic, hard deck."""

    dpi: int = 200
    p_blank_page: float = 0.01
    p_foreign: float = 0.01
    p_blank_ballot: float = 0.015
    p_overvote: float = 0.015
    p_ambiguous: float = 0.06
    p_damaged_qr: float = 0.01
    p_upside_down: float = 0.04
    p_png: float = 0.1
    p_stray_dot: float = 0.05
    max_rotation_deg: float = 3.0
    degrade: bool = True


@dataclass(frozen=True)
class BallotSpec:
    """One sheet of a test deck as planned: its image name, kind (ballot, blank or foreign),
    envelope, token, and the marks and damage to draw (the truth ``expected.json`` records).
    """

    index: int
    image: str
    kind: str  # ballot | blank | foreign
    envelope_id: str
    token: BallotToken | None
    ballot_serial: str
    seed: int
    votes: tuple[tuple[str, str], ...] = ()  # (project_id, mark kind) counted as votes
    ambiguous: tuple[tuple[str, str], ...] = ()  # (project_id, mark kind)
    damaged_qr: bool = False
    upside_down: bool = False
    image_format: str = "jpg"
    foreign_token: str | None = None
    expected_status: str = "accepted"
    expected_reasons: tuple[str, ...] = ()


@dataclass
class DeckResult:
    """A written test deck: its directory and the plan of every sheet."""

    out_dir: Path
    specs: list[BallotSpec] = field(default_factory=list)


# ------------------------------------------------------------------ drawing marks


def _pt(r: Rect, fx: float, fy: float, dpi: int, dx: float = 0.0, dy: float = 0.0) -> tuple[int, int]:
    return (round(mm_to_px(r.x + fx * r.w + dx, dpi)), round(mm_to_px(r.y + fy * r.h + dy, dpi)))


def draw_mark(img: np.ndarray, kind: str, box: Rect, text: Rect, dpi: int, rng: random.Random) -> None:
    """Draw one mark of ``kind`` on a mark box (in place)."""
    ink = rng.randint(10, 60)
    pen = max(2, round(mm_to_px(rng.uniform(0.6, 0.9), dpi)))

    def j() -> float:
        return rng.uniform(-0.06, 0.06)

    if kind in ("cross", "offset", "crossed_out", "light"):
        dx = dy = 0.0
        if kind == "offset":
            ang = rng.uniform(0, 2 * math.pi)
            dx, dy = 1.2 * math.cos(ang), 1.2 * math.sin(ang)
        colour, width = ink, pen
        if kind == "light":
            colour = rng.randint(212, 218)
            width = max(1, round(mm_to_px(0.35, dpi)))
        a, b = 0.1 + j(), 0.9 + j()
        cv2.line(img, _pt(box, a, a, dpi, dx, dy), _pt(box, b, b, dpi, dx, dy), colour, width, cv2.LINE_AA)
        cv2.line(img, _pt(box, b, a, dpi, dx, dy), _pt(box, a, b, dpi, dx, dy), colour, width, cv2.LINE_AA)
        if kind == "crossed_out":
            y = box.cy + rng.uniform(-0.8, 0.8)
            x0, x1 = box.x - 1.0, text.x + rng.uniform(25, 45)
            if text.x < box.x:  # a grid: the text is left of the box; the line runs through the box
                x0 = box.x + box.w + 3.5
            p0 = (round(mm_to_px(x0, dpi)), round(mm_to_px(y, dpi)))
            p1 = (round(mm_to_px(x1, dpi)), round(mm_to_px(y + rng.uniform(-1, 1), dpi)))
            cv2.line(img, p0, p1, ink, pen, cv2.LINE_AA)
    elif kind == "tick":
        pts = np.array(
            [_pt(box, 0.15 + j(), 0.5 + j(), dpi), _pt(box, 0.4 + j(), 0.88, dpi), _pt(box, 0.95, 0.08 + j(), dpi)],
            dtype=np.int32,
        )
        cv2.polylines(img, [pts], False, ink, pen + 1, cv2.LINE_AA)
    elif kind == "fill":
        cover = rng.uniform(0.75, 0.95)
        m = (1 - cover) / 2
        pts = np.array(
            [_pt(box, m + j(), m + j(), dpi), _pt(box, 1 - m + j(), m + j(), dpi),
             _pt(box, 1 - m + j(), 1 - m + j(), dpi), _pt(box, m + j(), 1 - m + j(), dpi)],
            dtype=np.int32,
        )
        cv2.fillPoly(img, [pts], ink, cv2.LINE_AA)
    elif kind == "dot":
        r = max(2, round(mm_to_px(rng.uniform(1.1, 1.4), dpi) / 2))
        c = _pt(box, rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65), dpi)
        cv2.circle(img, c, r, ink, -1, cv2.LINE_AA)
    else:
        raise ValueError(f"unknown mark kind {kind!r}")


# ------------------------------------------------------------------ scan simulation


def degrade(img: np.ndarray, rng: random.Random, opts: DeckOptions, upside_down: bool) -> np.ndarray:
    """Simulate a sheet-fed scan: small rotation/scale/shift, lighting, blur, noise."""
    if opts.degrade:  # the scanner captures a little more than the sheet (lid colour around it)
        b = round(mm_to_px(4.0, opts.dpi))
        img = cv2.copyMakeBorder(img, b, b, b, b, cv2.BORDER_CONSTANT, value=rng.randint(200, 235))
    h, w = img.shape
    if opts.degrade:
        angle = rng.uniform(-opts.max_rotation_deg, opts.max_rotation_deg)
        scale = rng.uniform(0.98, 1.02)
        shift = mm_to_px(3.0, opts.dpi)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        m[0, 2] += rng.uniform(-shift, shift)
        m[1, 2] += rng.uniform(-shift, shift)
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=rng.randint(235, 255))
    if upside_down:
        img = cv2.rotate(img, cv2.ROTATE_180)
    if not opts.degrade:
        return img
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.0))
    # uneven lighting: brightness falls linearly to 75-100 % across the page
    low = rng.uniform(0.75, 1.0)
    ang = rng.uniform(0, 2 * math.pi)
    sw, sh = max(2, w // 16), max(2, h // 16)
    gx = np.linspace(0, 1, sw, dtype=np.float32)[None, :] * math.cos(ang)
    gy = np.linspace(0, 1, sh, dtype=np.float32)[:, None] * math.sin(ang)
    g = gx + gy
    g = (g - g.min()) / max(1e-6, float(g.max() - g.min()))
    light = cv2.resize((255.0 * (1.0 - (1.0 - low) * g)).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    out = cv2.multiply(img, light, scale=1.0 / 255.0)  # uint8 all the way: 4x less memory traffic
    noise = _noise_field(h, w)  # uint8, mean 128, sd NOISE_SD
    oy, ox = rng.randrange(64), rng.randrange(64)
    a = rng.uniform(2.0, 7.0) / NOISE_SD
    return cv2.addWeighted(out, 1.0, noise[oy : oy + h, ox : ox + w], a, -128.0 * a)


NOISE_SD = 32.0
_NOISE: dict[tuple[int, int], np.ndarray] = {}


def _noise_field(h: int, w: int) -> np.ndarray:
    """Gaussian noise (uint8, mean 128, sd 32), made once per process; images use a random window."""
    if (h, w) not in _NOISE:
        gen = np.random.default_rng(20260907)  # fixed: the same deck on every machine and run
        field_ = np.clip(gen.normal(128.0, NOISE_SD, (h + 64, w + 64)), 0, 255).astype(np.uint8)
        _NOISE.clear()
        _NOISE[(h, w)] = field_
    return _NOISE[(h, w)]


# ------------------------------------------------------------------ planning


def _foreign_token(rng: random.Random) -> str:
    key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    return issue_token(key, "lyon-2026", rng.randbytes(10))


def plan_deck(
    election: Election,
    envelope_ids: Sequence[str],
    tokens: Sequence[BallotToken],
    count: int,
    seed: int,
    opts: DeckOptions,
) -> list[BallotSpec]:
    """Decide the truth for every image of the deck (pure: same inputs, same plan)."""
    rng = random.Random(seed)
    specs: list[BallotSpec] = []
    width = max(5, len(str(count)))
    for i in range(count):
        env_id = envelope_ids[i % len(envelope_ids)] if len(envelope_ids) > 1 else envelope_ids[0]
        env = election.envelope(env_id)
        assert env is not None
        token = tokens[i % len(tokens)]
        serial = new_ballot_serial(rng.randbytes(10))
        fmt = "png" if rng.random() < opts.p_png else "jpg"
        name = f"scan-{i + 1:0{width}d}.{fmt}"
        r = rng.random()
        common: dict[str, Any] = dict(
            index=i, image=name, envelope_id=env_id, token=token, ballot_serial=serial,
            seed=rng.randrange(2**31), image_format=fmt, upside_down=rng.random() < opts.p_upside_down,
        )
        if r < opts.p_blank_page:
            specs.append(BallotSpec(kind="blank", expected_status="rejected", **common))
            continue
        if r < opts.p_blank_page + opts.p_foreign:
            specs.append(BallotSpec(kind="foreign", foreign_token=_foreign_token(rng),
                                    expected_status="rejected", **common))
            continue
        if env.ballot != "approval":
            specs.append(_plan_grid(election, env_id, rng, opts, common))
            continue
        page_projects = [b.project_id for b in envelope_layout(election, env_id)[0].boxes]
        r = rng.random()
        if r < opts.p_blank_ballot:
            n = 0
        elif r < opts.p_blank_ballot + opts.p_overvote:
            n = min(len(page_projects), env.max_selections + rng.randint(1, 2))
        else:
            n = min(len(page_projects), rng.choice([1, 2, 3, 4, 4, 3, 2, 4][: max(1, env.max_selections * 2)]))
            n = min(n, env.max_selections)
        chosen = rng.sample(page_projects, n)
        for _ in range(50):  # voters mostly respect the rules: resample until valid
            if n > env.max_selections or _valid(election, env_id, chosen):
                break
            chosen = rng.sample(page_projects, n)
        votes = tuple((p, rng.choices(VOTE_MARKS, VOTE_MARK_WEIGHTS)[0]) for p in chosen)
        ambiguous: tuple[tuple[str, str], ...] = ()
        if n > 0 and rng.random() < opts.p_ambiguous:
            free = [p for p in page_projects if p not in chosen]
            if free:
                ambiguous = ((rng.choice(free), rng.choice(AMBIGUOUS_MARKS)),)
        damaged = rng.random() < opts.p_damaged_qr
        status, reasons = "accepted", []
        if 0 < n <= env.max_selections and not _valid(election, env_id, chosen):
            status, reasons = "needs_review", ["invalid_selection"]  # e.g. category limit
        if n == 0:
            status, reasons = "needs_review", ["blank_ballot"]
        elif n > env.max_selections:
            status, reasons = "needs_review", ["overvote"]
        if ambiguous:
            status = "needs_review"
            reasons.append("ambiguous_mark")
        specs.append(BallotSpec(kind="ballot", votes=votes, ambiguous=ambiguous, damaged_qr=damaged,
                                expected_status=status, expected_reasons=tuple(reasons), **common))
    return specs


def _plan_grid(election: Election, env_id: str, rng: random.Random, opts: DeckOptions,
               common: dict[str, Any]) -> BallotSpec:
    """One grade or for/against grid (votes keyed ``"<project>=<opinion>"``, ``MarkBox.key``):
    blank, or each row marked in one box with probability 0.6, plus (at the deck's rates) a
    row marked twice (``overvote_row``) or an ambiguous mark in a row left empty."""
    pl = envelope_layout(election, env_id)[0]
    projects = sorted({b.project_id for b in pl.boxes})
    r = rng.random()
    votes: list[tuple[str, str]] = []
    reasons: list[str] = []
    if r < opts.p_blank_ballot:
        reasons.append("blank_ballot")
    else:
        rows = [p for p in projects if rng.random() < 0.6] or [rng.choice(projects)]
        votes = [(opinion_item(p, rng.choice(pl.columns)), rng.choices(VOTE_MARKS, VOTE_MARK_WEIGHTS)[0])
                 for p in rows]
        if r < opts.p_blank_ballot + opts.p_overvote:
            pid, col = split_item(votes[0][0])
            other = rng.choice([c for c in pl.columns if c != col])
            votes.append((opinion_item(pid, other), rng.choices(VOTE_MARKS, VOTE_MARK_WEIGHTS)[0]))
            reasons.append("overvote_row")
    ambiguous: tuple[tuple[str, str], ...] = ()
    marked = {split_item(k)[0] for k, _ in votes}
    free = [p for p in projects if p not in marked]
    if votes and free and rng.random() < opts.p_ambiguous:
        ambiguous = ((opinion_item(rng.choice(free), rng.choice(pl.columns)), rng.choice(AMBIGUOUS_MARKS)),)
        reasons.append("ambiguous_mark")
    return BallotSpec(kind="ballot", votes=tuple(votes), ambiguous=ambiguous,
                      damaged_qr=rng.random() < opts.p_damaged_qr,
                      expected_status="needs_review" if reasons else "accepted", expected_reasons=tuple(reasons),
                      **common)


def _valid(election: Election, env_id: str, chosen: Sequence[str]) -> bool:
    """Category limits and the cost cap of the envelope (the count is checked by the caller)."""
    env = election.envelope(env_id)
    assert env is not None
    projects = [election.project(p) for p in chosen]
    cats: dict[str, int] = {}
    for pr in projects:
        if pr is not None and pr.category is not None:
            cats[pr.category] = cats.get(pr.category, 0) + 1
    if any(cats.get(c, 0) > lim for c, lim in env.category_limits.items()):
        return False
    cost = sum(pr.cost for pr in projects if pr is not None)
    return env.max_selection_cost is None or cost <= env.max_selection_cost


# ------------------------------------------------------------------ drawing one image

_TEMPLATES: dict[tuple[str, int, int], Image.Image] = {}


def _template(election: Election, pl: PageLayout, dpi: int) -> Image.Image:
    key = (pl.envelope_id, pl.page, dpi)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = render_template(election, pl, dpi)
    return _TEMPLATES[key]


def draw_ballot(election: Election, spec: BallotSpec, opts: DeckOptions) -> np.ndarray:
    """The marked, degraded image of one spec (greyscale)."""
    rng = random.Random(spec.seed)
    dpi = opts.dpi
    pl = envelope_layout(election, spec.envelope_id)[0]
    env = election.envelope(spec.envelope_id)
    assert env is not None
    if spec.kind == "blank":
        w, h = round(mm_to_px(210, dpi)), round(mm_to_px(297, dpi))
        img = np.full((h, w), 250, dtype=np.uint8)
        if rng.random() < 0.5:  # a cover sheet with a little text
            cv2.putText(img, "BATCH SEPARATOR", (w // 5, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 3, 30, 6)
        return degrade(img, rng, opts, spec.upside_down)
    if spec.kind == "foreign":
        token = spec.foreign_token or "SPECIMEN"
    else:
        token = spec.token.token if spec.token else "SPECIMEN"
    code = spec.token.short_code if spec.token and spec.kind == "ballot" else short_code(rng.randbytes(10))
    payload = PagePayload(env.code, pl.page, pl.pages, spec.ballot_serial, token)
    page = personalise_page(_template(election, pl, dpi), payload, code, dpi, qr_mask=0)
    img = np.array(page)
    boxes = {b.key: b for b in pl.boxes}
    for pid, kind in spec.votes:
        draw_mark(img, kind, boxes[pid].box, boxes[pid].text, dpi, rng)
    for pid, kind in spec.ambiguous:
        draw_mark(img, kind, boxes[pid].box, boxes[pid].text, dpi, rng)
    if spec.kind == "foreign":  # a foreign ballot is also marked
        for b in rng.sample(list(pl.boxes), min(2, len(pl.boxes))):
            draw_mark(img, "cross", b.box, b.text, dpi, rng)
    if rng.random() < 0.05:  # stray dot in the text area (not in a box): harmless
        b = rng.choice(list(pl.boxes))
        c = (round(mm_to_px(b.text.x + rng.uniform(30, 60), dpi)), round(mm_to_px(b.text.cy, dpi)))
        cv2.circle(img, c, max(2, round(mm_to_px(0.6, dpi))), rng.randint(20, 80), -1)
    if spec.damaged_qr:  # an ink blot over the QR code
        q = rect(QR_BOX)
        cx = round(mm_to_px(q.x + q.w * rng.uniform(0.35, 0.65), dpi))
        cy = round(mm_to_px(q.y + q.h * rng.uniform(0.35, 0.65), dpi))
        cv2.ellipse(img, (cx, cy), (round(mm_to_px(11, dpi)), round(mm_to_px(8, dpi))),
                    rng.uniform(0, 180), 0, 360, 15, -1)
    return degrade(img, rng, opts, spec.upside_down)


def write_image(path: Path, img: np.ndarray, fmt: str, quality: int) -> None:
    """Write ``img`` to ``path`` as PNG (``fmt`` ``png``) or JPEG at ``quality``."""
    if fmt == "png":
        cv2.imwrite(str(path), img, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    else:
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, quality])


_W: dict[str, Any] = {}


def _init_worker(election: Election, opts: DeckOptions, out_dir: Path) -> None:
    _TEMPLATES.clear()  # templates belong to one election
    _W.update(election=election, opts=opts, out_dir=out_dir)


def _make_one(spec: BallotSpec) -> str:
    election: Election = _W["election"]
    opts: DeckOptions = _W["opts"]
    img = draw_ballot(election, spec, opts)
    quality = random.Random(spec.seed ^ 0x5A5A).randint(60, 92)
    write_image(_W["out_dir"] / spec.image, img, spec.image_format, quality)
    return spec.image


def expected_entry(spec: BallotSpec, election: Election) -> dict[str, Any]:
    """The ``expected.json`` entry of one sheet: what a correct scan must report for it."""
    env = election.envelope(spec.envelope_id)
    assert env is not None
    return {
        "image": spec.image,
        "kind": spec.kind,
        "envelope": spec.envelope_id,
        "envelope_code": env.code,
        "selections": sorted(p for p, _ in spec.votes),
        "ambiguous": bool(spec.ambiguous),
        "ambiguous_marks": [{"project_id": p, "mark": k} for p, k in spec.ambiguous],
        "marks": [{"project_id": p, "mark": k} for p, k in spec.votes],
        "expected_status": spec.expected_status,
        "expected_reasons": list(spec.expected_reasons),
        "voter_serial": spec.token.serial if spec.token and spec.kind == "ballot" else None,
        "ballot_serial": spec.ballot_serial if spec.kind == "ballot" else None,
        "damaged_qr": spec.damaged_qr,
        "upside_down": spec.upside_down,
    }


def make_testdeck(
    election: Election,
    envelope_ids: Sequence[str],
    tokens: Sequence[BallotToken],
    out_dir: Path,
    *,
    count: int,
    seed: int,
    opts: DeckOptions | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> DeckResult:
    """Render, mark and degrade ``count`` ballot images; write ``expected.json``."""
    opts = opts or DeckOptions()
    if not tokens:
        raise ValueError("a test deck needs at least one voter token")
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = plan_deck(election, envelope_ids, tokens, count, seed, opts)

    def results() -> Iterator[str]:
        if workers <= 1:
            _init_worker(election, opts, out_dir)
            for s in specs:
                yield _make_one(s)
        else:
            with ProcessPoolExecutor(workers, initializer=_init_worker,
                                     initargs=(election, opts, out_dir)) as pool:
                yield from pool.map(_make_one, specs, chunksize=8)

    for _ in results():
        if progress:
            progress(1)
    doc = {
        "election": election.id,
        "seed": seed,
        "dpi": opts.dpi,
        "count": count,
        "ballots": [expected_entry(s, election) for s in specs],
    }
    with open_private(out_dir / "expected.json") as f:  # voter serial <-> ballot serial <-> marks: 0600
        f.write(json.dumps(doc, indent=1) + "\n")
    return DeckResult(out_dir, specs)

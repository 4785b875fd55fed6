"""The reader on rendered pages: marks as people make them, paper that is not white,
scanner streaks, PDF and multi-page TIFF scans (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ballot_scan.align import align_page
from ballot_scan.layout import Rect, envelope_layout
from ballot_scan.marks import paper_profile, score_boxes
from ballot_scan.payload import PagePayload
from ballot_scan.pipeline import read_register, scan_paths
from ballot_scan.read import PageReader, list_tasks
from ballot_scan.render import read_token_register, render_ballots, render_page
from ballot_scan.settings import ScanSettings
from engine.formats.election_definition import load_election
from engine.storage.keyfiles import load_public_key
from engine.storage.store import Store

K = 200 / 25.4


@pytest.fixture(scope="module")
def page(small_paris: Path) -> dict:
    e = load_election(small_paris / "election.toml")
    t = read_token_register(small_paris / "paper_tokens.csv")[0]
    pl = envelope_layout(e, "ar11")[0]
    img = np.array(render_page(e, pl, PagePayload(pl.envelope_code, 1, 1, "0" * 16, t.token), t.short_code, 200))
    return {"e": e, "pl": pl, "img": img}


def _line(img: np.ndarray, b: Rect, pts: list[tuple[float, float]], width_mm: float, level: int) -> None:
    pp = np.array([(round((b.x + u * b.w) * K), round((b.y + v * b.h) * K)) for u, v in pts], np.int32)
    cv2.polylines(img, [pp], False, level, max(1, round(width_mm * K)), cv2.LINE_AA)


def _read(img: np.ndarray, pl: object, settings: ScanSettings = ScanSettings()) -> list[tuple[str, str | None]]:
    al = align_page(img, settings)
    prof = paper_profile(img, al.dpi / 25.4, settings)
    return [s.classify(settings) for s in score_boxes(img, al.matrix, pl.boxes, K, settings, prof)]  # type: ignore[attr-defined]


def test_thin_pen_votes_count_and_ambiguous_marks_go_to_review(page: dict) -> None:
    img = page["img"].copy()
    b = [mb.box for mb in page["pl"].boxes]
    _line(img, b[0], [(0.2, 0.5), (0.4, 0.85), (0.95, 0.05)], 0.3, 90)  # 0.3 mm blue ballpoint tick
    _line(img, b[1], [(0.1, 0.9), (0.9, 0.1)], 0.35, 120)  # light pencil slash
    _line(img, b[2], [(0.2, 0.2), (0.8, 0.8)], 0.3, 60)  # thin cross
    _line(img, b[2], [(0.8, 0.2), (0.2, 0.8)], 0.3, 60)
    cv2.circle(img, (round((b[3].x + 3) * K), round((b[3].y + 3) * K)), round(0.4 * K), 60, -1)  # a dot
    for y in np.linspace(-0.3, 1.3, 14):  # scratched out, ink spilling around the box
        _line(img, b[5], [(-0.3, y), (1.3, y + 0.05)], 0.6, 40)
    _line(img, b[7], [(0.2, 0.5), (0.4, 0.85), (0.95, 0.05)], 0.5, 40)  # a tick, then the row struck through
    _line(img, b[7], [(-0.6, 0.5), (1.8, 0.55)], 0.5, 40)
    cx, cy = round((b[9].x + 3) * K), round((b[9].y + 3) * K)  # a circled box
    cv2.ellipse(img, (cx, cy), (round(5.2 * K), round(4.7 * K)), 0, 0, 360, 60, 2)
    v = _read(img, page["pl"])
    assert v[0] == v[1] == v[2] == ("vote", None)
    assert v[3] == ("ambiguous", "small_mark")
    assert v[5] == ("ambiguous", "scratched_out_mark")
    assert v[7] == ("ambiguous", "crossed_out_mark")
    assert v[9] == ("vote", None)
    assert v[4] == v[6] == v[8] == v[11] == ("empty", None), v[:12]


def test_tinted_paper_and_lighting_gradient_are_not_ink(page: dict) -> None:
    img = page["img"].copy()
    _line(img, page["pl"].boxes[0].box, [(0.2, 0.5), (0.4, 0.85), (0.95, 0.05)], 0.3, 90)
    h, w = img.shape
    light = np.linspace(0.55, 0.8, w, dtype=np.float32)[None, :] * np.linspace(1.0, 0.85, h, dtype=np.float32)[:, None]
    dim = (img * light).astype(np.uint8)  # grey paper at 55-80 % of white (absolute darkness up to 0.5)
    al = align_page(dim)  # the orientation bar is measured against the paper around it
    assert not al.upside_down
    v = _read(dim, page["pl"])
    assert v[0] == ("vote", None) and all(x == ("empty", None) for x in v[1:])


def test_scanner_streaks_and_bands_are_divided_out(page: dict) -> None:
    img = page["img"].copy().astype(np.float32)
    box = page["pl"].boxes[4].box
    x = round((box.x + 3) * K)
    img[:, x - 1 : x + 2] *= 0.7  # a dirty-drum streak through an empty box, all along the page
    img[round((page["pl"].boxes[8].box.y + 2) * K) :][:8] *= 0.75  # a roller band across another
    img = img.astype(np.uint8)
    al = align_page(img)
    prof = paper_profile(img, al.dpi / 25.4)
    assert prof is not None and prof.streaks > 0
    v = _read(img, page["pl"])
    assert all(x == ("empty", None) for x in v)


def test_pdf_and_multipage_tiff_scans(small_paris: Path, tmp_path: Path) -> None:
    e = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")[:3]
    res = render_ballots(e, "ar11", tmp_path / "print", dpi=200, tokens=tokens, seed=4, pdf=True)
    pdf = res.pdfs[0]
    pngs = [tmp_path / "print" / b.images[0] for b in res.ballots]
    frames = [Image.open(p).convert("L") for p in pngs]
    tif = tmp_path / "scans" / "batch.tif"
    tif.parent.mkdir()
    frames[0].save(tif, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    (tmp_path / "scans" / pdf.name).write_bytes(pdf.read_bytes())
    tasks = list_tasks([tmp_path / "scans"])
    kinds = sorted({(t.kind, t.name) for t in tasks})
    assert kinds == [("pdf", pdf.name), ("tiff", "batch.tif")]
    assert len({t.file_sha256 for t in tasks if t.kind == "tiff"}) == 1  # hashed once, when listed
    reads = PageReader(e, ocr=False).read_batch(tasks)
    assert all(r.qr_read and r.fatal is None for r in reads), [(r.image, r.page, r.fatal) for r in reads]
    assert len({r.image_sha256 for r in reads}) == len(reads)
    # a file over the page limit is refused once, not once per page
    refused = list_tasks([tif], ScanSettings(max_pages_per_file=2))
    assert len(refused) == 1 and refused[0].refused is not None and refused[0].refused[0] == "image_too_large"


def test_settings_are_recorded_in_the_audit_log_and_report(small_paris: Path, tmp_path: Path) -> None:
    e = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")[:1]
    res = render_ballots(e, "ar11", tmp_path / "print", dpi=200, tokens=tokens, seed=4, pdf=False)
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    settings = ScanSettings(mark_min_span_mm=2.9)
    seen = []
    scan_paths(store, e, load_public_key(small_paris / "keys"), [tmp_path / "print" / res.ballots[0].images[0]],
               register=read_register(small_paris / "paper_tokens.csv"), settings=settings, workers=1,
               report_path=tmp_path / "r.json", on_outcome=seen.append)
    assert len(seen) == 1 and seen[0].status == "needs_review" and seen[0].reasons == ["blank_ballot"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["settings"]["mark_min_span_mm"] == 2.9
    audit = [a for a in store.audit_entries() if a.action == "paper_scanned"]
    assert audit and audit[-1].details["settings"]["mark_min_span_mm"] == 2.9


def test_texture_features_tell_a_smudge_from_a_pen_stroke(page: dict) -> None:
    """A soft grey blot with speckle around it (a dirty drum) against a thin dark stroke on clean paper."""
    img = page["img"].copy().astype(np.float32)
    b = [mb.box for mb in page["pl"].boxes]
    rng = np.random.default_rng(5)
    cx, cy = round((b[0].x + 3) * K), round((b[0].y + 3) * K)
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    blot = np.exp(-(((xx - cx) / (4 * K)) ** 2 + ((yy - cy) / (4 * K)) ** 2)).astype(np.float32)
    speckle = cv2.GaussianBlur(rng.random(img.shape).astype(np.float32), (0, 0), 1.5)
    speckle = (speckle - speckle.min()) / (speckle.max() - speckle.min())
    img *= 1 - 0.45 * blot * speckle  # soft, mottled, spreading beside the box
    img = img.clip(0, 255).astype(np.uint8)
    _line(img, b[2], [(0.4, 0.4), (0.55, 0.6)], 0.3, 70)  # a short thin pen stroke
    _line(img, b[4], [(0.5, 1.15), (1.15, 1.3), (1.35, 0.9)], 0.4, 60)  # a tick beside the box, under it
    al = align_page(img)
    s = score_boxes(img, al.matrix, page["pl"].boxes, K, ScanSettings(), paper_profile(img, al.dpi / 25.4))
    smudge, stroke, empty, beside = s[0], s[2], s[6], s[4]
    assert stroke.ihat > 2 * smudge.ihat and stroke.gmax > smudge.gmax  # a line is sharper than a blot
    assert stroke.depth - stroke.page_depth > smudge.depth - smudge.page_depth
    assert smudge.noise > stroke.noise  # the smudge spreads beside the box: texture there too
    assert empty.ring_line_mm2 == 0 and beside.ring_line_mm2 >= ScanSettings().ring_line_mm2

"""Scan building blocks: alignment limits, thresholds, OCR batching, decisions, TIFF input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ballot_scan.align import AlignmentError, align_page
from ballot_scan.decide import decide_page
from ballot_scan.layout import PAGE_CODE_BOX, envelope_layout, rect
from ballot_scan.marks import BoxScore
from ballot_scan.ocr import match_code, read_lines
from ballot_scan.payload import PagePayload
from ballot_scan.read import PageRead, PageReader, list_tasks
from ballot_scan.render import read_token_register, render_page
from ballot_scan.settings import ScanSettings
from engine.formats.election_definition import load_election
from engine.model.tokens import TokenVerifier
from engine.storage.keyfiles import load_public_key


@pytest.fixture(scope="module")
def env(small_paris: Path) -> dict:
    e = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")
    return {"e": e, "tokens": tokens, "verifier": TokenVerifier(load_public_key(small_paris / "keys"), e.id),
            "register": {t.serial: t.token for t in tokens}}


def _page(env: dict, envelope: str = "ar11", token_index: int = 0, dpi: int = 200) -> np.ndarray:
    e = env["e"]
    pl = envelope_layout(e, envelope)[0]
    t = env["tokens"][token_index]
    img = render_page(e, pl, PagePayload(pl.envelope_code, 1, 1, "0" * 16, t.token), t.short_code, dpi)
    return np.array(img)


def _rotate(img: np.ndarray, deg: float) -> np.ndarray:
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 0.9)
    return cv2.warpAffine(img, m, (w, h), borderValue=255)


def test_alignment_measures_rotation_and_flips_upside_down(env: dict) -> None:
    img = _page(env)
    al = align_page(_rotate(img, 2.0))
    assert abs(abs(al.rotation_deg) - 2.0) < 0.3 and not al.upside_down
    al = align_page(cv2.rotate(_rotate(img, -1.5), cv2.ROTATE_180))
    assert al.upside_down and abs(abs(al.rotation_deg) - 1.5) < 0.3


def test_rotation_beyond_the_limit_is_rejected_with_reason(env: dict) -> None:
    with pytest.raises(AlignmentError) as exc:
        align_page(_rotate(_page(env), 8.0))
    assert exc.value.reason == "rotation_too_large"


def test_blank_page_has_no_fiducials() -> None:
    with pytest.raises(AlignmentError) as exc:
        align_page(np.full((2339, 1654), 250, dtype=np.uint8))
    assert exc.value.reason == "fiducials_not_found"


CLEAN_SLASH = dict(score=0.0, faint=0.1, span_mm=4.8, area_mm2=0.7, contrast=0.18, pieces=2, depth=0.23,
                   ihat=0.2, noise=0.03, rshade=0.0, page_depth=0.035, page_ihat=0.04, page_noise=0.03,
                   page_depth_mad=0.004, page_ihat_mad=0.004)


@pytest.mark.parametrize(
    ("kw", "verdict"),
    [(dict(score=0.40, faint=0.5, span_mm=6.0, area_mm2=8.0), ("vote", None)),  # felt tick / fill
     (dict(score=0.07, faint=0.1, span_mm=5.0, area_mm2=1.4, contrast=0.3, pieces=1), ("vote", None)),  # thin tick
     (dict(score=0.03, faint=0.05, span_mm=5.0, area_mm2=0.3, contrast=0.3), ("ambiguous", "marginal_mark")),
     (dict(score=0.0, faint=0.2, span_mm=5.0, area_mm2=2.0, contrast=0.08), ("ambiguous", "marginal_mark")),  # blot
     (dict(score=0.0, faint=0.2, span_mm=5.0, area_mm2=2.0, contrast=0.3, pieces=9),
      ("ambiguous", "marginal_mark")),  # speckle
     (dict(score=0.2, faint=0.3, outline=0.1), ("ambiguous", "box_not_found")),
     (dict(score=0.0, faint=0.0, ring_sides=("L", "R")), ("ambiguous", "mark_around_box")),
     (dict(score=0.03, faint=0.05, span_mm=1.2, area_mm2=0.6), ("ambiguous", "small_mark")),  # dot
     (dict(score=0.0, faint=0.2), ("ambiguous", "faint_mark")),
     (dict(score=0.0, faint=0.01), ("empty", None)),
     # a felt-tip hesitation hook: dense but short (read as a vote before the span condition)
     (dict(score=0.17, faint=0.18, span_mm=2.8, area_mm2=2.7, contrast=0.17, pieces=1), ("ambiguous", "small_mark")),
     # a faint line under every pixel level, darker and sharper than the page's usual box
     # (read empty before the faint-stroke rule)
     (dict(score=0.0, faint=0.0, depth=0.18, page_depth=0.05, ihat=0.15, page_ihat=0.05), ("ambiguous", "faint_mark")),
     (dict(score=0.0, faint=0.0, depth=0.18, page_depth=0.12, ihat=0.15, page_ihat=0.05), ("empty", None)),
     (dict(score=0.0, faint=0.0, depth=0.18, page_depth=0.05, ihat=0.08, page_ihat=0.05), ("empty", None)),
     # a light HB pencil circle: no side inked, the ring shaded and textured (read empty before)
     (dict(score=0.0, faint=0.0, ring_sides=("B", "R"), rshade=0.213, noise=0.18, page_noise=0.034),
      ("ambiguous", "mark_around_box")),
     (dict(score=0.0, faint=0.0, rshade=0.213, noise=0.05, page_noise=0.034), ("empty", None)),  # shade only
     # a tick riding the box edge: nothing counted inside, but the core much darker than the
     # page's boxes (read empty before the dark-interior rule: a silent misread on a grid deck)
     (dict(score=0.0, faint=0.0, depth=0.294, page_depth=0.066, ihat=0.078, page_ihat=0.068),
      ("ambiguous", "dark_interior")),
     # rule 8b: a light slash (too little stroke area for rule 8) far out of a clean page's
     # boxes counts (marginal_mark before); on a textured or smudged page it stays to review
     (dict(CLEAN_SLASH), ("vote", None)),
     (dict(CLEAN_SLASH, page_depth_mad=0.012), ("ambiguous", "marginal_mark")),  # boxes vary: not clean
     (dict(CLEAN_SLASH, noise=0.09), ("ambiguous", "marginal_mark")),  # textured beside the box
     (dict(CLEAN_SLASH, rshade=0.2), ("ambiguous", "marginal_mark")),  # smudged beside the box
     (dict(CLEAN_SLASH, depth=0.07), ("ambiguous", "marginal_mark")),  # hardly darker than the page's boxes
     (dict(CLEAN_SLASH, span_mm=2.5), ("ambiguous", "small_mark")),  # short: a dot or hesitation stays
     # a light pencil fill, no stroke found (faint_mark before): a vote on a clean page only
     (dict(CLEAN_SLASH, span_mm=0.0, area_mm2=0.0, faint=0.2, shade=0.45, ihat=0.09), ("vote", None)),
     (dict(CLEAN_SLASH, span_mm=0.0, area_mm2=0.0, faint=0.2, shade=0.45, ihat=0.09, rshade=0.1),
      ("ambiguous", "faint_mark")),
     (dict(CLEAN_SLASH, span_mm=0.0, area_mm2=0.0, faint=0.2, shade=0.03), ("ambiguous", "faint_mark")),
     (dict(score=0.0, faint=0.0, ring_sides=("T", "B", "L", "R")), ("vote", None)),  # a circled box
     (dict(score=0.0, faint=0.0, ring_sides=("T", "B")), ("empty", None)),  # neighbours' ink
     (dict(score=0.6, faint=0.7, span_mm=6.0, area_mm2=9.0, strike=1.0), ("ambiguous", "crossed_out_mark")),
     (dict(score=0.3, faint=0.4, span_mm=12.0, area_mm2=9.0, sectors=("L", "R")),
      ("ambiguous", "crossed_out_mark")),
     (dict(score=0.9, faint=1.0, span_mm=12.0, area_mm2=40.0, sectors=("TL", "T", "TR", "L", "R", "B")),
      ("ambiguous", "scratched_out_mark")),
     (dict(score=0.9, faint=1.0, span_mm=8.0, area_mm2=20.0, sectors=("TL", "T", "TR")), ("vote", None)),
     (dict(score=0.0, faint=0.0, paper_min=0.4), ("ambiguous", "scanner_streak")),
     # a fold sheared the page: the outline band found is light and the "mark" is the
     # outline itself (read as a vote before the located-outline rule)
     (dict(score=0.12, faint=0.16, outline=0.33, outline_dark=0.04, span_mm=4.4, area_mm2=2.5, contrast=0.6,
           pieces=5), ("ambiguous", "box_not_found")),
     (dict(score=0.12, faint=0.16, outline=0.33, outline_dark=0.3, span_mm=4.4, area_mm2=2.5, contrast=0.6,
           pieces=5), ("vote", None))],
)
def test_mark_rules(kw: dict, verdict: tuple) -> None:
    base = dict(project_id="P", score=0.0, faint=0.0, strike=0.0, outline=0.9, dx_mm=0, dy_mm=0)
    assert BoxScore(**{**base, **kw}).classify(ScanSettings(mark_model=False)) == verdict  # type: ignore[arg-type]


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        ScanSettings(ink_level=0.9, stroke_level=0.8)


def test_ocr_reads_several_crops_in_one_call(env: dict) -> None:
    from ballot_scan.align import warp_region

    crops = []
    for envelope in ("ar11", "paris", "ar05"):
        img = _page(env, envelope)
        al = align_page(img)
        crops.append(warp_region(img, al.matrix, rect(PAGE_CODE_BOX), 200 / 25.4))
    texts = read_lines(crops)
    codes = [match_code(t, ["AR11-1", "PARIS-1", "AR05-1", "AR15-1"]) for t in texts]
    assert codes == ["AR11-1", "PARIS-1", "AR05-1"], texts


def test_match_code_tolerates_confusions_but_not_ambiguity() -> None:
    assert match_code("ARII-I", ["AR11-1", "AR12-1"]) == "AR11-1"
    assert match_code("PAR1S-1", ["PARIS-1"]) == "PARIS-1"
    assert match_code("AR1?-1", ["AR11-1", "AR12-1"]) is None


def _read(**kw: object) -> PageRead:
    base = dict(image="x.png", page=1, image_sha256="a" * 64, envelope_code="AR11", page_no=1, pages=1,
                ballot_serial="0" * 16, qr_read=True, ocr_page_code="AR11-1")
    base.update(kw)
    return PageRead(**base)  # type: ignore[arg-type]


def test_decisions(env: dict) -> None:
    e, v, reg = env["e"], env["verifier"], env["register"]
    tok = env["tokens"][0]
    ok = decide_page(e, v, reg, _read(token=tok.token, votes=["AR11-001"]))
    assert ok.status == "accepted" and ok.ballot is not None and ok.ballot.receipt_id.startswith("P")
    mismatch = decide_page(e, v, reg, _read(token=tok.token, votes=["AR11-001"], ocr_page_code="AR12-1"))
    assert mismatch.status == "needs_review" and "envelope_mismatch" in mismatch.reasons
    foreign = decide_page(e, v, reg, _read(token=tok.token, envelope_code="LYON3", votes=["AR11-001"]))
    assert foreign.status == "rejected" and foreign.reasons == ["foreign_ballot"]
    specimen = decide_page(e, v, reg, _read(token="SPECIMEN", votes=["AR11-001"]))
    assert specimen.status == "rejected" and specimen.reasons == ["specimen_ballot"]
    over = decide_page(e, v, reg, _read(token=tok.token, votes=[f"AR11-00{i}" for i in range(1, 7)]))
    assert over.status == "needs_review" and "overvote" in over.reasons
    # QR damaged: the printed short code is accepted only if valid and in the register
    sc = tok.short_code
    from_ocr = decide_page(e, v, reg, _read(qr_read=False, token=None, ballot_serial=None, ocr_voter_code=sc,
                                            ocr_serial_code="0000-0000-0000-0000-0", votes=["AR11-002"]))
    assert from_ocr.status == "accepted", from_ocr.reasons
    unknown = decide_page(e, v, {}, _read(qr_read=False, token=None, ballot_serial=None, ocr_voter_code=sc,
                                          ocr_serial_code="0000-0000-0000-0000-0", votes=["AR11-002"]))
    assert unknown.status == "needs_review" and "token_unreadable" in unknown.reasons
    bad_check = tok.short_code[:-1] + ("0" if tok.short_code[-1] != "0" else "1")
    wrong = decide_page(e, v, reg, _read(qr_read=False, token=None, ballot_serial=None, ocr_voter_code=bad_check,
                                         ocr_serial_code="0000-0000-0000-0000-0", votes=["AR11-002"]))
    assert wrong.status == "needs_review" and "token_unreadable" in wrong.reasons


def test_multi_page_tiff_pages_have_their_own_identity(env: dict, tmp_path: Path) -> None:
    a, b = _page(env, "ar11", 1), _page(env, "paris", 2)
    Image.fromarray(a).save(tmp_path / "two.tif", save_all=True, append_images=[Image.fromarray(b)],
                            compression="tiff_lzw")
    tasks = list_tasks([tmp_path])
    assert [(t.name, t.page) for t in tasks] == [("two.tif", 1), ("two.tif", 2)]
    reads = PageReader(env["e"]).read_batch(tasks)
    assert [r.envelope_code for r in reads] == ["AR11", "PARIS"]
    assert reads[0].image_sha256 != reads[1].image_sha256
    assert all(r.qr_read and r.fatal is None for r in reads)

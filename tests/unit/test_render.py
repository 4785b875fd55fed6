"""Printable ballots: layout.json agrees with the pixels, QR payload, pagination, PDF."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from ballot_scan.layout import ROWS_PER_COLUMN, envelope_layout
from ballot_scan.payload import SPECIMEN, parse_payload, serial_with_check
from ballot_scan.render import RenderError, read_token_register, render_ballots
from engine.formats.election_definition import load_election
from engine.model.tokens import parse_short_code


@pytest.fixture(scope="module")
def specimen(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("render")
    e = load_election(small_paris / "election.toml")
    render_ballots(e, "ar11", out, dpi=150)
    return out, json.loads((out / "layout.json").read_text())


def test_layout_json_contract_and_image_size(specimen: tuple[Path, dict]) -> None:
    out, doc = specimen
    assert doc["dpi"] == 150
    page = doc["pages"][0]
    for key in ("page", "image", "width_px", "height_px", "envelope", "boxes", "qr", "fiducials", "text_regions"):
        assert key in page
    img = Image.open(out / page["image"])
    assert img.size == (page["width_px"], page["height_px"])
    # A4 at 150 dpi
    assert abs(page["width_px"] - 1240) <= 1 and abs(page["height_px"] - 1754) <= 1
    assert page["envelope"] == "ar11"


def test_boxes_are_printed_where_layout_json_says(specimen: tuple[Path, dict], small_paris: Path) -> None:
    out, doc = specimen
    page = doc["pages"][0]
    a = np.array(Image.open(out / page["image"]).convert("L"))
    e = load_election(small_paris / "election.toml")
    assert sorted(b["project_id"] for b in page["boxes"]) == sorted(p.id for p in e.projects_in("ar11"))
    for b in page["boxes"]:
        x, y, w, h = b["x"], b["y"], b["w"], b["h"]
        assert a[y + h // 2, x + 1] < 100 and a[y + 1, x + w // 2] < 100, b  # outline is ink
        assert a[y + h // 2, x + w // 2] > 200, b  # interior is paper
    for f in page["fiducials"]:
        assert a[f["y"] + f["h"] // 2, f["x"] + f["w"] // 2] < 50


def test_specimen_qr_decodes_with_its_quiet_zone_inside_the_page(specimen: tuple[Path, dict]) -> None:
    out, doc = specimen
    page = doc["pages"][0]
    q = page["qr"]
    a = np.array(Image.open(out / page["image"]).convert("L"))
    assert q["x"] > 0 and q["y"] > 0 and q["x"] + q["w"] < page["width_px"]
    crop = np.ascontiguousarray(a[q["y"] : q["y"] + q["h"], q["x"] : q["x"] + q["w"]])
    found = zxingcpp.read_barcodes(crop, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found, "QR not readable from the layout's QR rectangle alone"
    payload = parse_payload(found[0].text)
    assert payload is not None
    assert (payload.envelope_code, payload.page, payload.pages, payload.token) == ("AR11", 1, 1, SPECIMEN)
    assert payload.ballot_serial == page["ballot_serial"]


def test_personalised_ballots_carry_token_and_serial(small_paris: Path, tmp_path: Path) -> None:
    e = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")[:3]
    res = render_ballots(e, "PARIS", tmp_path, dpi=150, tokens=tokens, seed=1)
    assert len(res.ballots) == 3 and len({b.ballot_serial for b in res.ballots}) == 3
    assert [p.name for p in res.pdfs] == ["ballots.pdf"]
    pdf = res.pdfs[0].read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 3
    assert pdf.count(b"CCITTFaxDecode") >= 3  # lossless 1-bit pages, not JPEG
    a = np.array(Image.open(tmp_path / res.ballots[1].images[0]).convert("L"))
    found = zxingcpp.read_barcodes(a, formats=zxingcpp.BarcodeFormat.QRCode)
    payload = parse_payload(found[0].text)
    assert payload is not None and payload.token == tokens[1].token
    assert payload.ballot_serial == res.ballots[1].ballot_serial
    # the printed serial carries a valid check symbol
    parse_short_code(serial_with_check(payload.ballot_serial))
    assert (tmp_path / "ballots.csv").read_text().count("\n") == 4


def test_long_ballots_continue_on_more_pages(small_paris: Path) -> None:
    e = load_election(small_paris / "election.toml")
    pages = envelope_layout(e, "paris", rows_per_column=4)
    n = len(e.projects_in("paris"))
    assert len(pages) == -(-n // 8)
    ids = [b.project_id for p in pages for b in p.boxes]
    assert sorted(ids) == sorted(p.id for p in e.projects_in("paris")) and len(set(ids)) == n
    assert [p.page_code for p in pages][:2] == ["PARIS-1", "PARIS-2"]
    assert all(p.pages == len(pages) for p in pages)
    assert len(envelope_layout(e, "paris")) == -(-n // (2 * ROWS_PER_COLUMN))


def test_unknown_envelope_is_a_clear_error(small_paris: Path, tmp_path: Path) -> None:
    e = load_election(small_paris / "election.toml")
    with pytest.raises(RenderError, match="unknown envelope 'nowhere'"):
        render_ballots(e, "nowhere", tmp_path)


@pytest.mark.parametrize("name", [
    "Communauté de communes du Haut-Pays-de-Montreuil-sur-Mer",  # 55 characters
    "Budget participatif de Saint-Rémy-de-Provence-et-des-Alpilles 2026 — vote des habitants et habitantes",
])
def test_long_titles_never_run_under_the_qr(small_paris: Path, name: str) -> None:
    from dataclasses import replace

    from ballot_scan.layout import ENVELOPE_NAME_BOX, QR_BOX, TITLE_BOX, rect
    from ballot_scan.render import render_template

    e = replace(load_election(small_paris / "election.toml"), name=name)
    pl = envelope_layout(e, "ar11")[0]
    dpi = 150
    img = np.asarray(render_template(e, pl, dpi))
    short = np.asarray(render_template(replace(e, name="X"), pl, dpi))
    qx, qy, qw, qh = rect(QR_BOX).px(dpi)
    assert (img[qy:qy + qh, qx:qx + qw] == 255).all()  # nothing printed where the QR goes
    outside = img.copy()
    for r in (TITLE_BOX, ENVELOPE_NAME_BOX):
        x, y, w, h = rect(r).px(dpi)
        outside[y:y + h, x:x + w] = short[y:y + h, x:x + w]
    assert (outside == short).all()  # the long title changed nothing outside its box
    x, y, w, h = rect(TITLE_BOX).px(dpi)
    assert (img[y:y + h, x:x + w] < 128).sum() > 200  # the title is there


def test_instructions_state_every_rule_in_the_election_language(small_paris: Path) -> None:
    from dataclasses import replace

    from ballot_scan.render import instructions_text

    e = load_election(small_paris / "election.toml")
    env = replace(e.envelope("ar11"), max_selections=3, min_selections=2, category_limits={"sport": 1},
                  max_selection_cost=500_000)
    fr = instructions_text(e, env)
    assert fr == ("Cochez au plus 3 case(s) ; au moins 2 ; au plus 1 dans la catégorie sport ; "
                  f"les projets choisis coûtent au plus 500 000 {e.currency} au total.")
    assert "Mark" not in fr
    en = instructions_text(replace(e, extra={**e.extra, "language": "en"}), env)
    assert en == ("Mark at most 3 box(es); at least 2; at most 1 in category sport; "
                  f"chosen projects may cost 500 000 {e.currency} in all.")
    assert "Cochez" not in en
    plain = instructions_text(e, replace(env, min_selections=1, category_limits={}, max_selection_cost=None))
    assert plain == "Cochez au plus 3 case(s)."


def _ocr(img: Image.Image, box_mm: tuple[float, float, float, float], dpi: int, lang: str) -> str:
    import pytesseract

    from ballot_scan.layout import rect

    x, y, w, h = rect(box_mm).px(dpi)
    return " ".join(str(pytesseract.image_to_string(img.crop((x, y, x + w, y + h)), lang=lang)).split())


@pytest.mark.skipif(__import__("shutil").which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_the_stub_says_it_is_the_receipt_and_how_to_check_it_in_the_election_language(small_paris: Path) -> None:
    from dataclasses import replace

    from ballot_scan.payload import PagePayload
    from ballot_scan.render import STUB_TEXT_BOX, render_page

    e = load_election(small_paris / "election.toml")
    pl = envelope_layout(e, "ar11")[0]
    payload = PagePayload(pl.envelope_code, 1, 1, "0" * 16, SPECIMEN)
    fr = _ocr(render_page(e, pl, payload, None, dpi=400), STUB_TEXT_BOX, 400, "fra").lower()
    assert "reçu" in fr and "talon" in fr and "vérifier mon bulletin" in fr and "receipt" not in fr, fr
    en_e = replace(e, extra={**e.extra, "language": "en", "results_url": "vote.example.org"})
    en = _ocr(render_page(en_e, pl, payload, None, dpi=400), STUB_TEXT_BOX, 400, "eng").lower()
    assert "your receipt" in en and "vote.example.org" in en and "check my ballot" in en and "reçu" not in en, en


def test_only_a_specimen_carries_the_watermark_inside_its_band(small_paris: Path, tmp_path: Path) -> None:
    from ballot_scan.layout import rect
    from ballot_scan.payload import PagePayload
    from ballot_scan.render import WATERMARK_BAND_MM, render_page

    e = load_election(small_paris / "election.toml")
    pl = envelope_layout(e, "ar11")[0]
    spec = render_ballots(e, "ar11", tmp_path / "s", dpi=150, pdf=False, seed=3)
    plain = render_page(e, pl, PagePayload(pl.envelope_code, 1, 1, spec.ballots[0].ballot_serial, SPECIMEN), None,
                        dpi=150)
    marked = np.array(Image.open(tmp_path / "s" / spec.ballots[0].images[0]).convert("L"))
    diff = marked != np.array(plain)
    x0, y0, x1, y1 = WATERMARK_BAND_MM
    bx, by, bw, bh = rect((x0, y0, x1 - x0, y1 - y0)).px(150)
    inside = diff[by:by + bh, bx:bx + bw].sum()
    assert inside > 2_000 and diff.sum() == inside  # a visible mark, and nothing outside the band
    # a real ballot is exactly the page the scanner expects: no watermark pixel
    tokens = read_token_register(small_paris / "paper_tokens.csv")[:1]
    real = render_ballots(e, "ar11", tmp_path / "r", dpi=150, tokens=tokens, seed=3, pdf=False)
    got = np.array(Image.open(tmp_path / "r" / real.ballots[0].images[0]).convert("L"))
    want = render_page(e, pl, PagePayload(pl.envelope_code, 1, 1, real.ballots[0].ballot_serial, tokens[0].token),
                       tokens[0].short_code, dpi=150)
    assert (got == np.array(want)).all()


def test_language_and_results_url_are_keys_of_the_definition(small_paris: Path) -> None:
    """The two keys the ballot reads are accepted by the definition reader (they were refused as
    unknown keys) and reach the stub text."""
    import tomllib

    from ballot_scan.render import stub_text
    from engine.formats.election_definition import election_from_dict

    doc = tomllib.loads((small_paris / "election.toml").read_text(encoding="utf-8"))
    e = election_from_dict({**doc, "language": "en", "results_url": "https://vote.example.org"}, "t.toml")
    assert stub_text(e).startswith("Your receipt") and "https://vote.example.org" in stub_text(e)
    assert stub_text(election_from_dict(doc, "t.toml")).startswith("Votre reçu")

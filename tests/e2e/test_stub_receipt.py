"""Issue 13.10 end to end: render a real ballot, read the stub's printed text back (Tesseract),
type it exactly as printed, and find the ballot in the published bundle (CLI and page)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.bundle_world import add_paper_ballots, ballot_lines, make_world
from typer.testing import CliRunner

from pbcount.cli import app

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")


def stub_text(election, serial: str, token: str) -> str:  # type: ignore[no-untyped-def]
    """Render the ballot page and OCR its stub, the way a voter reads it."""
    import pytesseract

    from ballot_scan.layout import SERIAL_BOX, envelope_layout, rect
    from ballot_scan.payload import PagePayload
    from ballot_scan.render import render_page

    pl = envelope_layout(election, "paris")[0]
    img = render_page(election, pl, PagePayload(pl.envelope_code, 1, 1, serial, token), None, dpi=300)
    x, y, w, h = rect(SERIAL_BOX).px(300)
    return str(pytesseract.image_to_string(img.crop((x, y, x + w, y + h)), config="--psm 7")).strip()


def test_printed_stub_finds_the_published_ballot(small_paris: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api import ApiSettings, create_app

    world = make_world(small_paris, tmp_path / "world")
    ballot, serial = add_paper_ballots(world, 2)[0]
    _, bundle = world.publish("bundle")
    printed = stub_text(world.election, serial, "SPECIMEN")
    assert printed.startswith("N") and len(printed) >= 21, printed
    assert ballot.receipt_id in "".join(ballot_lines(bundle))
    runner = CliRunner()
    r = runner.invoke(app, ["receipt", "from-stub", printed])
    assert r.exit_code == 0 and r.output.strip() == ballot.receipt_id, r.output
    r = runner.invoke(app, ["receipt", "proof", "--stub", printed, "--bundle", str(bundle)])
    assert r.exit_code == 0 and ballot.image_sha256 in r.output, r.output
    # on the results page, typed as printed
    store = world.store()
    try:
        client_app = create_app(ApiSettings(keys_dir=world.keys, bundle_dir=bundle), store=store)
        with TestClient(client_app) as c:
            page = c.get("/receipt", params={"id": printed, "lang": "en"})
            assert page.status_code == 200 and 'id="receipt-status"' in page.text
            assert "Your ballot is in the published bundle." in page.text
            assert ballot.receipt_id in page.text
            typo = printed[:-1] + ("0" if printed[-1] != "0" else "1")
            bad = c.get("/receipt", params={"id": typo, "lang": "en"})
            assert bad.status_code == 422 and "check symbol" in bad.text
            assert 'pattern="' not in page.text  # the browser must not refuse a stub number
            from urllib.parse import quote

            api = c.get(f"/v1/receipts/{quote(printed)}")
            assert api.status_code == 200 and api.json()["receipt_id"] == ballot.receipt_id, api.text
            bad_api = c.get(f"/v1/receipts/{quote(typo)}")
            assert bad_api.status_code == 422 and "check symbol" in bad_api.json()["error"]["message"]
    finally:
        store.close()

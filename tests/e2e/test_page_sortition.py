"""The results page's sortition section, French and English: headless Chromium over a real
``pbcount serve --sortition DIR --sortition DIR`` (one record signed with the server's results
key, one tampered copy), the panel ids, quota counts and verification state read back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.api_fixtures import REPO, serving
from helpers.browser import ARTIFACTS, BROWSER_MARKS, CHROMIUM, LAUNCH_ARGS
from helpers.sortition_records import PANEL, SEED, draw_record, tampered_copy

pytestmark = BROWSER_MARKS

WORDS = {
    "fr": {"title": "Tirages au sort", "ok": "Vérifié par le serveur", "bad": "NON VÉRIFIÉ",
           "check": "Comment vérifier ce tirage", "probs": "médiane 0,3333"},
    "en": {"title": "Sortition draws", "ok": "Verified by the server", "bad": "NOT VERIFIED",
           "check": "How to check this draw", "probs": "median 0.3333"},
}


@pytest.fixture(scope="module")
def served(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("sortition-page")
    keys = small_paris / "keys"
    good = draw_record(work / "panel-2026", keys)
    bad = tampered_copy(good, work / "panel-tampered")
    with serving("--db", f"sqlite:///{work / 'pbcount.db'}", "--keys", str(keys), "--election",
                 str(small_paris / "election.toml"), "--sortition", str(good), "--sortition", str(bad),
                 ready="/v1/sortition") as (base, _):
        yield base, good


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_section_shows_each_draw(served: tuple[str, Path], lang: str) -> None:
    from playwright.sync_api import sync_playwright

    base, good = served
    w = WORDS[lang]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/?lang={lang}")
            section = page.locator("#sortition")
            assert section.locator("h2").inner_text() == w["title"]
            rec = page.locator("#sortition-panel-2026")
            assert rec.get_attribute("data-verified") == "1"
            assert w["ok"] in rec.locator(".sort-status").inner_text()
            assert rec.locator("ul.panel-ids li").all_inner_texts() == PANEL
            assert rec.locator(".sort-seed").inner_text() == SEED
            counts = {r.get_attribute("data-quota"): r.get_attribute("data-count")
                      for r in rec.locator("table.sort-quotas tbody tr").all()}
            assert counts == {"gender=f": "2", "gender=m": "2", "age=16-29": "1", "age=30-59": "2", "age=60+": "1",
                              "district=north": "2", "district=south": "2"}
            assert w["probs"] in rec.locator(".sort-probs").inner_text()
            assert w["check"] in rec.inner_text()
            cmd = rec.locator("pre.sort-verify").inner_text()
            assert "pbcount sortition verify panel-2026 --key results.pub" in cmd
            assert f'curl -fO "{base}/v1/sortition/panel-2026/files/{{' in cmd
            # every download link gives the record's file, byte for byte
            hrefs = [a.get_attribute("href") or "" for a in rec.locator(".sort-files a").all()]
            assert sorted(h.rsplit("/", 1)[1] for h in hrefs) == sorted(f.name for f in good.iterdir())
            for href in hrefs:
                assert page.request.get(base + href).body() == (good / href.rsplit("/", 1)[1]).read_bytes()
            # the tampered copy is shown, and shown as not verified, with the reason
            bad = page.locator("#sortition-panel-tampered")
            assert bad.get_attribute("data-verified") == "0"
            assert w["bad"] in bad.locator(".sort-status").inner_text()
            assert any("panel.csv: changed since it was signed" in x
                       for x in bad.locator("ul.sort-problems li").all_inner_texts())
            assert bad.locator("ul.panel-ids li").all_inner_texts() == ["R01", "R04", "R07", "R11"]
            ARTIFACTS.mkdir(exist_ok=True)
            section.screenshot(path=str(ARTIFACTS / f"page-sortition-{lang}.png"))
        finally:
            browser.close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_the_commands_shown_verify_the_draw(served: tuple[str, Path], small_paris: Path, tmp_path: Path) -> None:
    """Run the page's "how to check" lines as shown (pbcount -> this interpreter's ``-m pbcount``)."""
    import html
    import re

    base, _ = served
    text = httpx.get(f"{base}/?lang=en").text
    shown = re.findall(r'<pre class="sort-verify">(.*?)</pre>', text, re.S)
    assert len(shown) == 2
    shutil.copy(small_paris / "keys" / "results.pub", tmp_path / "results.pub")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PBCOUNT_PROGRESS": "0"}
    runs = []
    for cmds in shown:
        script = "set -e\n" + html.unescape(cmds).replace("pbcount sortition", f"{sys.executable} -m pbcount sortition")
        runs.append(subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True))
    good, bad = runs
    assert good.returncode == 0, good.stdout + good.stderr
    assert "OK panel-2026: signature valid, the draw re-derives bit for bit" in good.stdout
    assert bad.returncode == 1 and "FAIL panel.csv: changed since it was signed" in bad.stdout


def test_the_section_fits_a_phone(served: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    base, _ = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{base}/?lang=fr")
            assert page.locator("#sortition-panel-2026 ul.panel-ids li").count() == 4
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        finally:
            browser.close()

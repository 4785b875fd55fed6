"""The public results page in a real browser: headless Debian Chromium (Playwright) over a
real ``pbcount serve`` (uvicorn) on 127.0.0.1.

Checks that the charts and tables show the numbers of the count (read back from the
JSON API and from the downloaded CSV), that the page works without JavaScript, and that a
voter can check a receipt (ballot line shown, inclusion proof verified). Screenshots are
saved under ``test-artifacts/``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.api_fixtures import serving
from helpers.browser import ARTIFACTS, BROWSER_MARKS, CHROMIUM, LAUNCH_ARGS

from engine.formats.bundle import publish_store
from engine.formats.election_definition import load_election
from engine.services.count import count_store
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import RESULTS, load_private_key, load_public_key, load_receipt_secret
from engine.storage.store import Store

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def served(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A counted and published store of the small Paris fixture, served by ``pbcount serve``."""
    work = tmp_path_factory.mktemp("served")
    db = f"sqlite:///{work / 'pbcount.db'}"
    keys = small_paris / "keys"
    store = Store.open(db)
    e = load_election(small_paris / "election.toml")
    ingest_evote_file(store, small_paris / "evotes.jsonl", e, load_public_key(keys), load_receipt_secret(keys),
                      workers=1)
    count_store(store)
    publish_store(store, load_private_key(keys, RESULTS), work / "bundle")
    receipt = next(iter(store.iter_ballots())).receipt_id
    store.close()
    with serving("--db", db, "--keys", str(keys), "--bundle-dir", str(work / "bundle"),
                 ready="/v1/results") as (base, _):
        yield {"base": base, "receipt": receipt, "results": httpx.get(f"{base}/v1/results").json(),
               "tree_head": httpx.get(f"{base}/v1/tree-head").json()}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


def test_page_shows_the_count(served: dict, browser: object, tmp_path: Path) -> None:
    doc = served["results"]
    page = browser.new_page(viewport={"width": 1280, "height": 1800}, accept_downloads=True)  # type: ignore[attr-defined]
    page.goto(f"{served['base']}/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert doc["election"]["name"] in page.locator("h1").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results-page-en.png"))

    # turnout table = the count's turnout
    tu = doc["turnout"]
    for key, value in (("online", tu["online"]), ("paper", tu["paper"]), ("counted", tu["ballots_counted"]),
                       ("superseded", tu["superseded"]), ("rejected", tu["rejected"])):
        cell = page.locator(f'#turnout td[data-key="{key}"]').inner_text()
        assert int(cell.replace(",", "")) == value, key
    assert tu["ballots_counted"] > 1000  # the small fixture really was counted

    # per envelope: one chart bar and one table row per project, funded ones highlighted
    assert page.locator("section.envelope").count() == len(doc["envelopes"])
    for env in (doc["envelopes"][0], doc["envelopes"][11]):
        sec = page.locator(f"#env-{env['id']}")
        if not sec.locator("details").evaluate("d => d.open"):
            sec.locator("summary").click()
        bars = sec.locator(".chart .bar")
        assert bars.count() == len(env["projects"])
        assert sec.locator(".chart .bar.funded").count() == env["projects_funded"]
        first = env["projects"][0]
        bar = sec.locator(f'.chart .bar[data-project="{first["id"]}"]')
        assert int(bar.get_attribute("data-votes")) == first["votes_total"]
        assert bar.locator("i").bounding_box()["width"] > 0
        assert first["title"] in (bar.locator(".label").get_attribute("title") or "")
        row = sec.locator(f'table.projects tr[data-project="{first["id"]}"]')
        assert row.is_visible()
        assert int(row.locator("td.votes").inner_text().replace(",", "")) == first["votes_total"]
        assert sec.locator("table.projects tbody tr.funded").count() == env["projects_funded"]
        if sum(p["cost"] for p in env["projects"]) > env["budget"]:
            assert sec.locator(".chart .budget-line").count() == 1
    assert page.locator("#budget-bar").is_visible() and page.locator("#popular-bar").is_visible()
    share = page.locator("#popular-share").inner_text()
    assert share == f"{100 * doc['popular_neighbourhood']['share_of_spent']:.1f}%"

    # published tree head and manifest hash
    assert page.locator("#tree-root").inner_text() == served["tree_head"]["root_hash"]
    assert page.locator("#manifest-hash").inner_text() == served["tree_head"]["manifest_sha256"]

    page.locator("#env-ar11").screenshot(path=str(ARTIFACTS / "results-envelope-ar11-en.png"))

    # the CSV download link gives the same votes as the chart data
    with page.expect_download() as dl:
        page.click("#dl-projects")
    path = tmp_path / "projects.csv"
    dl.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    votes = {(r["envelope_id"], r["project_id"]): int(r["votes_total"]) for r in rows}
    assert votes == {(e["id"], p["id"]): p["votes_total"] for e in doc["envelopes"] for p in e["projects"]}
    page.close()


def test_receipt_check_in_the_browser(served: dict, browser: object) -> None:
    page = browser.new_page(locale="fr-FR")  # type: ignore[attr-defined]
    page.goto(f"{served['base']}/")  # language from Accept-Language
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_label("Numéro de reçu").fill(served["receipt"].lower())
    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_url("**/receipt?**")
    assert page.locator("#receipt-status").inner_text() == "Votre bulletin figure dans le dossier publié."
    assert served["receipt"] in page.locator("#ballot-line").inner_text()
    verdict = page.locator("#proof-verdict")
    assert "ok" in (verdict.get_attribute("class") or "") and "valide" in verdict.inner_text()
    # the browser recomputed the hashes itself (WebCrypto) and reached the published root
    browser_verdict = page.locator("#browser-verdict.ok")
    browser_verdict.wait_for(timeout=10_000)
    assert "Vérifié aussi par votre navigateur" in browser_verdict.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "receipt-check-fr.png"), full_page=True)
    receipt_url = page.url

    # a page whose published root was tampered with must fail the in-browser check
    root = served["tree_head"]["root_hash"]

    def tamper(route: object) -> None:
        response = route.fetch()  # type: ignore[attr-defined]
        route.fulfill(response=response, body=response.text().replace(root, "0" * 64))  # type: ignore[attr-defined]

    page.route("**/receipt?**", tamper)
    page.goto(receipt_url)
    bad = page.locator("#browser-verdict.bad")
    bad.wait_for(timeout=10_000)
    assert "PAS pu vérifier" in bad.inner_text()
    page.unroute("**/receipt?**")
    page.goto(f"{served['base']}/")
    page.get_by_label("Numéro de reçu").fill("R000000000000000")
    page.get_by_role("button", name="Vérifier").click()
    assert page.locator("#receipt-status").inner_text() == "Aucun bulletin publié ne porte ce reçu."
    page.close()


def test_tables_work_without_javascript(served: dict, browser: object) -> None:
    ctx = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = ctx.new_page()
    page.goto(f"{served['base']}/?lang=en")
    env = served["results"]["envelopes"][0]
    assert page.locator(f"#table-{env['id']} tbody tr").count() == len(env["projects"])
    assert page.locator("#turnout").is_visible()
    ctx.close()


# the page's text must stay readable and fit the screen on a phone and on a desktop
MIN_FONT_PX = 12


@pytest.mark.parametrize("width", [390, 1280])
def test_page_fits_and_is_readable(served: dict, browser: object, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page.goto(f"{served['base']}/?lang=fr")
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"results-page-{width}px.png"), full_page=True)
    page.locator("section.envelope").first.screenshot(path=str(ARTIFACTS / f"results-envelope-{width}px.png"))
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page is {scroll_width} px wide on a {width} px screen"
    # smallest rendered font size of any visible text (charts included), measured in the browser
    smallest = page.evaluate("""() => {
        let min = 1e9, where = '';
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const n = walker.currentNode, el = n.parentElement;
            if (!n.textContent.trim() || !el || el.closest('script,style,head')) continue;
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) continue;
            const ctm = el.closest('svg') ? el.closest('svg').getScreenCTM() : null;
            const size = parseFloat(getComputedStyle(el).fontSize) * (ctm ? ctm.a : 1);
            if (size < min) { min = size; where = el.outerHTML.slice(0, 80); }
        }
        return [min, where];
    }""")
    assert smallest[0] >= MIN_FONT_PX, f"text {smallest[0]:.1f} px high: {smallest[1]}"
    # chart rows carry the project title (full title on hover/focus)
    env = served["results"]["envelopes"][0]
    label = page.locator(f'#chart-{env["id"]} .bar .label').first
    assert env["projects"][0]["title"] in (label.get_attribute("title") or "")
    # French page: the rule is in French, and why each project was (not) funded is shown
    assert "glouton" in page.locator(f"#env-{env['id']} .rule").inner_text()
    assert page.locator(f"#table-{env['id']} td.reason").count() == len(env["projects"])
    page.close()


def test_docs_page_is_self_contained(served: dict) -> None:
    r = httpx.get(f"{served['base']}/docs")
    assert r.status_code == 200 and "/v1/results" in r.text
    import re

    hosts = re.findall(r"""(?:src|href)=["']?(?:https?:)?//([^/"' >]+)""", r.text)
    assert hosts == [], f"/docs references external hosts: {hosts}"


def test_swagger_try_it_out_works_offline(served: dict, browser: object) -> None:
    """Issue 17: Swagger UI at /docs/try loads with every request outside this server refused
    (an offline counting network), and "Try it out" / "Execute" gets a real answer."""
    page = browser.new_page(viewport={"width": 1280, "height": 1800})  # type: ignore[attr-defined]
    outside: list[str] = []

    def only_local(route, request) -> None:  # type: ignore[no-untyped-def]
        if request.url.startswith(served["base"]):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{served['base']}/docs/try")
    op = page.locator("#operations-results-get_results_v1_results_get, .opblock-get:has([data-path='/v1/results'])")
    op.first.locator(".opblock-summary").click()
    page.locator(".opblock.is-open .btn.execute").first.click()
    status = page.locator(".opblock.is-open .live-responses-table tr.response .response-col_status").first
    status.wait_for(timeout=15_000)
    assert status.inner_text().strip().startswith("200")
    assert outside == [], f"Swagger UI fetched outside the server: {outside}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "docs-try-it-out.png"))
    page.close()


def test_page_is_compressed(served: dict) -> None:
    r = httpx.get(f"{served['base']}/?lang=en", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"
    assert int(r.headers["content-length"]) < len(r.content) / 3


def test_how_to_verify_section(served: dict, browser: object) -> None:
    """The fingerprint is the one the stand-alone verifier prints, and the verifier downloads."""
    import hashlib

    from cryptography.hazmat.primitives import serialization

    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{served['base']}/?lang=en")
    pem = httpx.get(f"{served['base']}/v1/bundle")  # the zip carries bundle/results.pub
    import zipfile

    key = serialization.load_pem_public_key(zipfile.ZipFile(io.BytesIO(pem.content)).read("bundle/results.pub"))
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert page.locator("#key-fingerprint").inner_text() == hashlib.sha256(raw).hexdigest()[:16]
    assert "pbcount-verifier.zip bundle --key" in page.locator("#verify-commands").inner_text()
    href = page.locator("#dl-verifier").get_attribute("href")
    r = httpx.get(f"{served['base']}{href}")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    page.close()

"""The results page shows each approval envelope's published fairness figures (the bundle's
``fairness.json``): headless Chromium over ``pbcount serve`` on the small Paris fixture,
the figures read back against the file itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.api_fixtures import serving
from helpers.browser import BROWSER_MARKS, CHROMIUM, LAUNCH_ARGS

from engine.formats.bundle import publish_store
from engine.formats.election_definition import load_election
from engine.services.count import count_store
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import RESULTS, load_private_key, load_public_key, load_receipt_secret
from engine.storage.store import Store

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def served(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("fair-page")
    db = f"sqlite:///{work / 'pbcount.db'}"
    keys = small_paris / "keys"
    store = Store.open(db)
    ingest_evote_file(store, small_paris / "evotes.jsonl", load_election(small_paris / "election.toml"),
                      load_public_key(keys), load_receipt_secret(keys), workers=1)
    count_store(store)
    publish_store(store, load_private_key(keys, RESULTS), work / "bundle")
    store.close()
    with serving("--db", db, "--keys", str(keys), "--bundle-dir", str(work / "bundle"),
                 ready="/v1/results") as (base, _):
        yield base, work / "bundle"


def test_each_envelope_shows_its_published_fairness(served: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    base, bundle = served
    reports = {k: v["report"] for k, v in json.loads((bundle / "fairness.json").read_text())["envelopes"].items()}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/?lang=en")
            for env_id, r in reports.items():
                para = page.locator(f"#env-{env_id} p.fairness")
                assert para.count() == 1, env_id
                assert float(para.get_attribute("data-nothing") or "nan") == r["nothing_funded_share"]
                assert para.get_attribute("data-ejr") == str(int(r["ejr"]["satisfied"]))
                text = para.text_content() or ""
                assert f"{100 * r['nothing_funded_share']:.1f}%" in text
                if not r["ejr"]["satisfied"]:
                    assert f"{r['ejr']['witness']['group_size']} voters supporting" in text
        finally:
            browser.close()

"""The results page of a grades + for-against election in a real browser (headless Debian
Chromium via Playwright over ``pbcount serve``): each grade project's profile is a stacked
bar with the median marked and its majority grade; for-against projects show both counts.
The election is the hand-checked one of tests/integration/test_ballot_types_e2e.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.api_fixtures import serving
from helpers.ballot_types_world import GOOD, TOP, build_world
from helpers.browser import ARTIFACTS, BROWSER_MARKS, CHROMIUM, LAUNCH_ARGS

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    w = build_world(tmp_path_factory.mktemp("types-page"))
    with serving("--db", w["db"], "--keys", str(w["root"] / "keys"), "--bundle-dir", str(w["bundle"]),
                 ready="/v1/results") as (url, _):
        yield url


def test_grade_profiles_are_stacked_bars_with_the_median_marked(base: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.goto(f"{base}/?lang=en")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "results-page-grades.png"), full_page=True)
            chart = page.locator("#grades-g")
            assert "Grade profile" in chart.locator("figcaption").inner_text()
            rows = chart.locator(".bar")
            # rank order C, B, A; every majority grade is "J'aime bien" (worked out by hand)
            assert [rows.nth(i).get_attribute("data-project") for i in range(3)] == ["C", "B", "A"]
            assert {rows.nth(i).get_attribute("data-median") for i in range(3)} == {GOOD}
            a = chart.locator('.bar[data-project="A"]')
            assert a.locator("line.median").count() == 1
            rects = a.locator("svg rect[fill]:not([fill='#eef1f4'])")
            assert rects.count() == 4  # one segment per grade, best first
            assert rects.nth(0).locator("title").text_content() == f"{TOP}: 2"
            widths = [float(rects.nth(i).get_attribute("width") or 0) for i in range(4)]
            assert widths == pytest.approx([240.0, 120.0, 120.0, 120.0])  # 2/5, 1/5, 1/5, 1/5 of 600
            assert a.locator(".median-grade").inner_text() == GOOD
            x = page.locator('#chart-f .bar[data-project="X"] .for-against')
            assert (x.get_attribute("data-for"), x.get_attribute("data-against")) == ("2", "2")
            assert "for 2, against 2" in (x.text_content() or "")
            # fairness.json over supported projects (hand-checked in test_ballot_types_e2e.py)
            g_fair, f_fair = page.locator("#env-g p.fairness"), page.locator("#env-f p.fairness")
            assert (g_fair.get_attribute("data-nothing"), f_fair.get_attribute("data-nothing")) == ("0.0", "0.2")
            assert "graded above" in g_fair.inner_text() and "voted for it" in f_fair.inner_text()
            assert g_fair.get_attribute("data-ejr") is None  # no EJR verdict on grade ballots
        finally:
            browser.close()

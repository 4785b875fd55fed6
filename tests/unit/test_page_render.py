"""The results page's words, rendered from hand-made results documents (no server)."""

from __future__ import annotations

from typing import Any

from api.i18n import TEXT
from api.page import quota_verdict, render_receipt_page


def _doc(missed: list[bool], share: float) -> dict[str, Any]:
    envs = [{"id": f"e{i}", "name": f"Env {i}", "quotas": [{"name": "pn", "met": not m}]}
            for i, m in enumerate(missed)]
    return {"popular_neighbourhood": {"share_of_spent": share, "quota_share": 1 / 3, "quota_declared": True,
                                      "quota_met": not any(missed)}, "envelopes": envs}


def test_quota_met_city_wide_but_missed_in_some_envelopes_says_so() -> None:
    html = quota_verdict(_doc([True, False, True, False], 0.38), TEXT["en"], "en")
    assert "met city-wide" in html and "missed in 2 of 4 envelopes" in html
    assert 'href="#env-e0"' in html and 'href="#env-e2"' in html and "#env-e1" not in html
    assert "quota not met" not in html


def test_quota_met_everywhere_and_missed_city_wide() -> None:
    assert "met in every envelope" in quota_verdict(_doc([False, False], 0.4), TEXT["en"], "en")
    fr = quota_verdict(_doc([True, False], 0.2), TEXT["fr"], "fr")
    assert "objectif non atteint" in fr and "manqué dans 1 enveloppe(s) sur 2" in fr


def test_unknown_receipt_page_offers_a_next_step() -> None:
    html = render_receipt_page({"receipt_id": "R000000000000000", "status": "not_found"}, "fr", "Ville")
    assert 'id="receipt-next"' in html and "mairie" in html
    assert 'action="/receipt"' in html  # the form to try again

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


def test_a_lost_tie_names_the_winner_with_its_title() -> None:
    """Issue 17: "tie lost to X" on the page, X read from what the rule itself wrote."""
    from api.page import projects_table
    from api.results_view import tie_winners
    from engine.rules.greedy import greedy
    from engine.rules.problem import AllocationProblem

    # A and B tie on 10 votes; A (cheaper) goes first and B no longer fits
    result = greedy(AllocationProblem(("A", "B", "C"), (60, 70, 10), (10.0, 10.0, 3.0), 100))
    out = {o.project_id: o for o in result.outcomes}
    assert out["B"].reason == "tie_lost"
    assert tie_winners(out["B"].reason, out["B"].detail) == ["A"]
    assert tie_winners(out["C"].reason, out["C"].detail) == []

    def row(pid: str, title: str, cost: int) -> dict[str, Any]:
        o = out[pid]
        return {"id": pid, "title": title, "cost": cost, "popular_neighbourhood": False, "votes_online": 10,
                "votes_paper": 0, "votes_total": 10, "rank": o.rank, "selected": o.selected,
                "reason": o.reason, "tie_lost_to": tie_winners(o.reason, o.detail)}

    env = {"id": "e", "name": "Env", "projects": [row("A", "Park", 60), row("B", "Library", 70),
                                                  row("C", "Bench", 10)]}
    en = projects_table(env, TEXT["en"], "en", "EUR")
    assert "did not fit after losing a tie — " in en and "tie lost to A (Park)" in en
    fr = projects_table(env, TEXT["fr"], "fr", "EUR")
    assert "égalité perdue face à A (Park)" in fr and "tie lost" not in fr

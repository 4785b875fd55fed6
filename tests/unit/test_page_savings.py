"""The results page of a savings envelope (reverse PB): target vs reached, one bar per
sector, why each line was or was not cut, in French and English.

Counted from fixtures/samples/savings_election.toml with the votes of
tests/e2e/test_savings_election.py (cuts-exact cuts L5 alone: 150,000 for a 100,000 target).
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import pytest

from api.page import render_results_page
from api.results_view import results_document
from engine.counting.count import count_ballots
from engine.formats.election_definition import load_election
from engine.model.ballots import Ballot, Channel, SourceRef, ballot_key

SAVINGS = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "savings_election.toml"
VOTES = [["L1", "L3"], ["L1", "L3"], ["L1", "L2", "L4"], ["L1", "L2", "L5"], ["L2", "L4"], ["L3", "L4"],
         ["L1", "L5"]]


def page(lang: str) -> str:
    election = load_election(SAVINGS)
    ballots = []
    for n, chosen in enumerate(VOTES, start=1):
        sel = (("cuts", tuple(chosen)),)
        when = "2026-05-10T10:00:00.000000Z"
        serial = f"V{n:015d}"
        ballots.append(Ballot(ballot_key(Channel.ONLINE, serial, when, sel, None), serial, Channel.ONLINE, when,
                              sel, SourceRef("t", n), receipt_id=f"R{n:015d}"))
    doc = results_document(count_ballots(election, ballots), "2026-06-01T10:00:00Z", None)
    sav = doc["envelopes"][0]["savings"]
    assert (sav["target"], sav["saved"], sav["overshoot"]) == (100_000, 150_000, 50_000)
    return render_results_page(doc, None, lang, election.name)


@pytest.mark.parametrize(("lang", "words"), [
    ("fr", ["Objectif d'économies", "Économies réalisées", "Dépassement", "Lignes de dépense",
            "fait partie des suppressions les moins contestées", "gardée : la supprimer ajouterait",
            "au moins 2 secteurs"]),
    ("en", ["Savings target", "Savings reached", "Overshoot", "Spending lines",
            "part of the least-opposed set of cuts", "kept: cutting it would add opposition", "at least 2 sectors"]),
])
def test_savings_section_in_both_languages(lang: str, words: list[str]) -> None:
    html = page(lang)
    for w in words:
        assert escape(w) in html, w
    # one bar per sector, each with its spending before/after and its limit marker
    assert re.findall(r'data-sector="([^"]+)"', html) == ["culture", "environment", "roads"]
    assert html.count('<svg id="sector-cuts-') == 3
    roads = html[html.index('data-sector="roads"'):]
    assert 'data-saved="150000"' in roads[:60]
    assert ("500\u202f000" if lang == "fr" else "500,000") in roads[:400]


def test_budget_envelopes_have_no_savings_section() -> None:
    from api.i18n import TEXT
    from api.page import envelope_section

    env = {"id": "city", "name": "City", "budget": 100, "spent": 60, "left_over": 40, "projects_funded": 1,
           "ballots": {"online": 1, "paper": 0, "total": 1}, "rule": "greedy", "projects": []}
    assert "Savings target" not in envelope_section(env, TEXT["en"], "en", "EUR", False)

"""``pbcount allocate FILE.pb`` reproduces every official outcome it can.

For every real file in ``../shared/pabulib`` with a ``selected`` column: if its META rule
has a pbcount equivalent, the rule with default settings (tie-break ``votes-cost-id``)
must select exactly the projects marked ``selected = 1``. Files whose META rule is a local
rule pbcount does not implement are listed in ``UNSUPPORTED`` (explained in
``docs/rules.md``); the test fails if that list changes either way, and if any supported
file stops matching.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import pabulib_dir
from typer.testing import CliRunner

from engine.formats.pabulib import allocation_problem, official_rule, read_pabulib
from engine.rules import PROFILE_RULES, RULES
from pbcount.cli import app

pytestmark = pytest.mark.pabulib

# META rule has no pbcount equivalent (docs/rules.md, "Official outcomes")
UNSUPPORTED = {
    "Hungary_Budapest_2024.pb": "unknown",
    "Hungary_Budapest_2025_VIII_Jozsefvaros.pb": "unknown",
    "Hungary_Budapest_2025_XI_Ujbuda.pb": "unknown",
    "Hungary_Veszprem_2025.pb": "unknown",
    "Poland_Warszawa_2021_Ursynow.pb": "greedy-exclusive",
    "Poland_Warszawa_2024_Bemowo.pb": "greedy-exclusive",
    "Poland_Warszawa_2024_Bielany.pb": "greedy-exclusive",
    "Poland_Warszawa_2024_Mokotow.pb": "greedy-exclusive",
    "Poland_Warszawa_2024_Wola.pb": "greedy-exclusive",
}
# Method of Equal Shares cities (the issue names them explicitly)
MES_CITIES = ["Poland_Wieliczka_2023_Green_Budget.pb", "Poland_Swiecie_2023.pb", "Netherlands_Assen_2024.pb"]


def test_every_supported_official_outcome_is_reproduced() -> None:
    unsupported: dict[str, str] = {}
    mismatches: list[tuple[str, str, list[str], list[str]]] = []
    checked = 0
    for f in sorted(pabulib_dir().glob("*.pb")):
        inst = read_pabulib(f)
        official = inst.official_selection()
        if official is None:
            continue
        try:
            rule = official_rule(inst)
        except ValueError:
            unsupported[f.name] = inst.rule
            continue
        problem = allocation_problem(inst, with_profile=rule in PROFILE_RULES)
        ours = RULES[rule](problem, "votes-cost-id")
        checked += 1
        if set(ours.selected) != set(official):
            mismatches.append((f.name, rule, sorted(set(ours.selected) - set(official)),
                               sorted(set(official) - set(ours.selected))))
    assert mismatches == []
    assert unsupported == UNSUPPORTED
    assert checked >= 120


@pytest.mark.parametrize("name", MES_CITIES)
def test_mes_cities_through_the_cli(name: str) -> None:
    f = pabulib_dir() / name
    res = CliRunner().invoke(app, ["allocate", str(f), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rule"].startswith("mes-add1")
    assert sorted(doc["selected"]) == sorted(read_pabulib(f).official_selection() or ())
    assert doc["matches_official"] is True
    assert doc["cost"] <= doc["budget"]


def test_lexicographic_tie_break_loses_two_warsaw_ties() -> None:
    """pabutools' string order ("1534" < "64") does not reproduce these two official results,
    the default cost-then-id tie-break does (documented in docs/rules.md)."""
    for name in ("Poland_Warszawa_2026_Stary_Mokotow.pb", "Poland_Warszawa_2026_Marymont-Potok_Stary_Zoliborz.pb"):
        inst = read_pabulib(Path(pabulib_dir() / name))
        problem = allocation_problem(inst, with_profile=False)
        official = set(inst.official_selection() or ())
        assert set(RULES["greedy"](problem, "votes-cost-id").selected) == official
        assert set(RULES["greedy"](problem, "lexicographic").selected) != official


WARSAW_EXCLUSIVE_2024 = ["Poland_Warszawa_2024_Bemowo.pb", "Poland_Warszawa_2024_Bielany.pb",
                         "Poland_Warszawa_2024_Mokotow.pb", "Poland_Warszawa_2024_Wola.pb"]


@pytest.mark.parametrize("name", WARSAW_EXCLUSIVE_2024)
def test_warsaw_2024_greedy_exclusive_files_are_reproduced_with_no_binding_exclusion(name: str) -> None:
    """The files name no exclusive projects (their comments are about ages and a voting
    glitch): greedy-exclusive without groups, i.e. greedy, gives the city's winners."""
    from engine.rules.exclusive import greedy_exclusive

    inst = read_pabulib(pabulib_dir() / name)
    assert inst.rule == "greedy-exclusive" and "exclusive" not in inst.meta.get("comment", "").lower()
    problem = allocation_problem(inst, with_profile=False)
    assert set(greedy_exclusive(problem).selected) == set(inst.official_selection() or ())


def test_ursynow_2021_city_choice_is_not_a_greedy_exclusive_outcome() -> None:
    """Its comment: projects 459, 1687 and 2150 overlap and the city kept 2150. As one
    exclusive group the rule funds 1687 (most votes of the three) — the city kept the one
    with the fewest, so its choice is not derivable from the file (docs/rules.md)."""
    from dataclasses import replace

    from engine.rules.exclusive import greedy_exclusive
    from engine.rules.problem import ExclusiveGroup

    inst = read_pabulib(pabulib_dir() / "Poland_Warszawa_2021_Ursynow.pb")
    assert "459, 1687, and 2150 overlapped" in inst.meta["comment"]
    problem = replace(allocation_problem(inst, with_profile=False),
                      exclusive=(ExclusiveGroup("Kabaty", frozenset({"459", "1687", "2150"})),))
    ours, official = set(greedy_exclusive(problem).selected), set(inst.official_selection() or ())
    assert "1687" in ours and "2150" not in ours and "2150" in official and "1687" not in official

"""``pbcount allocate FILE.pb --rule cuts-greedy|cuts-exact``: a reverse PB on a pabulib file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pbcount.cli import app

# lines = projects (cost = saving), approvals = votes to cut, budget = the savings target
PB = """META
key;value
description;Reverse PB town
country;France
unit;Town
instance;2026
num_projects;4
num_votes;10
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name;category
A;100;Festival;culture
B;40;Pool hours;sport
C;40;Library Sunday;culture
D;30;Flower beds;environment
VOTES
voter_id;vote
v1;A,B,C,D
v2;A,B,C,D
v3;A,B,C,D
v4;A,B,C,D
v5;A,B,C,D
v6;A,B,C,D
v7;B,C
v8;B
v9;
v10;
"""

runner = CliRunner()


def run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    f = tmp_path / "savings.pb"
    f.write_text(PB, encoding="utf-8")
    res = runner.invoke(app, ["allocate", str(f), *args])
    return res.exit_code, res.stdout, res.stderr


def test_greedy_and_exact_with_the_meta_budget_as_target(tmp_path: Path) -> None:
    # votes to cut: A 6, B 8, C 7, D 6 of 10 voters (the hand-checked case of tests/unit/test_cuts.py)
    code, out, _ = run(tmp_path, "--rule", "cuts-greedy", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["selected"] == ["B", "C", "A"] and doc["saved"] == 180 and doc["target"] == 100
    assert doc["overshoot"] == 80
    code, out, _ = run(tmp_path, "--rule", "cuts-exact", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["selected"] == ["A"] and doc["overshoot"] == 0


def test_target_option_and_sector_limits(tmp_path: Path) -> None:
    doc = json.loads(run(tmp_path, "--rule", "cuts-greedy", "--target", "70", "--json")[1])
    assert doc["selected"] == ["B", "C"] and doc["target"] == 70
    # at most one cut per sector: greedy cuts B (sport) and C (culture), skips A (culture), cuts D:
    # 110 < 150, yet A + B + D = 170 reaches it, so greedy's error names cuts-exact
    code, _, err = run(tmp_path, "--rule", "cuts-greedy", "--target", "150", "--sector-max-cuts", "1")
    assert code == 2 and "stops at 110 of the target 150" in " ".join(err.split())
    assert "use cuts-exact" in " ".join(err.split())
    doc = json.loads(run(tmp_path, "--rule", "cuts-exact", "--target", "150", "--sector-max-cuts", "1",
                         "--json")[1])
    assert set(doc["selected"]) == {"A", "B", "D"} and doc["saved"] == 170
    # at most 50 % of each sector's spending: culture 140 -> 70, sport 40 -> 20, environment 30 -> 15:
    # only C (40) can go
    doc = json.loads(run(tmp_path, "--rule", "cuts-greedy", "--target", "40", "--sector-max-share", "50",
                         "--json")[1])
    assert doc["selected"] == ["C"]
    b = next(o for o in doc["outcomes"] if o["project_id"] == "B")
    assert b["reason"] == "sector_limit" and "sport: at most 20 saved" in b["detail"]
    code, _, err = run(tmp_path, "--rule", "cuts-exact", "--target", "80", "--sector-max-share", "50")
    assert code == 2 and "at most 40 can be saved (sector limits applied)" in " ".join(err.split())


def test_infeasible_target_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "--rule", "cuts-exact", "--target", "500")
    assert code == 2
    assert "savings target 500 cannot be reached: at most 210 can be saved" in " ".join(err.split())

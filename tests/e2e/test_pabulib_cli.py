"""``pbcount allocate``, ``pbcount import pabulib`` and ``pbcount export pabulib``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from engine.formats.pabulib import read_pabulib
from pbcount.cli import app

PB = """META
key;value
description;CLI town
country;Nowhere
unit;Town
instance;2026
num_projects;4
num_votes;5
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name;selected
10;60;Big;1
9;50;Medium;0
2;40;Small;1
3;30;Tiny;0
VOTES
voter_id;vote;voting_method
a;10,9;internet
b;10,2;paper
c;9,2;internet
d;10;internet
e;3;paper
"""

runner = CliRunner()


def write(tmp_path: Path, text: str = PB) -> Path:
    f = tmp_path / "town.pb"
    f.write_text(text, encoding="utf-8")
    return f


def test_allocate_json_uses_the_meta_rule_and_checks_the_official_outcome(tmp_path: Path) -> None:
    res = runner.invoke(app, ["allocate", str(write(tmp_path)), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    # votes: 10 -> 3, 9 -> 2, 2 -> 2, 3 -> 1. Greedy: 10 (60), then 2 (40, cheaper of the tie), 9 does not fit
    assert doc["rule"] == "greedy" and doc["tie_break"] == "votes-cost-id"
    assert doc["selected"] == ["10", "2"] and doc["cost"] == 100 and doc["budget"] == 100
    assert doc["matches_official"] is True
    reasons = {o["project_id"]: o["reason"] for o in doc["outcomes"]}
    # 9 would not fit even without 2 (40 left < 50): did_not_fit, not a lost tie
    assert reasons == {"10": "funded", "2": "funded", "9": "did_not_fit", "3": "did_not_fit"}


def test_allocate_rules_and_tie_breaks(tmp_path: Path) -> None:
    f = write(tmp_path)
    lex = json.loads(runner.invoke(app, ["allocate", str(f), "--json", "--tie-break", "lexicographic"]).stdout)
    assert lex["selected"] == ["10", "2"]  # "2" < "9" as strings too
    stop = json.loads(runner.invoke(app, ["allocate", str(f), "--json", "--rule", "greedy-stop",
                                          "--tie-break", "votes-id"]).stdout)
    assert stop["selected"] == ["10", "2"]
    assert {o["project_id"]: o["reason"] for o in stop["outcomes"]}["3"] == "stopped"
    exact = json.loads(runner.invoke(app, ["allocate", str(f), "--json", "--rule", "exact"]).stdout)
    assert sorted(exact["selected"]) == ["10", "2"]  # 5 votes; every other feasible set has <= 4
    # MES, 20 per voter: 10 is paid 20 each by a, b, d; then 2's supporters hold 0 + 20 < 40
    mes = json.loads(runner.invoke(app, ["allocate", str(f), "--json", "--rule", "mes"]).stdout)
    assert mes["selected"] == ["10"] and mes["matches_official"] is False
    table = runner.invoke(app, ["allocate", str(f)])
    assert table.exit_code == 0 and "reproduces the official outcome" in table.stdout


def test_allocate_errors_are_one_clear_line(tmp_path: Path) -> None:
    bad = write(tmp_path, PB.replace("c;9,2;internet", "c;9,7;internet"))
    res = runner.invoke(app, ["allocate", str(bad), "--json"])
    assert res.exit_code == 2
    assert "town.pb:22: voter 'c': unknown project '7'" in res.output
    res = runner.invoke(app, ["allocate", str(write(tmp_path)), "--rule", "borda"])
    assert res.exit_code == 2 and "unknown rule 'borda'" in res.output
    custom = write(tmp_path, PB.replace("rule;greedy", "rule;greedy-exclusive"))
    res = runner.invoke(app, ["allocate", str(custom)])
    assert res.exit_code == 2 and "greedy-exclusive" in res.output and "--rule" in res.output


def test_import_then_export_round_trip(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'pb.db'}"
    res = runner.invoke(app, ["import", "pabulib", str(write(tmp_path)), "--db", db],
                        env={"PBCOUNT_PROGRESS": "0"})
    assert res.exit_code == 0, res.output
    assert "5 new" in res.stdout
    again = runner.invoke(app, ["import", "pabulib", str(write(tmp_path)), "--db", db],
                          env={"PBCOUNT_PROGRESS": "0"})
    assert again.exit_code == 0 and "0 new, 5 already in the store" in again.stdout
    out = tmp_path / "export"
    res = runner.invoke(app, ["export", "pabulib", "--out", str(out), "--db", db], env={"PBCOUNT_PROGRESS": "0"})
    assert res.exit_code == 0, res.output
    (pb,) = sorted(out.glob("*.pb"))
    inst = read_pabulib(pb)
    assert inst.meta["vote_type"] == "approval" and inst.meta["budget"] == "100"
    assert inst.meta["rule"] == "greedy" and inst.meta["num_votes"] == "5"
    original = read_pabulib(write(tmp_path))
    assert sorted(sorted(v.vote) for v in inst.votes) == sorted(sorted(v.vote) for v in original.votes)
    assert {v.voter_id for v in inst.votes} == {"1", "2", "3", "4", "5"}  # anonymous ids
    assert sorted(v.fields["voting_method"] for v in inst.votes) == ["internet"] * 3 + ["paper"] * 2
    assert set(inst.official_selection() or ()) == {"10", "2"}
    # the exported file allocates to the same outcome through `pbcount allocate`
    doc = json.loads(runner.invoke(app, ["allocate", str(pb), "--json"]).stdout)
    assert doc["matches_official"] is True

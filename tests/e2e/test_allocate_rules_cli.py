"""``pbcount allocate`` with majority judgment, greedy-exclusive, greedy-custom and --no-threshold
on hand-written .pb files."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pbcount.cli import app

runner = CliRunner()

HEAD = """META
key;value
description;Rules town
country;Nowhere
unit;Town
instance;2026
num_projects;{n}
num_votes;{v}
budget;{budget}
vote_type;{vote_type}
rule;{rule}
{extra}PROJECTS
"""

# 5 voters, grades 0..3; a project missing from a vote is graded default_score 0.
# Columns: A = 3,3,2,1,1  B = 3,2,2,2,0  C = 3,3,2,2,0  D = 3,3,3,2,0 (see test_rules_grades.py)
MJ = HEAD.format(n=4, v=5, budget=25, vote_type="scoring", rule="unknown",
                 extra="max_points;3\ndefault_score;0\n") + """project_id;cost;name
A;10;Allotments
B;10;Bench
C;10;Cycle lane
D;10;Drinking fountain
VOTES
voter_id;vote;points
v1;A,B,C,D;3,3,3,3
v2;A,B,C,D;3,2,3,3
v3;A,B,C,D;2,2,2,3
v4;A,B,C,D;1,2,2,2
v5;A;1
"""


def run(tmp_path: Path, text: str, *args: str):  # type: ignore[no-untyped-def]
    f = tmp_path / "town.pb"
    f.write_text(text, encoding="utf-8")
    return runner.invoke(app, ["allocate", str(f), *args])


def test_majority_judgment_on_a_scoring_file(tmp_path: Path) -> None:
    res = run(tmp_path, MJ, "--rule", "majority-judgment", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rule"] == "majority-judgment"
    assert [o["project_id"] for o in doc["outcomes"]] == ["D", "C", "B", "A"]
    assert doc["selected"] == ["D", "C"] and doc["cost"] == 20
    assert doc["grades"]["scale"] == ["0", "1", "2", "3"]
    assert doc["grades"]["counts"] == {"A": [0, 2, 1, 2], "B": [1, 0, 3, 1], "C": [1, 0, 2, 2],
                                       "D": [1, 0, 1, 3]}
    b = next(o for o in doc["outcomes"] if o["project_id"] == "B")
    assert b["reason"] == "did_not_fit"
    assert "majority grade 2; 20.0 % above, 20.0 % below: gauge 2-" in b["detail"]
    table = run(tmp_path, MJ, "--rule", "majority-judgment")
    assert table.exit_code == 0 and "majority-judgment" in table.stdout


def test_majority_judgment_bad_grade_and_wrong_vote_type(tmp_path: Path) -> None:
    res = run(tmp_path, MJ.replace("v4;A,B,C,D;1,2,2,2", "v4;A,B,C,D;1,2,4,2"), "--rule", "majority-judgment")
    assert res.exit_code == 2
    assert "town.pb:25: voter 'v4': points 4 for project 'C' is not a grade (0..3)" in res.output
    approval = MJ.replace("vote_type;scoring", "vote_type;approval")
    res = run(tmp_path, approval, "--rule", "majority-judgment")
    assert res.exit_code == 2 and "needs vote_type scoring" in res.output


EXCLUSIVE = HEAD.format(n=4, v=4, budget=100, vote_type="approval", rule="greedy-exclusive", extra="") + """\
project_id;cost;name;exclusive_group;selected
1;40;Park north gate;park;1
2;50;Library;;1
3;10;Park south gate;park;0
4;10;Benches;;1
VOTES
voter_id;vote
a;1,2,3,4
b;1,2,3
c;1,2,3
d;1,2
"""


def test_greedy_exclusive_reads_the_exclusive_group_column(tmp_path: Path) -> None:
    res = run(tmp_path, EXCLUSIVE, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rule"] == "greedy-exclusive" and doc["selected"] == ["1", "2", "4"]
    assert doc["matches_official"] is True
    three = next(o for o in doc["outcomes"] if o["project_id"] == "3")
    assert three["reason"] == "excluded" and three["detail"] == "exclusive group 'park': 1 was funded first"
    # without the column the META rule cannot be applied: a clear error
    plain = EXCLUSIVE.replace(";exclusive_group;", ";group;")
    res = run(tmp_path, plain)
    assert res.exit_code == 2 and "exclusive_group" in res.output and "--rule" in res.output


CUSTOM = HEAD.format(n=3, v=5, budget=100, vote_type="choose-1", rule="greedy-custom",
                     extra="comment;#1: We fund projects that received the highest number of votes until the next "
                           "project on the list does not fit within the budget.\n") + """\
project_id;cost;selected
X;60;1
Y;50;0
Z;30;0
VOTES
voter_id;vote
a;X
b;X
c;Y
d;Y
e;Z
"""


def test_greedy_custom_is_greedy_stop_only_where_the_file_says_so(tmp_path: Path) -> None:
    res = run(tmp_path, CUSTOM, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    # X (2 votes, 60), Y (2 votes, 50) ties: cheaper Y first, then X does not fit: greedy-stop stops
    assert doc["rule"] == "greedy-stop" and doc["selected"] == ["Y"]
    other = CUSTOM.replace("until the next project on the list does not fit", "with a local twist")
    res = run(tmp_path, other)
    assert res.exit_code == 2 and "greedy-custom" in res.output
    approval = CUSTOM.replace("vote_type;choose-1", "vote_type;approval")
    assert run(tmp_path, approval).exit_code == 2


THRESHOLD = HEAD.format(n=3, v=3, budget=100, vote_type="approval", rule="greedy-threshold",
                        extra="min_project_score_threshold;2\n") + """\
project_id;cost
P1;40
P2;30
P3;20
VOTES
voter_id;vote
a;P1,P2
b;P1,P2
c;P3
"""


def test_no_threshold_switch(tmp_path: Path) -> None:
    with_t = json.loads(run(tmp_path, THRESHOLD, "--json").stdout)
    assert with_t["selected"] == ["P2", "P1"]  # tie on 2 votes: cheaper first
    assert {o["project_id"]: o["reason"] for o in with_t["outcomes"]}["P3"] == "below_threshold"
    without = json.loads(run(tmp_path, THRESHOLD, "--json", "--no-threshold").stdout)
    assert without["selected"] == ["P2", "P1", "P3"]


def test_for_against_is_refused_on_pabulib_files(tmp_path: Path) -> None:
    res = run(tmp_path, THRESHOLD, "--rule", "for-against")
    assert res.exit_code == 2 and "for/against ballots" in res.output


def test_fairness_report_option(tmp_path: Path) -> None:
    doc = json.loads(run(tmp_path, EXCLUSIVE.replace("rule;greedy-exclusive", "rule;greedy"),
                         "--json", "--fairness").stdout)
    fr = doc["fairness"]
    # greedy funds 1, 2, 3 (cost 100): voters a, b, c have 3 funded, d has 2
    assert doc["selected"] == ["1", "2", "3"]
    assert fr["voters"] == 4 and fr["funded_projects_histogram"] == [0.0, 0.0, 0.25, 0.75]
    assert fr["nothing_funded_share"] == 0.0 and fr["ejr"]["satisfied"] is True
    table = run(tmp_path, THRESHOLD, "--fairness")
    assert table.exit_code == 0 and "fairness:" in table.stdout and "EJR" in table.stdout
    res = run(tmp_path, MJ, "--rule", "majority-judgment", "--fairness")
    assert res.exit_code == 2 and "needs approval ballots" in res.output

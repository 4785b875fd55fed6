"""Grade and for/against ballots end to end: definition -> e-votes -> count -> publish -> verify.

One election with a grades envelope (the four Paris grades, majority judgment) and a
for-against envelope. Five hand-written voters; every expected value below was worked out
by hand (see the comments), not by running the code:

Grades (lowest first 0 "Pas convaincu·e" … 3 "J'adore"; ungraded = lowest), budget 100:
  A (60): 3 3 0 2 1 -> sorted 0 1 2 3 3: median 2, above 2, below 2: "2-" with 2 opponents
  B (50): 2 2 2 2 _ -> 0 2 2 2 2:       median 2, above 0, below 1: "2-" with 1 opponent
  C (40): _ 3 3 2 2 -> 0 2 2 3 3:       median 2, above 2, below 1: "2+"
  order C, B, A: C and B funded (90), A does not fit -- although A was graded by the most
  voters and has the most "J'adore".
For/against, budget 100, threshold 1 (for - against >= 1):
  X (60): for 2, against 2 -> 0 (below threshold); Y (50): 2 - 1 = 1; Z (30): 2 - 1 = 1
  Y and Z tie on 1: cheaper first, Z then Y, both fit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers.ballot_types_world import GOOD, MAYBE, NO, TOP, build_world
from helpers.bundle_world import ballot_lines, fix_tree_head, resign, write_lines

from engine.storage.keyfiles import load_private_key
from engine.verifier import VerificationFailure, verify_bundle


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_world(tmp_path_factory.mktemp("ballot-types"))


def test_bad_opinions_are_rejected_with_their_reason(world: dict[str, Any]) -> None:
    assert dict(world["report"].rejected_by_reason) == {
        "bad_opinion": 2, "wrong_ballot_form": 1, "unknown_project": 1, "duplicate_key": 1}


def test_tally_has_the_grade_profiles_and_the_for_against_counts(world: dict[str, Any]) -> None:
    t = json.loads((world["bundle"] / "tally.json").read_text(encoding="utf-8"))
    g = t["envelopes"]["g"]["projects"]
    assert (g["A"]["grades"], g["A"]["ungraded"]) == ([1, 1, 1, 2], 0)
    assert (g["B"]["grades"], g["B"]["ungraded"]) == ([0, 0, 4, 0], 1)
    assert (g["C"]["grades"], g["C"]["ungraded"]) == ([0, 0, 2, 2], 1)
    f = t["envelopes"]["f"]["projects"]
    assert [(f[p]["for"], f[p]["against"]) for p in "XYZ"] == [(2, 2), (2, 1), (2, 1)]


def test_allocation_by_majority_judgment_and_for_against(world: dict[str, Any]) -> None:
    a = json.loads((world["bundle"] / "allocation.json").read_text(encoding="utf-8"))["envelopes"]
    assert a["g"]["rule"] == "majority-judgment"
    assert sorted(a["g"]["selected"]) == ["B", "C"]
    reasons = {o["project_id"]: o["reason"] for o in a["g"]["outcomes"]}
    assert reasons == {"C": "funded", "B": "funded", "A": "did_not_fit"}
    assert [o["project_id"] for o in a["g"]["outcomes"]] == ["C", "B", "A"]
    assert sorted(a["f"]["selected"]) == ["Y", "Z"]
    assert {o["project_id"]: o["reason"] for o in a["f"]["outcomes"]}["X"] == "below_threshold"


def test_the_bundle_verifies(world: dict[str, Any]) -> None:
    verify_bundle(world["bundle"])


def test_ballot_log_lines_carry_the_opinions(world: dict[str, Any]) -> None:
    entries = [json.loads(x) for x in ballot_lines(world["bundle"])]
    grades = sorted(tuple(e["selections"]["g"]) for e in entries)
    assert ("A=3", "B=2") in grades  # voter 1: A "J'adore" (3), B "J'aime bien" (2), C ungraded
    assert ("X=for", "Y=against") in sorted(tuple(e["selections"]["f"]) for e in entries)


def test_a_tampered_grade_fails_verification(world: dict[str, Any], tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(world["bundle"], bundle)
    lines = ballot_lines(bundle)
    i = next(k for k, x in enumerate(lines) if '"A=0"' in x)  # voter 3's "Pas convaincu·e" for A
    lines[i] = lines[i].replace('"A=0"', '"A=3"')
    write_lines(bundle, lines)
    fix_tree_head(bundle)
    resign(bundle, load_private_key(world["root"] / "keys", "results"))
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(bundle)
    assert "tally.json" in str(exc.value)


def test_projects_csv_has_the_grade_counts_and_majority_grade(world: dict[str, Any]) -> None:
    import csv

    rows = {r["project_id"]: r for r in csv.DictReader(
        (world["bundle"] / "projects.csv").read_text(encoding="utf-8").splitlines())}
    # A: 2 "J'adore" (voters 1, 2), 1 each of the others; lower median of 0 1 2 3 3 is "J'aime bien"
    assert rows["A"]["grade_counts"] == f"{TOP}: 2; {GOOD}: 1; {MAYBE}: 1; {NO}: 1"
    assert rows["A"]["majority_grade"] == GOOD
    assert rows["B"]["grade_counts"] == f"{TOP}: 0; {GOOD}: 4; {MAYBE}: 0; {NO}: 1"  # voter 5's ungraded B
    assert (rows["X"]["votes_total"], rows["X"]["votes_against"]) == ("2", "2")
    assert rows["X"]["grade_counts"] == "" and rows["A"]["votes_against"] == ""


def test_pbcount_results_writes_the_grade_columns(world: dict[str, Any], tmp_path: Path) -> None:
    import csv

    from typer.testing import CliRunner

    from pbcount.cli import app

    res = CliRunner().invoke(app, ["results", "--db", world["db"], "--out", str(tmp_path)],
                             env={"PBCOUNT_PROGRESS": "0"})
    assert res.exit_code == 0, res.output
    rows = {r["project_id"]: r for r in csv.DictReader(
        (tmp_path / "projects.csv").read_text(encoding="utf-8").splitlines())}
    assert rows["C"]["majority_grade"] == GOOD and rows["Y"]["votes_against"] == "1"
    assert (tmp_path / "results.xlsx").stat().st_size > 0


def test_fairness_of_grades_and_for_against_counts_supported_projects(world: dict[str, Any]) -> None:
    """Supported = graded above "Pas convaincu·e" (the ungraded grade) / voted for. By hand:
    grades (funded B 50, C 40): voter 1 supports A, B -> 1 funded, 50/110 -> (40, 50] %;
    voter 2 A, B, C -> 2, 90/150 -> (50, 60]; voter 3 B, C -> 2, 100 %; voter 4 A, B, C -> 2,
    (50, 60]; voter 5 A ("Pourquoi pas"), C -> 1, 40/100 -> (30, 40].
    For/against (funded Y 50, Z 30): voter 1 X -> 0; voter 2 X, Y -> 1, 50/110; voters 3, 4, 5
    Y, Z, Z -> 1, 100 %."""
    from helpers.bundle_world import read_json

    doc = read_json(world["bundle"] / "fairness.json")["envelopes"]
    g, f = doc["g"]["report"], doc["f"]["report"]
    assert g["support"] == "graded above 'Pas convaincu·e'" and f["support"] == "voted for"
    assert (g["voters"], g["funded"], g["funded_projects_histogram"]) == (5, 2, [0.0, 0.4, 0.6])
    assert {k: v for k, v in g["cost_share_histogram"].items() if v} == {
        "(30, 40] %": 0.2, "(40, 50] %": 0.2, "(50, 60] %": 0.4, "(90, 100] %": 0.2}
    assert g["nothing_funded_share"] == 0.0
    assert (f["funded_projects_histogram"], f["nothing_funded_share"]) == ([0.2, 0.8], 0.2)
    assert {k: v for k, v in f["cost_share_histogram"].items() if v} == {"0 %": 0.2, "(40, 50] %": 0.2,
                                                                        "(90, 100] %": 0.6}
    assert "ejr" not in g and "ejr" not in f  # EJR/PJR are defined on approval ballots


@pytest.mark.parametrize(("change", "check"), [
    (lambda r: r.update(nothing_funded_share=0.0), "nothing_funded_share"),
    (lambda r: r.update(support="graded above 'J'adore'"), "support"),
    (lambda r: r.update(ejr={"satisfied": True}), "report"),
])
def test_a_forged_grade_fairness_figure_fails(world: dict[str, Any], tmp_path: Path, change: Any,
                                              check: str) -> None:
    from helpers.bundle_world import read_json, write_json

    bundle = tmp_path / "bundle"
    shutil.copytree(world["bundle"], bundle)
    doc = read_json(bundle / "fairness.json")
    change(doc["envelopes"]["f" if check == "nothing_funded_share" else "g"]["report"])
    write_json(bundle / "fairness.json", doc)
    resign(bundle, load_private_key(world["root"] / "keys", "results"))
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(bundle)
    assert (exc.value.file, exc.value.check) == ("fairness.json", check)

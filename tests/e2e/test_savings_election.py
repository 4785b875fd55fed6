"""A savings election (reverse PB) end to end: definition -> e-votes -> count -> publish -> verify.

fixtures/samples/savings_election.toml: target 100,000; at least 2 sectors per ballot; per
sector at most 2 cuts and 30 % of its spending (culture 200,000 -> 60,000; roads 500,000 ->
150,000; environment 100,000 -> 30,000). Votes to cut (7 valid ballots; v7 touches one
sector only and is rejected ``too_few_sectors``): L1 5, L2 3, L3 3, L4 3, L5 2, so
opposition L1 2, L2 4, L3 4, L4 4, L5 5. ``cuts-exact``: {L5} alone saves 150,000 with
opposition 5, the least ({L1, L3} 110,000 has 6; L3 + L5 is over the roads limit).
``cuts-greedy`` would cut L1 then L3 (votes, then the larger saving): 110,000.
"""

from __future__ import annotations

import csv
from pathlib import Path

from helpers.bundle_world import read_json, resign, write_json
from helpers.cli_election import publish_via_cli, run

from engine.storage.keyfiles import load_private_key
from engine.verifier.errors import VerificationFailure
from engine.verifier.verify import verify_bundle

SAVINGS = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "savings_election.toml"
VOTES = [["L1", "L3"], ["L1", "L3"], ["L1", "L2", "L4"], ["L1", "L2", "L5"], ["L2", "L4"], ["L3", "L4"], ["L1"],
         ["L1", "L5"]]


def published(tmp_path: Path, election: Path = SAVINGS) -> tuple[Path, Path, Path]:
    """(keys, results directory, bundle) of the election counted from ``VOTES``."""
    return publish_via_cli(tmp_path, election, [{"cuts": v} for v in VOTES],
                           ("7 accepted", "votes.jsonl:7: too_few_sectors"))


def test_savings_election_counts_publishes_and_verifies(tmp_path: Path) -> None:
    keys, res_dir, bundle = published(tmp_path)
    lines = {r["project_id"]: r for r in csv.DictReader((res_dir / "projects.csv").open(encoding="utf-8"))}
    assert [p for p, r in lines.items() if r["selected"] == "1"] == ["L5"]
    assert lines["L1"]["reason"] == "not_in_optimum" and lines["L5"]["reason"] == "cut_optimal"
    sectors = {r["sector"]: r for r in csv.DictReader((res_dir / "savings.csv").open(encoding="utf-8"))}
    assert (sectors["roads"]["spending_before"], sectors["roads"]["spending_after"]) == ("500000", "350000")
    assert sectors["roads"]["max_amount"] == "150000" and sectors["culture"]["saved"] == "0"
    assert (sectors[""]["target"], sectors[""]["saved"], sectors[""]["overshoot"]) == ("100000", "150000", "50000")
    assert (bundle / "savings.csv").read_bytes() == (res_dir / "savings.csv").read_bytes()
    code, out = run("verify", str(bundle), "--key", str(keys / "results.pub"))
    assert code == 0 and "VERIFIED" in out, out


def test_a_tampered_cut_fails_verify(tmp_path: Path) -> None:
    keys, _res, bundle = published(tmp_path)
    key = load_private_key(keys, "results")
    a = read_json(bundle / "allocation.json")
    entry = a["envelopes"]["cuts"]
    entry["selected"] = ["L1", "L3"]  # what greedy would cut: feasible, but more opposition
    write_json(bundle / "allocation.json", a)
    resign(bundle, key)
    try:
        verify_bundle(bundle)
    except VerificationFailure as exc:
        assert exc.file == "allocation.json" and exc.check == "cuts_exact"
        assert "exhaustive search finds ['L5']" in str(exc)
    else:
        raise AssertionError("a changed set of cuts verified")


def test_a_tampered_sector_figure_fails_verify(tmp_path: Path) -> None:
    keys, _res, bundle = published(tmp_path)
    text = (bundle / "savings.csv").read_text(encoding="utf-8")
    (bundle / "savings.csv").write_text(text.replace("500000,150000,350000", "500000,150000,340000"),
                                        encoding="utf-8")
    resign(bundle, load_private_key(keys, "results"))
    try:
        verify_bundle(bundle)
    except VerificationFailure as exc:
        assert exc.file == "savings.csv" and exc.check == "spending_after"
    else:
        raise AssertionError("a changed savings.csv verified")


def test_greedy_savings_election_verifies(tmp_path: Path) -> None:
    greedy = tmp_path / "greedy.toml"
    greedy.write_text(SAVINGS.read_text(encoding="utf-8").replace('rule = "cuts-exact"', 'rule = "cuts-greedy"'),
                      encoding="utf-8")
    keys, res_dir, bundle = published(tmp_path, greedy)
    lines = {r["project_id"]: r for r in csv.DictReader((res_dir / "projects.csv").open(encoding="utf-8"))}
    assert [p for p, r in lines.items() if r["selected"] == "1"] == ["L1", "L3"]
    assert lines["L2"]["reason"] == "not_needed"
    code, out = run("verify", str(bundle), "--key", str(keys / "results.pub"))
    assert code == 0 and "VERIFIED" in out, out


def test_summary_keeps_savings_apart_from_budgets(tmp_path: Path) -> None:
    """A savings target is not a budget: summary.csv's budget, spent, left_over and projects
    count the spending envelopes only, and the savings have rows of their own."""
    keys, res_dir, bundle = published(tmp_path)
    summary = {r["metric"]: r["value"] for r in csv.DictReader((res_dir / "summary.csv").open(encoding="utf-8"))}
    assert (summary["budget"], summary["spent"], summary["left_over"]) == ("0", "0", "0")
    assert (summary["projects"], summary["projects_funded"]) == ("0", "0")
    assert (summary["savings_target"], summary["savings_reached"]) == ("100000", "150000")
    assert (summary["spending_lines"], summary["lines_cut"]) == ("5", "1")
    assert (bundle / "summary.csv").read_bytes() == (res_dir / "summary.csv").read_bytes()
    code, out = run("verify", str(bundle), "--key", str(keys / "results.pub"))
    assert code == 0 and "VERIFIED" in out, out

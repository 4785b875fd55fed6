"""Voter receipts: `pbcount receipt proof|check|from-stub` on a published bundle.

An online voter holds the receipt id given when the vote was accepted (the store's
``receipt_id``); a paper voter holds the stub serial. The proof must verify against the
published root, and must not verify against another root or for another line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers.bundle_world import add_paper_ballots, ballot_lines, canonical, fix_tree_head, make_world, read_json
from typer.testing import CliRunner

from engine.formats.bundle import check_receipt_proof, receipt_proof
from engine.model.receipts import paper_receipt_id
from pbcount.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    world = make_world(small_paris, tmp_path_factory.mktemp("receipt") / "world")
    store = world.store()
    try:
        with store.engine.connect() as conn:
            online = conn.exec_driver_sql(
                "SELECT receipt_id FROM ballots WHERE channel = 'online' ORDER BY ballot_key LIMIT 1").scalar_one()
    finally:
        store.close()
    paper = add_paper_ballots(world, 12)
    _, out = world.publish("bundle")
    return {"bundle": out, "online": online, "paper": paper}


def test_online_receipt_proof_then_check(setup: dict, tmp_path: Path) -> None:
    bundle, receipt = setup["bundle"], setup["online"]
    proof_file = tmp_path / "proof.json"
    r = runner.invoke(app, ["receipt", "proof", receipt, "--bundle", str(bundle), "--out", str(proof_file)])
    assert r.exit_code == 0, r.output
    proof = json.loads(proof_file.read_text())
    assert proof["receipt"] == receipt and json.loads(proof["line"])["receipt"] == receipt
    assert proof["line"] in ballot_lines(bundle)
    head = read_json(bundle / "merkle.json")
    ok = runner.invoke(app, ["receipt", "check", str(proof_file), "--root", head["root_hash"],
                             "--size", str(head["tree_size"]), "--receipt", receipt])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    by_bundle = runner.invoke(app, ["receipt", "check", str(proof_file), "--bundle", str(bundle)])
    assert by_bundle.exit_code == 0, by_bundle.output


def test_check_fails_against_another_root_or_a_changed_line(setup: dict, tmp_path: Path) -> None:
    bundle, receipt = setup["bundle"], setup["online"]
    lines = ballot_lines(bundle)
    proof = receipt_proof(lines, receipt)
    head = read_json(bundle / "merkle.json")
    assert check_receipt_proof(proof, head["root_hash"], head["tree_size"]) is None
    # the authority swaps this voter's selections with another ballot's and republishes a root
    forged_bundle = tmp_path / "forged"
    shutil.copytree(bundle, forged_bundle)
    i = proof["leaf_index"]
    j = i + 1 if i + 1 < len(lines) else i - 1
    a, b = json.loads(lines[i]), json.loads(lines[j])
    a["selections"], b["selections"] = b["selections"], a["selections"]
    forged = list(lines)
    forged[i], forged[j] = canonical(a), canonical(b)
    (forged_bundle / "ballots.jsonl").write_text("".join(x + "\n" for x in forged))
    fix_tree_head(forged_bundle)
    new_root = read_json(forged_bundle / "merkle.json")["root_hash"]
    problem = check_receipt_proof(proof, new_root, len(lines))
    assert problem is not None and "NOT in the tree" in problem
    # and a proof edited to show other selections fails against the true root
    edited = dict(proof, line=forged[i])
    assert check_receipt_proof(edited, head["root_hash"], head["tree_size"]) is not None
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps(proof))
    r = runner.invoke(app, ["receipt", "check", str(proof_file), "--bundle", str(forged_bundle)])
    assert r.exit_code == 1
    assert "NOT VERIFIED" in r.output


def test_paper_voter_finds_the_ballot_from_the_stub(setup: dict) -> None:
    bundle = setup["bundle"]
    ballot, stub = setup["paper"][3]
    r = runner.invoke(app, ["receipt", "from-stub", stub])
    assert r.exit_code == 0 and r.output.strip() == paper_receipt_id(stub)
    # typed with hyphens and in lower case, as a human would
    typed = "-".join(stub[k:k + 4] for k in range(0, len(stub), 4)).lower()
    r = runner.invoke(app, ["receipt", "proof", "--stub", typed, "--bundle", str(bundle)])
    assert r.exit_code == 0, r.output
    assert ballot.image_sha256 in r.output


def test_unknown_receipt_and_bad_arguments(setup: dict) -> None:
    bundle = setup["bundle"]
    r = runner.invoke(app, ["receipt", "proof", "R0000000000000000"[:16], "--bundle", str(bundle)])
    assert r.exit_code == 2 and "not in" in r.output
    r = runner.invoke(app, ["receipt", "proof", "--bundle", str(bundle)])
    assert r.exit_code == 2
    with pytest.raises(KeyError):
        receipt_proof(ballot_lines(bundle), "RZZZZZZZZZZZZZZZ")

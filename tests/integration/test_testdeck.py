"""Test decks: the expected.json contract, determinism by seed, and the planned cases."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ballot_scan.render import read_token_register
from ballot_scan.testdeck import DeckOptions, make_testdeck, plan_deck
from engine.formats.election_definition import load_election


def test_expected_json_contract_and_same_seed_same_deck(small_paris: Path, tmp_path: Path) -> None:
    e = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")
    opts = DeckOptions(p_blank_page=0.2, p_foreign=0.2, p_ambiguous=0.5)
    make_testdeck(e, ["ar05"], tokens, tmp_path / "a", count=6, seed=9, opts=opts)
    make_testdeck(e, ["ar05"], tokens, tmp_path / "b", count=6, seed=9, opts=opts, workers=2)  # other processes
    doc = json.loads((tmp_path / "a" / "expected.json").read_text())
    assert (tmp_path / "a" / "expected.json").read_text() == (tmp_path / "b" / "expected.json").read_text()
    assert len(doc["ballots"]) == 6
    for b in doc["ballots"]:
        assert {"image", "kind", "envelope", "selections", "ambiguous"} <= set(b)
        assert b["kind"] in ("ballot", "blank", "foreign")
        a_bytes = (tmp_path / "a" / b["image"]).read_bytes()
        assert hashlib.sha256(a_bytes).digest() == hashlib.sha256((tmp_path / "b" / b["image"]).read_bytes()).digest()
        if b["kind"] == "ballot":
            assert set(b["selections"]) <= {p.id for p in e.projects_in("ar05")}
            assert b["ambiguous"] == bool(b["ambiguous_marks"])
            assert not set(b["selections"]) & {m["project_id"] for m in b["ambiguous_marks"]}


def test_plan_mix_matches_the_options(small_paris: Path) -> None:
    e = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")
    specs = plan_deck(e, ["paris", "ar11"], tokens, 2000, seed=1, opts=DeckOptions())
    kinds = [s.kind for s in specs]
    assert 5 <= kinds.count("blank") <= 40 and 5 <= kinds.count("foreign") <= 40
    ballots = [s for s in specs if s.kind == "ballot"]
    ambiguous = sum(bool(s.ambiguous) for s in ballots)
    assert 0.03 * len(ballots) < ambiguous < 0.09 * len(ballots)
    assert all(len(s.votes) <= 4 for s in ballots if "overvote" not in s.expected_reasons)
    assert any("overvote" in s.expected_reasons for s in ballots)
    assert {s.envelope_id for s in specs} == {"paris", "ar11"}
    marks = {k for s in ballots for _, k in s.votes}
    assert marks == {"cross", "tick", "fill", "offset"}
    assert {k for s in ballots for _, k in s.ambiguous} == {"light", "dot", "crossed_out"}

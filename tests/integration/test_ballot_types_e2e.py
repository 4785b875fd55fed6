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
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers.bundle_world import ballot_lines, fix_tree_head, resign, write_lines

from engine.formats.bundle import publish_store
from engine.formats.election_definition import election_from_dict
from engine.model.tokens import issue_token
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import load_private_key, load_public_key, load_receipt_secret
from engine.storage.store import Store
from engine.verifier import VerificationFailure, verify_bundle
from fixtures.paris import _write_keys, seeded_key

DOC: dict[str, Any] = {
    "election": {"id": "types-2026", "name": "Ballot types"},
    "envelopes": [
        {"id": "g", "name": "Grades", "kind": "citywide", "budget": 100, "max_selections": 3, "ballot": "grades"},
        {"id": "f", "name": "For/against", "kind": "district", "budget": 100, "max_selections": 3,
         "ballot": "for-against"},
    ],
    "projects": [
        {"id": "A", "envelope": "g", "title": "A", "cost": 60},
        {"id": "B", "envelope": "g", "title": "B", "cost": 50},
        {"id": "C", "envelope": "g", "title": "C", "cost": 40},
        {"id": "X", "envelope": "f", "title": "X", "cost": 60},
        {"id": "Y", "envelope": "f", "title": "Y", "cost": 50},
        {"id": "Z", "envelope": "f", "title": "Z", "cost": 30},
    ],
}
TOP, GOOD, MAYBE, NO = "J'adore", "J'aime bien", "Pourquoi pas", "Pas convaincu·e"
VOTES: list[dict[str, dict[str, str]]] = [
    {"g": {"A": TOP, "B": GOOD}, "f": {"X": "for", "Y": "against"}},
    {"g": {"A": TOP, "B": GOOD, "C": TOP}, "f": {"X": "for", "Y": "for", "Z": "against"}},
    {"g": {"A": NO, "B": GOOD, "C": TOP}, "f": {"X": "against", "Y": "for"}},
    {"g": {"A": GOOD, "B": GOOD, "C": GOOD}, "f": {"Z": "for"}},
    {"g": {"A": MAYBE, "C": GOOD}, "f": {"X": "against", "Z": "for"}},
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("ballot-types")
    keys = root / "keys"
    _write_keys(keys, seeded_key(15, "authority"), seeded_key(15, "results"), b"r" * 32)
    election = election_from_dict(DOC)
    authority = load_private_key(keys, "authority")
    rng = random.Random(15)

    def token() -> str:
        return issue_token(authority, election.id, rng.randbytes(10))

    lines = [json.dumps({"token": token(), "cast_at": "2026-09-12T10:00:00Z", "selections": v}, ensure_ascii=False)
             for v in VOTES]
    bad = [  # each rejected with its own reason
        {"g": {"A": "J'adorre"}},                      # bad_opinion (unknown grade)
        {"g": ["A", "B"]},                             # wrong_ballot_form (a list on a grades envelope)
        {"f": {"X": "maybe"}},                         # bad_opinion
        {"g": {"Q": TOP}},                             # unknown_project
    ]
    lines += [json.dumps({"token": token(), "cast_at": "2026-09-12T10:00:00Z", "selections": s}, ensure_ascii=False)
              for s in bad]
    both = '{"f": {"X": "for", "X": "against"}}'  # duplicate_key (both for and against)
    lines.append(f'{{"token": "{token()}", "cast_at": "2026-09-12T10:00:00Z", "selections": {both}}}')
    evotes = root / "evotes.jsonl"
    evotes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = Store.open(f"sqlite:///{root / 'store.sqlite'}")
    try:
        report = ingest_evote_file(store, evotes, election, load_public_key(keys), load_receipt_secret(keys),
                                   workers=1)
        publish_store(store, load_private_key(keys, "results"), root / "bundle", actor="test")
    finally:
        store.close()
    return {"root": root, "bundle": root / "bundle", "report": report}


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

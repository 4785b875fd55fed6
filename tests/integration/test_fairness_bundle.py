"""``fairness.json`` in the published bundle: written for every approval envelope, recomputed
by the stand-alone verifier, a forged figure or witness caught, and a bundle from before
the file (none listed in its manifest) still verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.bundle_world import read_json, resign, write_json

from engine.storage.keyfiles import load_private_key
from engine.verifier import VerificationFailure, verify_bundle


def test_every_approval_envelope_has_its_report_and_it_verifies(published: Path, small_paris: Path) -> None:
    doc = read_json(published / "fairness.json")
    election = read_json(published / "election.json")["definition"]
    assert set(doc["envelopes"]) == {e["id"] for e in election["envelopes"]}
    for entry in doc["envelopes"].values():
        r = entry["report"]
        assert entry["ballot"] == "approval"
        assert sum(r["funded_projects_histogram"]) == pytest.approx(1.0)
        assert 0 <= r["nothing_funded_share"] <= 1
    assert any("fairness.json" in n for n in verify_bundle(published).notes)


def test_a_forged_share_fails(bundle: Path, small_paris: Path) -> None:
    doc = read_json(bundle / "fairness.json")
    env = next(iter(doc["envelopes"]))
    doc["envelopes"][env]["report"]["nothing_funded_share"] += 0.01
    write_json(bundle / "fairness.json", doc)
    resign(bundle, load_private_key(small_paris / "keys", "results"))
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(bundle)
    assert (exc.value.file, exc.value.check) == ("fairness.json", "nothing_funded_share")


def test_a_hidden_violation_fails(bundle: Path, small_paris: Path) -> None:
    """Claiming "satisfied" while keeping the witness, or dropping the witness of a violation."""
    doc = read_json(bundle / "fairness.json")
    env = next(iter(doc["envelopes"]))
    verdict = doc["envelopes"][env]["report"]["ejr"]
    verdict["satisfied"] = not verdict["satisfied"]
    write_json(bundle / "fairness.json", doc)
    resign(bundle, load_private_key(small_paris / "keys", "results"))
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(bundle)
    assert (exc.value.file, exc.value.check) == ("fairness.json", "witness")


def test_a_bundle_without_fairness_json_still_verifies(bundle: Path, small_paris: Path) -> None:
    (bundle / "fairness.json").unlink()
    m = read_json(bundle / "manifest.json")
    del m["signed"]["files"]["fairness.json"]
    write_json(bundle / "manifest.json", m)
    resign(bundle, load_private_key(small_paris / "keys", "results"))
    assert not any("fairness.json" in n for n in verify_bundle(bundle).notes)

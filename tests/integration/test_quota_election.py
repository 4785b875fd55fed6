"""Election-wide quotas (``scope = "election"``): one requirement over several envelopes.

Worked example (docs/rules.md): two envelopes of 100 each, at least half of the whole
money (100) for popular-neighbourhood projects. Envelope A has no such project, so its
budget-proportional part of the reserve (50) cannot be used there; the rebalancing round
moves it to envelope B, which funds both of its group projects instead of a more voted
ordinary one. With a per-envelope quota B would fund only one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.counting.count import count_ballots
from engine.errors import ElectionDefinitionError
from engine.formats.election_canonical import definition_hash
from engine.formats.election_definition import election_from_dict
from engine.model.ballots import Ballot, Channel, SourceRef, ballot_key


def doc(scope: str = "election", **quota: Any) -> dict[str, Any]:
    projects = [
        ("A1", "a", 60, False), ("A2", "a", 40, False),
        ("N1", "b", 50, False), ("N2", "b", 50, False), ("G1", "b", 50, True), ("G2", "b", 50, True),
    ]
    q = {"name": "popular", "group": {"popular_neighbourhood": True}, "min_share": "1/2", "scope": scope}
    q.update(quota)
    return {
        "election": {"id": "wide", "name": "Election-wide quota"},
        "voting": {"max_envelopes_per_kind": {"district": 2}},
        "envelopes": [
            {"id": "a", "name": "A", "kind": "district", "budget": 100, "max_selections": 2},
            {"id": "b", "name": "B", "kind": "district", "budget": 100, "max_selections": 4},
        ],
        "projects": [{"id": i, "envelope": e, "title": i, "cost": c, "popular_neighbourhood": g}
                     for i, e, c, g in projects],
        "quotas": [q],
    }


VOTES = {"A1": 10, "A2": 9, "N1": 10, "N2": 8, "G1": 5, "G2": 4}


def ballots() -> list[Ballot]:
    """One ballot per vote, each from its own voter (approval counts = VOTES)."""
    out: list[Ballot] = []
    n = 0
    for pid, count in VOTES.items():
        env = "a" if pid.startswith("A") else "b"
        for _ in range(count):
            n += 1
            sel = ((env, (pid,)),)
            serial = f"V{n:015d}"
            key = ballot_key(Channel.ONLINE, serial, "2026-05-01T10:00:00.000000Z", sel, None)
            out.append(Ballot(key, serial, Channel.ONLINE, "2026-05-01T10:00:00.000000Z", sel,
                              SourceRef("t", n), receipt_id=f"R{n:015d}"))
    return out


def test_rebalancing_moves_the_unusable_reserve() -> None:
    e = election_from_dict(doc())
    result = count_ballots(e, ballots())
    a, b = result.allocation.envelopes["a"], result.allocation.envelopes["b"]
    assert set(a.selected) == {"A1", "A2"}
    assert set(b.selected) == {"G1", "G2"}
    (report,) = result.allocation.election_quotas
    assert (report.required, report.group_spent, report.met, report.rounds) == (100, 100, True, 1)
    n1 = b.outcome("N1")
    assert n1 is not None and n1.reason == "quota_reserve"


def test_per_envelope_scope_funds_only_half() -> None:
    e = election_from_dict(doc(scope="envelope"))
    result = count_ballots(e, ballots())
    assert set(result.allocation.envelopes["b"].selected) == {"N1", "G1"}
    assert result.allocation.election_quotas == ()


def test_unreachable_requirement_is_reported() -> None:
    e = election_from_dict(doc(min_share="9/10"))  # 180 of 200: the group costs 100 in all
    (report,) = count_ballots(e, ballots()).allocation.election_quotas
    assert not report.met and report.group_spent == 100 and report.shortfall == 80 and report.reason


@pytest.mark.parametrize(("change", "message"), [
    ({"scope": "world"}, "scope"),
    ({"max_share": "3/4"}, "minimum only"),
])
def test_configuration_errors(change: dict[str, Any], message: str) -> None:
    d = doc()
    d["quotas"][0].update(change)
    with pytest.raises(ElectionDefinitionError, match=message):
        election_from_dict(d, "e.toml")


def test_default_scope_keeps_the_definition_hash() -> None:
    explicit = doc(scope="envelope")
    implicit = doc()
    del implicit["quotas"][0]["scope"]
    assert definition_hash(election_from_dict(explicit)) == definition_hash(election_from_dict(implicit))
    assert definition_hash(election_from_dict(doc())) != definition_hash(election_from_dict(implicit))


def test_published_bundle_with_an_election_wide_quota_verifies(tmp_path: Path) -> None:
    from engine.formats.bundle import publish_store
    from engine.storage.store import Store
    from engine.verifier import verify_bundle

    e = election_from_dict(doc())
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    store.freeze_election(e)
    store.commit_chunk(None, "w", ballots())
    publish_store(store, Ed25519PrivateKey.generate(), tmp_path / "bundle", actor="test")
    store.close()
    verified = verify_bundle(tmp_path / "bundle")
    assert verified.counted == sum(VOTES.values())


def test_summary_reports_the_whole_election_figure() -> None:
    import io

    from rich.console import Console

    from pbcount.summary import print_quota_summary

    buf = io.StringIO()
    print_quota_summary(Console(file=buf, width=200), count_ballots(election_from_dict(doc()), ballots()))
    assert "quota popular (whole election): group got 100 of 100 required — met (1 rebalancing round)" in buf.getvalue()


@pytest.mark.parametrize("scope", ["envelope", "election"])
def test_published_bundle_with_exact_and_a_quota_verifies(tmp_path: Path, scope: str) -> None:
    """The standalone verifier recomputes ``exact`` under quotas (engine/verifier/rules_reference.py)."""
    from engine.formats.bundle import publish_store
    from engine.storage.store import Store
    from engine.verifier import verify_bundle

    d = doc(scope=scope)
    for env in d["envelopes"]:
        env["rule"] = "exact"
    e = election_from_dict(d)
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    store.freeze_election(e)
    store.commit_chunk(None, "x", ballots())
    publish_store(store, Ed25519PrivateKey.generate(), tmp_path / "bundle", actor="test")
    store.close()
    import json

    allocation = json.loads((tmp_path / "bundle" / "allocation.json").read_text())
    b = allocation["envelopes"]["b"]
    assert b["rule"] == "exact" and b["quota_reports"] and "G1" in b["selected"]  # the quota bound
    verified = verify_bundle(tmp_path / "bundle")
    assert verified.counted == sum(VOTES.values())

"""``engine.services.vote_intake.commit_votes``: the group commit of single API votes.

Votes are signed with the small Paris fixture's own token key and validated by the same
``process_lines`` as the API; the outcomes, the store and the audit log are then checked.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.errors import ElectionClosedError
from engine.formats.election_definition import load_election
from engine.model.tokens import TokenVerifier, issue_token
from engine.services.ingest import process_lines
from engine.services.vote_intake import WriteOutcome, commit_votes
from engine.storage.keyfiles import load_private_key, load_public_key, load_receipt_secret
from engine.storage.store import Store


def _votes(fixture: Path, serials: list[bytes]) -> list[bytes]:
    election = load_election(fixture / "election.toml")
    key = load_private_key(fixture / "keys")
    env = next(e for e in election.envelopes if e.kind == "district")
    cheapest = min(election.projects_in(env.id), key=lambda p: p.cost)
    return [json.dumps({"token": issue_token(key, election.id, s), "cast_at": "2026-09-07T08:00:00Z",
                        "selections": {env.id: [cheapest.id]}}).encode() for s in serials]


def test_group_commit_outcomes_store_and_counts_only_audit(small_paris: Path, tmp_path: Path) -> None:
    election = load_election(small_paris / "election.toml")
    keys = small_paris / "keys"
    verifier = TokenVerifier(load_public_key(keys), election.id)
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    store.freeze_election(election)
    a, b = _votes(small_paris, [b"A" * 10, b"B" * 10])
    lines = [(1, a), (2, b), (3, a), (4, b"{not json")]  # a twice: one copy stored
    items = process_lines(election, verifier, load_receipt_secret(keys), "api:test", lines)
    out = commit_votes(store, [(it, "op-1") for it in items[:3]] + [(items[3], "op-2")])
    assert out == [WriteOutcome("accepted", 1), WriteOutcome("accepted", 1),
                   WriteOutcome("already_received", 1), WriteOutcome("rejected", 0)]
    assert len(list(store.iter_ballots())) == 2
    received = [(e.actor, dict(e.details)) for e in store.audit_entries() if e.action == "votes_received"]
    assert received == [("op-1", {"accepted": 2, "already_received": 1, "rejected": 0}),
                        ("op-2", {"accepted": 0, "already_received": 0, "rejected": 1})]
    store.close_election("admin")
    closed = commit_votes(store, [(items[0], "op-1")])
    assert len(closed) == 1 and isinstance(closed[0], ElectionClosedError)
    assert len(list(store.iter_ballots())) == 2
    store.close()

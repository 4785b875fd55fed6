"""The hand-checked ballot-types election (a grades and a for-against envelope, five voters)
shared by tests/integration/test_ballot_types_e2e.py (whose docstring works out the
expected results by hand) and the browser test of the page."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from engine.formats.bundle import publish_store
from engine.formats.election_definition import election_from_dict
from engine.model.tokens import issue_token
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import load_private_key, load_public_key, load_receipt_secret
from engine.storage.store import Store
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


def build_world(root: Path) -> dict[str, Any]:
    """Keys, the election, the e-votes (five good, five bad) ingested into a SQLite store at
    ``root``, published to ``root/bundle``: {root, bundle, report, db}."""
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
    return {"root": root, "bundle": root / "bundle", "report": report, "db": f"sqlite:///{root / 'store.sqlite'}"}



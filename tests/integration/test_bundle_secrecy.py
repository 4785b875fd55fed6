"""Secrecy of the published bundle beyond ballots.jsonl (issue 13 items 1 and 2).

The audit log is published whole (its hash chain must verify), so nothing in it may be a
function of a handful of ballots: a digest of the receipts of a commit group of one vote
would link that published ballot to its arrival time and the operator key that sent it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from helpers.api_fixtures import ApiWorld, make_world

from api import ApiSettings, create_app


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def _small_subset_digests(receipts: list[str]) -> set[str]:
    """SHA-256 / SHA-512 / BLAKE2b of every 1-3 receipt subset, in every usual joining."""
    out: set[str] = set()
    for k in (1, 2, 3):
        for combo in itertools.combinations(sorted(receipts), k):
            for perm in {combo, tuple(reversed(combo))}:
                for sep in ("\n", "", ",", " ", ";"):
                    for tail in ("", "\n"):
                        data = (sep.join(perm) + tail).encode()
                        for algo in ("sha256", "sha512", "blake2b", "sha1", "md5"):
                            out.add(hashlib.new(algo, data).hexdigest())
    return out


def test_published_audit_log_holds_no_digest_of_a_few_receipts(tmp_path: Path, small_paris: Path) -> None:
    world: ApiWorld = make_world(tmp_path / "w", small_paris)
    app = create_app(ApiSettings(keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle"), store=world.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        for n in range(3):  # three separate requests: commit groups of one vote each
            ids = sorted(world.election.projects_in("paris"), key=lambda p: (p.cost, p.id))
            r = client.post("/v1/votes", json=world.vote(n, {"paris": [ids[n].id]}), headers=world.op())
            assert r.status_code in (200, 201), r.text
        assert client.post("/v1/election/close", headers=world.admin()).status_code == 200
        assert client.post("/v1/publish", headers=world.admin()).status_code == 200
    bundle = world.dir / "bundle"
    receipts = [json.loads(x)["receipt"] for x in (bundle / "ballots.jsonl").read_text().splitlines()]
    assert len(receipts) == 3
    audit = [json.loads(x) for x in (bundle / "audit.jsonl").read_text().splitlines()]
    assert any(e["action"] == "votes_received" for e in audit)
    forbidden = _small_subset_digests(receipts)
    for e in audit:
        for s in _strings(e["details"]):
            assert s not in forbidden, f"audit entry {e['seq']} ({e['action']}) carries a digest of a few receipts"
            assert not any(r in s for r in receipts), f"audit entry {e['seq']} names a published receipt"

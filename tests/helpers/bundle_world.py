"""Test helpers for the results bundle: a counted store from the small Paris fixture,
paper ballots from its paper tokens, and a dishonest authority's tools (re-sign, re-hash).

The e-votes of ``small_paris`` are ingested once per session into a template SQLite file;
each world copies it, so tests can publish and mutate their own store.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import random
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.formats.bundle import PublishReport, publish_store
from engine.formats.election_definition import load_election
from engine.model import merkle
from engine.model.ballots import Ballot, Channel, SourceRef, Submission, validate_submission
from engine.model.crockford import encode_bytes
from engine.model.election import Election
from engine.model.receipts import paper_receipt_id
from engine.model.tokens import TokenVerifier
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import load_private_key, load_public_key, load_receipt_secret, public_key_pem
from engine.storage.store import Store

_TEMPLATES: dict[Path, Path] = {}


def template_db(fixture: Path, work: Path) -> Path:
    """A SQLite store holding the fixture's ingested e-votes (made once per fixture)."""
    if fixture not in _TEMPLATES:
        work.mkdir(parents=True, exist_ok=True)
        db = work / "template.sqlite"
        store = Store.open(f"sqlite:///{db}")
        keys = fixture / "keys"
        ingest_evote_file(store, fixture / "evotes.jsonl", load_election(fixture / "election.toml"),
                          load_public_key(keys), load_receipt_secret(keys), workers=1)
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        _TEMPLATES[fixture] = db
    return _TEMPLATES[fixture]


@dataclass
class World:
    fixture: Path
    root: Path
    db: Path

    @property
    def keys(self) -> Path:
        return self.fixture / "keys"

    @property
    def election(self) -> Election:
        return load_election(self.fixture / "election.toml")

    def store(self) -> Store:
        return Store.open(f"sqlite:///{self.db}")

    def results_key(self) -> Ed25519PrivateKey:
        return load_private_key(self.keys, "results")

    def publish(self, name: str) -> tuple[PublishReport, Path]:
        out = self.root / name
        store = self.store()
        try:
            report = publish_store(store, self.results_key(), out, actor="test")
        finally:
            store.close()
        return report, out


def make_world(fixture: Path, root: Path) -> World:
    root.mkdir(parents=True, exist_ok=True)
    db = root / "store.sqlite"
    shutil.copyfile(template_db(fixture, root.parent / f"template-{fixture.name}"), db)
    return World(fixture, root, db)


def paper_tokens(fixture: Path) -> list[dict[str, str]]:
    with (fixture / "paper_tokens.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def add_paper_ballots(world: World, n: int, seed: int = 1) -> list[tuple[Ballot, str]]:
    """Validate and store ``n`` paper ballots (real paper tokens); returns (ballot, stub serial).

    Voters marked ``also_online`` come first; their paper ballot supersedes their online
    vote (paper-first precedence).
    """
    rng = random.Random(seed)
    election = world.election
    verifier = TokenVerifier(load_public_key(world.keys), election.id)
    district = [e for e in election.envelopes if e.kind == "district"]
    out: list[tuple[Ballot, str]] = []
    items: list[Ballot] = []
    rows = sorted(paper_tokens(world.fixture), key=lambda r: r["also_online"] != "1")  # overlap first
    for page, row in enumerate(rows[:n], start=1):
        env = rng.choice(district)
        cheapest = sorted(election.projects_in(env.id), key=lambda p: p.cost)[:2]
        stub = encode_bytes(rng.randbytes(10))
        sub = Submission(
            token=row["token"], channel=Channel.PAPER,
            selections={env.id: [p.id for p in cheapest], "paris": [election.projects_in("paris")[page % 7].id]},
            source=SourceRef("scan-batch-1.pdf", page),
            image_sha256=hashlib.sha256(f"page {page} {stub}".encode()).hexdigest(), ballot_serial=stub,
        )
        res = validate_submission(election, verifier, sub)
        assert isinstance(res, Ballot), res
        b = replace(res, receipt_id=paper_receipt_id(stub))
        items.append(b)
        out.append((b, stub))
    store = world.store()
    try:
        store.commit_chunk(None, "paper-test", items)
    finally:
        store.close()
    return out


# --------------------------------------------------------------------------- forging


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def resign(bundle: Path, key: Ed25519PrivateKey, *, replace_key: bool = False) -> None:
    """What a dishonest authority (or a thief of the key) does after editing files:
    re-hash every file into the manifest and sign it again with ``key``."""
    m = read_json(bundle / "manifest.json")
    signed = m["signed"]
    if replace_key:
        pem = public_key_pem(key.public_key())
        signed["public_key"] = pem
        (bundle / "results.pub").write_text(pem, encoding="utf-8")
    for name in signed["files"]:
        signed["files"][name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    m["signature"]["value"] = base64.b64encode(key.sign(canonical(signed).encode())).decode()
    write_json(bundle / "manifest.json", m)


def ballot_lines(bundle: Path) -> list[str]:
    return (bundle / "ballots.jsonl").read_text(encoding="utf-8").split("\n")[:-1]


def write_lines(bundle: Path, lines: list[str]) -> None:
    (bundle / "ballots.jsonl").write_text("".join(x + "\n" for x in lines), encoding="utf-8")


def fix_tree_head(bundle: Path) -> None:
    """Recompute the tree head of the (edited) ballots.jsonl into merkle.json and the manifest."""
    lines = ballot_lines(bundle)
    root = merkle.root([merkle.leaf_hash(x.encode()) for x in lines]).hex()
    m = read_json(bundle / "merkle.json")
    m["tree_size"], m["root_hash"] = len(lines), root
    m["history"][-1].update(tree_size=len(lines), root_hash=root)
    write_json(bundle / "merkle.json", m)
    man = read_json(bundle / "manifest.json")
    man["signed"].update(tree_size=len(lines), root_hash=root)
    write_json(bundle / "manifest.json", man)

"""Helpers shared by the API tests (test_api*.py, test_page_browser.py)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.formats.election_definition import load_election
from engine.model.election import Election
from engine.model.tokens import issue_token
from engine.storage.apikey_store import ApiKeyStore
from engine.storage.keyfiles import load_private_key
from engine.storage.store import Store


@dataclass
class ApiWorld:
    """A fresh store holding the small Paris election, with one operator and one admin key."""

    dir: Path
    db_url: str
    store: Store
    election: Election
    keys_dir: Path
    authority: Ed25519PrivateKey
    operator_key: str
    admin_key: str

    def token(self, n: int, election_id: str | None = None, key: Ed25519PrivateKey | None = None) -> str:
        serial = hashlib.sha256(f"api-test-voter-{n}".encode()).digest()[:10]
        return issue_token(key or self.authority, election_id or self.election.id, serial)

    def op(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator_key}"}

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def project_ids(self, envelope: str) -> list[str]:
        return [p.id for p in self.election.projects_in(envelope)]

    def vote(self, n: int, selections: dict[str, list[str]], cast_at: str = "2026-09-10T10:00:00Z",
             **token_kw: object) -> dict[str, object]:
        return {"token": self.token(n, **token_kw), "cast_at": cast_at, "selections": selections}  # type: ignore[arg-type]


def make_world(workdir: Path, fixture: Path, db_url: str | None = None) -> ApiWorld:
    """``fixture``: a generate_paris() output directory (its keys are only read); the store
    is a new SQLite file in ``workdir`` unless ``db_url`` names another (empty) store."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{workdir / 'pbcount.db'}"
    store = Store.open(db_url)
    election = load_election(fixture / "election.toml")
    store.freeze_election(election)
    keys = ApiKeyStore(store)
    _, op = keys.create("operator", "test station")
    _, admin = keys.create("admin", "test admin")
    return ApiWorld(workdir, db_url, store, election, fixture / "keys",
                    load_private_key(fixture / "keys"), op, admin)


REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    *args: str, ready: str = "/openapi.json", timeout: float = 90
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real ``pbcount serve ARGS`` on 127.0.0.1 and a free port, once ``ready`` answers 200;
    yields (base URL, process) and stops the server on exit. Fails the test if it exits early."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pbcount", "serve", *args, "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ, "PBCOUNT_PROGRESS": "0"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"pbcount serve exited with {proc.returncode}: "
                            f"{proc.stdout.read().decode() if proc.stdout else ''}")
            try:
                if httpx.get(f"{base}{ready}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"pbcount serve {' '.join(args)} did not answer within {timeout:g} s")
            time.sleep(0.3)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

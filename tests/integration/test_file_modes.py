"""Files that link voters to ballots are private (issue 13.2).

Under the usual umask 022 a file is created world-readable; the store (serial <-> selections
<-> time), a token register (voter id <-> token) and the renderer's ``ballots.csv`` (ballot
serial <-> voter serial) must be created 0600 and the key directory 0700, and a
group/world-writable ``authority.pub`` (anyone could swap the key tokens are checked with)
is refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ballot_scan.render import read_token_register, render_ballots
from engine.errors import KeyFileError
from engine.formats.election_definition import load_election
from engine.storage.keyfiles import init_keys, load_public_key
from engine.storage.store import Store
from pbcount.cli import app


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_sqlite_store_and_its_wal_files_are_created_0600(tmp_path: Path, small_paris: Path) -> None:
    db = tmp_path / "pbcount.db"
    store = Store.open(f"sqlite:///{db}")
    store.freeze_election(load_election(small_paris / "election.toml"))
    try:
        data_files = [db, *(tmp_path / f"pbcount.db-{x}" for x in ("wal", "shm", "journal"))]
        assert (tmp_path / "pbcount.db-wal").exists()
        for p in data_files:
            if p.exists():
                assert mode(p) == 0o600, (p.name, oct(mode(p)))
    finally:
        store.close()


def test_an_existing_world_readable_store_is_made_private(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    Store.open(f"sqlite:///{db}").close()
    db.chmod(0o644)
    Store.open(f"sqlite:///{db}").close()
    assert mode(db) == 0o600


def test_token_register_written_by_tokens_issue_is_0600(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    init_keys(keys)
    out = tmp_path / "tokens.csv"
    tiny = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "tiny_election.toml"
    r = CliRunner().invoke(app, ["tokens", "issue", "-e", str(tiny), "--count", "2", "-o", str(out),
                                 "--keys", str(keys)], env={"PBCOUNT_PROGRESS": "0"})
    assert r.exit_code == 0, r.output
    assert mode(out) == 0o600


def test_renderer_ballots_csv_is_0600(small_paris: Path, tmp_path: Path) -> None:
    e = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")[:1]
    render_ballots(e, "PARIS", tmp_path, dpi=72, tokens=tokens, seed=1, pdf=False)
    assert mode(tmp_path / "ballots.csv") == 0o600


def test_key_directory_is_0700(tmp_path: Path) -> None:
    init_keys(tmp_path / "keys")
    assert mode(tmp_path / "keys") == 0o700


def test_group_or_world_writable_authority_pub_is_refused(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    init_keys(keys)
    load_public_key(keys)  # 0644 by default: fine
    for bad in (0o664, 0o646):
        (keys / "authority.pub").chmod(bad)
        with pytest.raises(KeyFileError, match="writable by others"):
            load_public_key(keys)


def test_fixture_files_linking_voters_to_votes_are_0600(tmp_path: Path) -> None:
    """The demo's generated e-votes (token + selections) and token registers."""
    from fixtures.paris import generate_paris

    generate_paris(tmp_path, seed=3, voters=60, paper_voters=10)
    for name in ("evotes.jsonl", "tokens.csv", "paper_tokens.csv"):
        assert mode(tmp_path / name) == 0o600, name


def test_test_deck_truth_file_is_0600(small_paris: Path, tmp_path: Path) -> None:
    """``expected.json`` of the demo's test deck links voter serials to ballots."""
    from ballot_scan.testdeck import DeckOptions, make_testdeck

    e = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")[:1]
    make_testdeck(e, ["paris"], tokens, tmp_path / "deck", count=1, seed=1, opts=DeckOptions(dpi=72))
    assert mode(tmp_path / "deck" / "expected.json") == 0o600


@pytest.mark.parametrize("command", ["upgrade", "status"])
def test_pbcount_db_creates_a_new_store_0600(tmp_path: Path, command: str) -> None:
    """`pbcount db upgrade` (and `status`) on a new SQLite file open it as the store does."""
    db = tmp_path / "fresh.db"
    r = CliRunner().invoke(app, ["db", command, "--db", f"sqlite:///{db}"])
    assert r.exit_code == 0, r.output
    assert db.exists() and mode(db) == 0o600, oct(mode(db))

"""The hash-chained audit log: tamper detection, concurrent appends from several stations,
and the operator actions of a counting night (freeze, ingest with the file's SHA-256,
count, publish) ending up in the bundle where ``pbcount verify`` checks the chain."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.model.audit import GENESIS, AuditEntry, make_entry, verify_chain
from engine.storage.store import Store
from pbcount.cli import app


def chain(n: int) -> list[AuditEntry]:
    out: list[AuditEntry] = []
    for i in range(n):
        out.append(make_entry(out[-1] if out else None, f"2026-05-03T20:0{i}:00Z", f"op{i % 2}",
                              "batch_ingested", {"sha256": f"{i:064x}", "accepted": i}))
    return out


def dicts(entries: list[AuditEntry]) -> list[dict[str, object]]:
    return [e.to_dict() for e in entries]


def test_intact_chain_verifies_and_links_each_entry_to_the_previous() -> None:
    entries = chain(5)
    assert verify_chain(dicts(entries)) is None
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]


def test_changed_details_are_detected_at_that_entry() -> None:
    d = dicts(chain(5))
    d[2]["details"] = {"sha256": "0" * 64, "accepted": 999}
    assert verify_chain(d) == "entry 3: entry_hash does not match its content"


def test_rehashed_forgery_breaks_the_next_link() -> None:
    """Recomputing the changed entry's own hash does not help: entry 4 points at the old one."""
    entries = chain(5)
    forged = make_entry(entries[1], entries[2].at, "intruder", "batch_ingested", {"accepted": 0})
    d = dicts([*entries[:2], forged, *entries[3:]])
    assert verify_chain(d) == "entry 4: prev_hash does not match entry 3"


@pytest.mark.parametrize("mutation", ["drop", "swap", "truncate_start"])
def test_dropped_or_reordered_entries_are_detected(mutation: str) -> None:
    d = dicts(chain(5))
    if mutation == "drop":
        del d[1]
    elif mutation == "swap":
        d[1], d[2] = d[2], d[1]
    else:
        d = d[1:]
    message = verify_chain(d)
    assert message is not None and message.startswith("entry ")


def test_changed_actor_or_time_detected() -> None:
    entries = chain(3)
    for field in ("actor", "at", "action"):
        bad = dicts([entries[0], replace(entries[1], **{field: "x"}), entries[2]])
        assert verify_chain(bad) == "entry 2: entry_hash does not match its content"


def append_many(url: str, station: int, n: int) -> None:
    store = Store.open(url)
    for i in range(n):
        store.append_audit(f"station-{station}", "batch_ingested", {"station": station, "i": i})
    store.close()


def test_stations_appending_at_once_keep_one_unbroken_chain(store_url: str) -> None:
    Store.open(store_url).close()
    ctx = multiprocessing.get_context("fork")  # children open their own Store
    procs = [ctx.Process(target=append_many, args=(store_url, s, 15)) for s in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * 4
    store = Store.open(store_url)
    entries = store.audit_entries()
    store.close()
    assert [e.seq for e in entries] == list(range(1, 61))
    assert verify_chain(dicts(entries)) is None
    assert sorted((e.details["station"], e.details["i"]) for e in entries) == [
        (s, i) for s in range(4) for i in range(15)
    ]


def test_counting_night_actions_are_logged_and_exported_and_verified(
    small_paris: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    shutil.copytree(small_paris / "keys", keys)
    db = f"sqlite:///{tmp_path / 'night.sqlite'}"
    votes = small_paris / "evotes.jsonl"
    runner = CliRunner()
    env = {"PBCOUNT_PROGRESS": "0"}
    steps = [
        ["ingest", "evotes", str(votes), "-e", str(small_paris / "election.toml"), "--keys", str(keys),
         "--db", db, "-j", "1"],
        ["results", "--out", str(tmp_path / "results"), "--db", db, "--actor", "alice"],
        ["publish", "--out", str(tmp_path / "bundle"), "--db", db, "--keys", str(keys), "--actor", "bob"],
    ]
    for args in steps:
        res = runner.invoke(app, args, env=env)
        assert res.exit_code == 0, (args[0], res.output)

    store = Store.open(db)
    entries = store.audit_entries()
    store.close()
    assert [e.action for e in entries] == ["election_frozen", "batch_ingested", "counted", "publish"]
    ingested = entries[1].details
    assert ingested["sha256"] == hashlib.sha256(votes.read_bytes()).hexdigest()
    assert ingested["source"] == "evotes.jsonl"
    counted = entries[2]
    assert counted.actor == "alice"
    projects_csv = (tmp_path / "results" / "projects.csv").read_bytes()
    assert counted.details["projects_csv_sha256"] == hashlib.sha256(projects_csv).hexdigest()
    assert entries[3].actor == "bob"

    bundle = tmp_path / "bundle"
    exported = [json.loads(line) for line in (bundle / "audit.jsonl").read_text().splitlines()]
    assert exported == dicts(entries)
    ok = runner.invoke(app, ["verify", str(bundle), "--key", str(keys / "results.pub")])
    assert ok.exit_code == 0, ok.output

    exported[1]["details"]["accepted"] += 1  # someone edits the exported log
    (bundle / "audit.jsonl").write_text("".join(json.dumps(e) + "\n" for e in exported))
    bad = runner.invoke(app, ["verify", str(bundle), "--key", str(keys / "results.pub")])
    assert bad.exit_code != 0
    assert "audit" in bad.output

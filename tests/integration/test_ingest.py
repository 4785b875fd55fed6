"""E-vote ingestion against the fixture manifest: every injected fault, exact counts, idempotency."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from engine.formats.election_definition import load_election
from engine.formats.results_csv import envelopes_csv, projects_csv, summary_csv
from engine.services.count import count_store
from engine.services.ingest import ingest_evote_file
from engine.storage import Store
from engine.storage.keyfiles import load_public_key, load_receipt_secret


def ingest(fx: Path, db: str, path: Path | None = None, workers: int = 2):  # type: ignore[no-untyped-def]
    store = Store.open(db)
    report = ingest_evote_file(store, path or fx / "evotes.jsonl", load_election(fx / "election.toml"),
                               load_public_key(fx / "keys"), load_receipt_secret(fx / "keys"), workers=workers)
    return store, report


@pytest.fixture(scope="module")
def ingested(small_paris: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path_factory.mktemp('ingest') / 'db.sqlite'}"
    store, report = ingest(small_paris, db)
    manifest = json.loads((small_paris / "manifest.json").read_text())
    return store, report, manifest, db


def test_counts_match_manifest_exactly(ingested) -> None:  # type: ignore[no-untyped-def]
    store, report, manifest, _ = ingested
    exp = manifest["expected"]
    assert report.lines == manifest["lines"]
    assert report.accepted == exp["accepted"]
    assert report.already_known == exp["already_known"]
    assert report.rejected == exp["rejected_total"]
    assert dict(report.rejected_by_reason) == exp["rejected"]
    assert store.ballot_count() == exp["accepted"]
    assert store.rejection_counts() == exp["rejected"]


def test_every_injected_fault_rejected_at_its_line_with_its_reason(ingested) -> None:  # type: ignore[no-untyped-def]
    store, _report, manifest, _ = ingested
    logged = {(r.source_line, r.reason) for r in store.iter_rejections()}
    expected = {(f["line"], f["expected_reason"]) for f in manifest["faults"] if "expected_reason" in f}
    assert logged == expected
    for r in store.iter_rejections():
        assert r.source_name == "evotes.jsonl" and r.detail


def test_dedup_matches_manifest(ingested) -> None:  # type: ignore[no-untyped-def]
    store, _r, manifest, _ = ingested
    result = count_store(store)
    exp = manifest["expected"]
    assert len(result.dedup.counted) == exp["counted"]
    reasons = [s.reason for s in result.dedup.superseded]
    assert reasons.count("superseded_by_later_online") == exp["superseded_by_later_online"]
    assert len(reasons) == exp["superseded_by_later_online"]
    # revote lines: the later line of the voter is the one counted
    revote_lines = {f["line"] for f in manifest["faults"] if f["kind"] == "revote"}
    counted_lines = {b.source.line for b in result.dedup.counted}
    assert revote_lines <= counted_lines


def test_reingestion_changes_nothing(ingested, small_paris: Path) -> None:  # type: ignore[no-untyped-def]
    store, report1, manifest, db = ingested
    before = (store.ballot_count(), store.rejection_counts())
    store2, report2 = ingest(small_paris, db)
    assert (store2.ballot_count(), store2.rejection_counts()) == before
    assert report2.accepted == 0
    assert report2.rejected == 0  # the batch was complete: nothing re-read
    assert report2.resumed_from_line == manifest["lines"]


def test_same_content_under_another_name_is_known(ingested, small_paris: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, _r, manifest, db = ingested
    copy = tmp_path / "evotes-copy.jsonl"
    shutil.copy(small_paris / "evotes.jsonl", copy)
    with copy.open("a") as f:
        f.write("\n")  # different file hash, same votes
    before = store.ballot_count()
    _s, report = ingest(small_paris, db, copy, workers=1)
    assert report.accepted == 0
    assert report.already_known == manifest["expected"]["accepted"] + manifest["expected"]["already_known"]
    assert store.ballot_count() == before


def test_single_and_multi_process_agree(small_paris: Path, tmp_path: Path, ingested) -> None:  # type: ignore[no-untyped-def]
    store1, *_ = ingested
    s2, _ = ingest(small_paris, f"sqlite:///{tmp_path / 'one.sqlite'}", workers=1)
    k1 = sorted((b.ballot_key, b.receipt_id) for b in store1.iter_ballots())
    k2 = sorted((b.ballot_key, b.receipt_id) for b in s2.iter_ballots())
    assert k1 == k2


def test_results_csvs_consistent(ingested) -> None:  # type: ignore[no-untyped-def]
    store, _r, manifest, _ = ingested
    result = count_store(store)
    e = result.election
    projects = list(csv.DictReader(io.StringIO(projects_csv(result))))
    assert len(projects) == len(e.projects)
    for env in e.envelopes:
        rows = [r for r in projects if r["envelope_id"] == env.id]
        funded = [r for r in rows if r["selected"] == "1"]
        spent = sum(int(r["cost"]) for r in funded)
        assert spent <= env.budget
        assert spent == result.allocation.envelopes[env.id].cost
        for r in rows:
            assert int(r["votes_total"]) == int(r["votes_online"]) + int(r["votes_paper"])
            assert r["reason"].startswith("funded") == (r["selected"] == "1")
        # vote totals recomputed independently from the counted ballots
        for r in rows:
            n = sum(1 for b in result.dedup.counted if r["project_id"] in b.projects(env.id))
            assert int(r["votes_total"]) == n
    envs = list(csv.DictReader(io.StringIO(envelopes_csv(result))))
    assert [r["envelope_id"] for r in envs] == [x.id for x in e.envelopes]  # no TOTAL row
    summary = {r["metric"]: r["value"] for r in csv.DictReader(io.StringIO(summary_csv(result)))}
    assert int(summary["voters"]) == manifest["expected"]["counted"]
    assert int(summary["rejected"]) == manifest["expected"]["rejected_total"]
    assert int(summary["superseded"]) == manifest["expected"]["superseded_by_later_online"]
    assert int(summary["budget"]) == sum(int(r["budget"]) for r in envs) == sum(x.budget for x in e.envelopes)
    assert int(summary["spent"]) == sum(int(r["spent"]) for r in envs)


def test_audit_log_records_batch(ingested) -> None:  # type: ignore[no-untyped-def]
    store, _r, _m, _ = ingested
    entries = store.audit_entries()
    batch = [e for e in entries if e.action == "batch_ingested"]
    assert batch and len(batch[0].details["sha256"]) == 64
    from engine.model.audit import verify_chain

    assert verify_chain([e.to_dict() for e in entries]) is None


def test_crash_midway_resumes(small_paris: Path, tmp_path: Path) -> None:
    """Simulate a crash after the first chunk: the rerun resumes and the result is complete."""
    from engine.services import ingest as ingest_mod

    db = f"sqlite:///{tmp_path / 'crash.sqlite'}"
    store = Store.open(db)
    fx = small_paris
    calls = {"n": 0}
    real = store.commit_chunk

    def flaky(*a, **k):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash")
        return real(*a, **k)

    store.commit_chunk = flaky  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        ingest_mod.ingest_evote_file(store, fx / "evotes.jsonl", load_election(fx / "election.toml"),
                                     load_public_key(fx / "keys"), load_receipt_secret(fx / "keys"),
                                     workers=1, chunk_lines=500)
    partial = Store.open(db).ballot_count()
    assert 0 < partial < 1000
    s2, report = ingest(fx, db, workers=1)
    assert report.resumed_from_line == 500
    manifest = json.loads((fx / "manifest.json").read_text())
    assert s2.ballot_count() == manifest["expected"]["accepted"]
    assert s2.rejection_counts() == manifest["expected"]["rejected"]

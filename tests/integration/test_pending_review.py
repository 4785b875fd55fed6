"""Publishing while paper pages are still in review is never silent (issue 13.14).

``publish`` refuses unless ``--allow-pending`` (API: ``allow_pending=true``), ``publish``,
``results`` and the results page say how many pages are pending, and the bundle records the
count in the signed manifest, which the verifier checks against ``adjudication.jsonl``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.api_fixtures import make_world as make_api_world
from helpers.bundle_world import World, make_world, read_json, resign, write_json
from typer.testing import CliRunner

from api import ApiSettings, create_app
from engine.errors import PublishError
from engine.services.publish import publish_store
from engine.storage.review_store import NewReviewItem, ReviewStore
from engine.storage.store import Store
from engine.verifier import VerificationFailure, verify_bundle
from pbcount.cli import app

ENV = {"PBCOUNT_PROGRESS": "0"}


def queue_pages(store: Store, n: int) -> None:
    ReviewStore(store).add([NewReviewItem(f"scan-{i}.png", 1, f"{i:064x}", None, None, None,
                                          ["page_unidentified"], {}, []) for i in range(1, n + 1)])


@pytest.fixture
def world(small_paris: Path, tmp_path: Path) -> World:
    w = make_world(small_paris, tmp_path / "world")
    store = w.store()
    try:
        queue_pages(store, 2)
    finally:
        store.close()
    return w


def test_publish_refuses_pending_pages_unless_allowed(world: World, tmp_path: Path) -> None:
    store = world.store()
    try:
        with pytest.raises(PublishError, match="2 paper pages are still pending review"):
            publish_store(store, world.results_key(), tmp_path / "b", actor="test")
        assert store.publications() == []  # nothing recorded
        report = publish_store(store, world.results_key(), tmp_path / "b", actor="test", allow_pending=True)
    finally:
        store.close()
    assert report.pending_review == 2
    signed = read_json(tmp_path / "b" / "manifest.json")["signed"]
    assert signed["pending_review"] == 2
    v = verify_bundle(tmp_path / "b", key_pem=(world.keys / "results.pub").read_bytes())
    assert any("2 paper pages were pending review" in n for n in v.notes)


def test_verifier_checks_the_signed_pending_count(world: World, tmp_path: Path) -> None:
    store = world.store()
    try:
        publish_store(store, world.results_key(), tmp_path / "b", actor="test", allow_pending=True)
    finally:
        store.close()
    bad = tmp_path / "bad"
    shutil.copytree(tmp_path / "b", bad)
    m = read_json(bad / "manifest.json")
    m["signed"]["pending_review"] = 0  # a dishonest authority hides the pending pages
    write_json(bad / "manifest.json", m)
    resign(bad, world.results_key())
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(bad, key_pem=(world.keys / "results.pub").read_bytes())
    assert (exc.value.file, exc.value.check) == ("adjudication.jsonl", "pending_review")


def test_cli_publish_and_results_say_how_many_pages_are_pending(world: World, tmp_path: Path) -> None:
    runner = CliRunner()
    db = ["--db", f"sqlite:///{world.db}"]
    r = runner.invoke(app, ["publish", "-o", str(tmp_path / "b"), *db, "--keys", str(world.keys)], env=ENV)
    assert r.exit_code == 2 and "2 paper pages are still pending review" in r.output and "--allow-pending" in r.output
    r = runner.invoke(app, ["publish", "-o", str(tmp_path / "b"), *db, "--keys", str(world.keys), "--allow-pending"],
                      env=ENV)
    assert r.exit_code == 0, r.output
    assert "2 paper pages pending review" in r.output
    r = runner.invoke(app, ["results", "-o", str(tmp_path / "csv"), *db], env=ENV)
    assert r.exit_code == 0, r.output
    assert "2 paper pages pending review" in r.output


def test_api_publish_needs_allow_pending_and_the_page_shows_the_count(small_paris: Path, tmp_path: Path) -> None:
    w = make_api_world(tmp_path / "w", small_paris)
    queue_pages(w.store, 3)
    a = create_app(ApiSettings(keys_dir=w.keys_dir, bundle_dir=w.dir / "bundle"), store=w.store)
    with TestClient(a, raise_server_exceptions=False) as client:
        r = client.post("/v1/publish", headers=w.admin())
        assert r.status_code == 409 and r.json()["error"]["code"] == "pending_review", r.text
        assert "3 paper pages" in r.json()["error"]["message"]
        r = client.post("/v1/publish", params={"allow_pending": "true"}, headers=w.admin())
        assert r.status_code == 200 and r.json()["pending_review"] == 3, r.text
        assert client.get("/v1/results").json()["turnout"]["pending_review"] == 3
        page = client.get("/?lang=en").text
        assert 'data-key="pending-review">3<' in page

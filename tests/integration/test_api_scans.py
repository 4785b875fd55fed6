"""HTTP API, paper side: scan uploads (multipart), the review queue and adjudication."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.api_fixtures import ApiWorld, make_world

from api import ApiSettings, create_app
from ballot_scan.render import read_token_register
from ballot_scan.testdeck import DeckOptions, make_testdeck
from engine.storage.review_store import ReviewStore

# every ballot carries one ambiguous mark: every page must go to review
ALL_REVIEW = DeckOptions(p_blank_page=0, p_foreign=0, p_blank_ballot=0, p_overvote=0, p_ambiguous=1.0,
                         p_damaged_qr=0, p_upside_down=0)


@pytest.fixture(scope="module")
def deck(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from engine.formats.election_definition import load_election

    e = load_election(small_paris / "election.toml")
    rows = list(csv.DictReader((small_paris / "paper_tokens.csv").open()))
    serials = {r["serial"] for r in rows[:2]}
    tokens = [t for t in read_token_register(small_paris / "paper_tokens.csv") if t.serial in serials]
    out = tmp_path_factory.mktemp("deck")
    make_testdeck(e, ["ar11"], tokens, out, count=2, seed=11, opts=ALL_REVIEW)
    return out


@pytest.fixture
def world(tmp_path: Path, small_paris: Path) -> ApiWorld:
    return make_world(tmp_path / "w", small_paris)


@pytest.fixture
def client(world: ApiWorld) -> Iterator[TestClient]:
    app = create_app(ApiSettings(keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle"), store=world.store)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def images(deck: Path) -> list[Path]:
    return sorted(p for p in deck.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))


def upload(client: TestClient, world: ApiWorld, deck: Path, extra: list[tuple[str, bytes]] = ()) -> dict:  # type: ignore[assignment]
    files = [("files", (p.name, p.read_bytes(), "image/png")) for p in images(deck)]
    files += [("files", (name, data, "application/octet-stream")) for name, data in extra]
    r = client.post("/v1/scans", files=files, headers=world.op())
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_paper_endpoints_need_an_operator_key(client: TestClient, deck: Path) -> None:
    p = images(deck)[0]
    assert client.post("/v1/scans", files=[("files", (p.name, p.read_bytes(), "image/png"))]).status_code == 401
    assert client.get("/v1/review").status_code == 401
    assert client.post("/v1/review/1", json={"decision": "reject"}).status_code == 401


def test_upload_review_and_adjudicate(world: ApiWorld, client: TestClient, deck: Path) -> None:
    rep = upload(client, world, deck, extra=[("scan.pdf", b"%PDF-1.7 not an image")])
    by_file = {p["file"]: p for p in rep["pages"]}
    assert by_file["scan.pdf"]["status"] == "rejected" and "pdf_unreadable" in by_file["scan.pdf"]["reasons"]
    for img in images(deck):
        assert by_file[img.name]["status"] == "needs_review"
        assert "ambiguous_mark" in by_file[img.name]["reasons"]
    assert rep["summary"]["needs_review"] == 2 and rep["summary"]["rejected"] == 1

    again = upload(client, world, deck)  # same images: queued once
    assert again["summary"]["review_new"] == 0

    queue = client.get("/v1/review", headers=world.op()).json()
    assert queue["counts"] == {"pending": 2}
    assert all("token" not in it for it in queue["items"])
    first, second = queue["items"]
    chosen = sorted(first["proposed_selections"])[:1] or [world.project_ids("ar11")[0]]
    r = client.post(f"/v1/review/{first['id']}", json={"decision": "accept", "selections": chosen,
                                                      "note": "faint mark is a smudge"}, headers=world.op())
    assert r.status_code == 200, r.text
    receipt = r.json()["receipt_id"]
    stored = [b for b in world.store.iter_ballots() if b.receipt_id == receipt]
    assert len(stored) == 1 and stored[0].channel.value == "paper" and stored[0].projects("ar11") == tuple(chosen)
    assert client.post(f"/v1/review/{first['id']}", json={"decision": "reject"},
                       headers=world.op()).status_code == 409
    bad = client.post(f"/v1/review/{second['id']}", json={"decision": "accept", "selections": ["PAR-001"]},
                      headers=world.op())
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_decision"
    r = client.post(f"/v1/review/{second['id']}", json={"decision": "reject", "note": "torn"}, headers=world.op())
    assert r.status_code == 200 and r.json()["item"]["status"] == "rejected"
    assert client.post("/v1/review/9999", json={"decision": "reject"}, headers=world.op()).status_code == 404
    assert ReviewStore(world.store).counts() == {"accepted": 1, "rejected": 1}
    actions = {(e.action, e.actor) for e in world.store.audit_entries()}
    op_actor = next(a for act, a in actions if act == "paper_scanned")
    assert ("review_resolved", op_actor) in actions and ("review_rejected", op_actor) in actions


def test_scans_are_accepted_after_the_close(world: ApiWorld, client: TestClient, deck: Path) -> None:
    client.post("/v1/election/close", headers=world.admin())
    rep = upload(client, world, deck)
    assert rep["summary"]["needs_review"] == 2


def test_scan_settings_from_the_api_are_validated_and_returned(world: ApiWorld, client: TestClient,
                                                              deck: Path) -> None:
    img = sorted(deck.glob("*.png")) or sorted(deck.glob("*.jpg"))
    files = [("files", (img[0].name, img[0].read_bytes()))]
    headers = world.op()
    bad = client.post("/v1/scans", params={"set": "no_such=1"}, files=files, headers=headers)
    assert bad.status_code == 422 and "no_such" in bad.text
    ok = client.post("/v1/scans", params={"set": "mark_min_span_mm=2.9"}, files=files, headers=headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["summary"]["settings"]["mark_min_span_mm"] == 2.9

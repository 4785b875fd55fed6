"""HTTP API (FastAPI TestClient): every endpoint, role checks, error codes, idempotency."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.testclient import TestClient
from helpers.api_fixtures import ApiWorld, make_world
from typer.testing import CliRunner

from api import ApiSettings, create_app
from engine.formats.election_canonical import canonical_json
from engine.model.audit import verify_chain
from engine.storage.apikey_store import ApiKeyStore
from engine.storage.schema import api_keys, ballots

# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def world(tmp_path: Path, small_paris: Path) -> ApiWorld:
    return make_world(tmp_path / "w", small_paris)


def client_for(world: ApiWorld, **settings: object) -> TestClient:
    app = create_app(ApiSettings(keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle", **settings),
                     store=world.store)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(world: ApiWorld) -> Iterator[TestClient]:
    with client_for(world) as c:
        yield c


def cheap(world: ApiWorld, envelope: str, k: int = 1, skip: int = 0) -> list[str]:
    """The ``k`` cheapest projects of an envelope after ``skip`` (always a valid selection)."""
    ps = sorted(world.election.projects_in(envelope), key=lambda p: (p.cost, p.id))
    return [p.id for p in ps[skip: skip + k]]


def ok_vote(world: ApiWorld, n: int, skip: int = 0, cast_at: str = "2026-09-10T10:00:00Z") -> dict[str, object]:
    return world.vote(n, {"paris": cheap(world, "paris", 1, skip), "ar11": cheap(world, "ar11", 2, skip)},
                      cast_at=cast_at)


# --------------------------------------------------------------------------- vote intake


def test_vote_is_stored_with_its_receipt(world: ApiWorld, client: TestClient) -> None:
    v = ok_vote(world, 1)
    r = client.post("/v1/votes", json=v, headers=world.op())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "accepted" and body["voter_ballots"] == 1
    stored = list(world.store.iter_ballots())
    assert len(stored) == 1
    b = stored[0]
    assert b.receipt_id == body["receipt_id"]
    assert dict(b.selections) == {k: tuple(sorted(p)) for k, p in v["selections"].items()}  # type: ignore[union-attr]
    assert b.cast_at.startswith("2026-09-10T10:00:00")


def test_same_vote_twice_same_receipt_counted_once(world: ApiWorld, client: TestClient) -> None:
    v = ok_vote(world, 2)
    r1 = client.post("/v1/votes", json=v, headers=world.op())
    r2 = client.post("/v1/votes", json=v, headers=world.op())
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r2.json()["status"] == "already_received"
    assert r1.json()["receipt_id"] == r2.json()["receipt_id"]
    assert world.store.ballot_count() == 1
    doc = client.post("/v1/count", headers=world.admin()).json()
    paris = next(e for e in doc["envelopes"] if e["id"] == "paris")
    voted = next(p for p in paris["projects"] if p["id"] == v["selections"]["paris"][0])  # type: ignore[index]
    assert voted["votes_total"] == 1


def test_new_vote_with_same_token_follows_precedence(world: ApiWorld, client: TestClient) -> None:
    first = ok_vote(world, 3, skip=0, cast_at="2026-09-10T10:00:00Z")
    later = ok_vote(world, 3, skip=3, cast_at="2026-09-11T09:00:00Z")
    # the later vote is sent first: the precedence rule, not the arrival order, decides
    r_late = client.post("/v1/votes", json=later, headers=world.op())
    r_first = client.post("/v1/votes", json=first, headers=world.op())
    assert r_late.status_code == r_first.status_code == 201
    assert r_first.json()["voter_ballots"] == 2
    assert r_first.json()["receipt_id"] != r_late.json()["receipt_id"]
    assert r_first.json()["precedence"] == world.election.precedence == "paper-first"
    doc = client.post("/v1/count", headers=world.admin()).json()
    paris = {p["id"]: p["votes_total"] for e in doc["envelopes"] if e["id"] == "paris" for p in e["projects"]}
    assert paris[later["selections"]["paris"][0]] == 1  # type: ignore[index]
    assert paris[first["selections"]["paris"][0]] == 0  # type: ignore[index]
    assert doc["turnout"]["superseded_by_reason"] == {"superseded_by_later_online": 1}


def _bad_votes(world: ApiWorld) -> dict[str, dict[str, object]]:
    ar04 = cheap(world, "ar04")
    return {
        "token_bad_signature": world.vote(10, {"ar04": ar04}, key=Ed25519PrivateKey.generate()),
        "token_foreign_election": world.vote(11, {"ar04": ar04}, election_id="lyon-2026"),
        "token_truncated": {"token": world.token(12)[:60], "cast_at": "2026-09-10T10:00:00Z",
                            "selections": {"ar04": ar04}},
        "token_malformed": {"token": "hello", "cast_at": "2026-09-10T10:00:00Z", "selections": {"ar04": ar04}},
        "project_not_in_envelope": world.vote(13, {"ar03": ar04}),
        "unknown_envelope": world.vote(14, {"ar99": ar04}),
        "unknown_project": world.vote(15, {"ar04": ["AR04-999"]}),
        "too_many_selections": world.vote(16, {"ar04": cheap(world, "ar04", 5)}),
        "envelope_not_allowed": world.vote(17, {"ar04": ar04, "ar05": cheap(world, "ar05")}),
        "duplicate_project": world.vote(18, {"ar04": ar04 * 2}),
        "empty_ballot": world.vote(19, {"ar04": []}),
        "bad_cast_time": world.vote(20, {"ar04": ar04}, cast_at="yesterday"),
        "over_budget_selection": world.vote(21, {"ar01": sorted(
            world.project_ids("ar01"), key=lambda p: -world.election.project(p).cost)[:4]}),  # type: ignore[union-attr]
    }


def test_every_rejection_reason_is_a_422_with_its_code(world: ApiWorld, client: TestClient) -> None:
    bad = _bad_votes(world)
    for reason, vote in bad.items():
        r = client.post("/v1/votes", json=vote, headers=world.op())
        assert r.status_code == 422, (reason, r.text)
        err = r.json()["error"]
        assert err["code"] == reason, (reason, err)
        assert err["message"]
    assert world.store.ballot_count() == 0
    assert world.store.rejection_counts() == dict.fromkeys(bad, 1)


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        ({"cast_at": "2026-09-10T10:00:00Z", "selections": {}}, "missing_field", "'token'"),
        ({"token": "PB1-X", "cast_at": "2026-09-10T10:00:00Z", "selections": {"a": "b"}}, "missing_field",
         "selections['a']"),
        ({"token": 5, "cast_at": "2026-09-10T10:00:00Z", "selections": {}}, "missing_field", "'token'"),
        ({"token": "PB1-X", "cast_at": "x", "selections": {}, "voter": "me"}, "unknown_field", "'voter'"),
    ],
)
def test_schema_errors_name_the_field(world: ApiWorld, client: TestClient, body: dict, code: str, where: str) -> None:
    """The body follows the one vote grammar (engine.formats.evote): its reasons, as for a file line."""
    r = client.post("/v1/votes", json=body, headers=world.op())
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == code and where in err["message"], err


def test_not_json_is_a_clear_422(world: ApiWorld, client: TestClient) -> None:
    r = client.post("/v1/votes", content=b"{not json", headers={**world.op(), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_line"


def test_no_votes_after_close(world: ApiWorld, client: TestClient) -> None:
    assert client.post("/v1/votes", json=ok_vote(world, 30), headers=world.op()).status_code == 201
    r = client.post("/v1/election/close", headers=world.admin())
    assert r.status_code == 200 and r.json()["already_closed"] is False
    r = client.post("/v1/votes", json=ok_vote(world, 31), headers=world.op())
    assert r.status_code == 409 and r.json()["error"]["code"] == "election_closed"
    r = client.post("/v1/votes:batch", content=json.dumps(ok_vote(world, 32)).encode(), headers=world.op())
    assert r.status_code == 409 and r.json()["error"]["code"] == "election_closed"
    again = client.post("/v1/election/close", headers=world.admin()).json()
    assert again["already_closed"] is True
    assert world.store.ballot_count() == 1
    assert world.store.closed_at() == again["closed_at"]


def test_batch_report_matches_the_fixture_faults(world: ApiWorld, client: TestClient, small_paris: Path) -> None:
    data = (small_paris / "evotes.jsonl").read_bytes()
    manifest = json.loads((small_paris / "manifest.json").read_text())
    r = client.post("/v1/votes:batch?name=evotes.jsonl", content=data,
                    headers={**world.op(), "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    rep = r.json()
    expected_reasons = {f["line"]: f["expected_reason"] for f in manifest["faults"] if "expected_reason" in f}
    got_reasons = {x["line"]: x["reason"] for x in rep["results"] if x["status"] == "rejected"}
    assert got_reasons == expected_reasons
    assert rep["accepted"] == manifest["expected"]["accepted"]
    assert rep["already_received"] == manifest["expected"]["already_known"]
    assert rep["lines"] == manifest["lines"]
    assert world.store.ballot_count() == manifest["expected"]["accepted"]
    accepted = [x for x in rep["results"] if x["status"] == "accepted"]
    stored = {b.receipt_id for b in world.store.iter_ballots()}
    assert {x["receipt_id"] for x in accepted} == stored
    # idempotent: the same upload again stores nothing new
    again = client.post("/v1/votes:batch?name=evotes.jsonl", content=data, headers=world.op()).json()
    assert again["accepted"] == 0
    assert again["already_received"] == manifest["expected"]["accepted"] + manifest["expected"]["already_known"]
    assert world.store.ballot_count() == manifest["expected"]["accepted"]


def test_batch_and_single_votes_agree(world: ApiWorld, client: TestClient) -> None:
    v = ok_vote(world, 40)
    single = client.post("/v1/votes", json=v, headers=world.op()).json()
    rep = client.post("/v1/votes:batch", content=(json.dumps(v) + "\n\n").encode(), headers=world.op()).json()
    assert rep["lines"] == 1
    assert rep["results"] == [{"line": 1, "status": "already_received", "receipt_id": single["receipt_id"],
                               "reason": None, "detail": None}]


def test_batch_line_limit(world: ApiWorld) -> None:
    with client_for(world, max_batch_lines=3) as c:
        body = "\n".join(json.dumps(ok_vote(world, 50 + i)) for i in range(4)).encode()
        r = c.post("/v1/votes:batch", content=body, headers=world.op())
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert world.store.ballot_count() == 0


def test_request_size_limits(world: ApiWorld, client: TestClient) -> None:
    big = {"token": "PB1-" + "A" * 100, "cast_at": "x", "selections": {"a": ["b" * 50] * 2000}}
    r = client.post("/v1/votes", json=big, headers=world.op())
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(100):
            yield b"x" * 1024

    r = client.post("/v1/votes", content=chunks(), headers=world.op())
    assert r.status_code == 413


def test_vote_rate_limit(world: ApiWorld) -> None:
    with client_for(world, vote_rate=0.01, vote_burst=2) as c:
        codes = [c.post("/v1/votes", json=ok_vote(world, 60 + i), headers=world.op()).status_code for i in range(3)]
        r = c.post("/v1/votes", json=ok_vote(world, 70), headers=world.op())
    assert codes == [201, 201, 429]
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    assert world.store.ballot_count() == 2


# --------------------------------------------------------------------------- access control

WRITE_ENDPOINTS = [
    ("post", "/v1/votes", "operator"),
    ("post", "/v1/votes:batch", "operator"),
    ("post", "/v1/election/close", "admin"),
    ("post", "/v1/count", "admin"),
    ("post", "/v1/publish", "admin"),
]


@pytest.mark.parametrize(("method", "path", "role"), WRITE_ENDPOINTS)
def test_anonymous_and_unknown_keys_cannot_write(world: ApiWorld, client: TestClient, method: str, path: str,
                                                 role: str) -> None:
    for headers in ({}, {"Authorization": "Bearer pbk_0000000000_nope"}, {"Authorization": "Basic abc"}):
        r = client.request(method, path, headers=headers, json=ok_vote(world, 80))
        assert r.status_code == 401, (path, headers, r.text)
        assert r.json()["error"]["code"] == "unauthorized"
    assert world.store.ballot_count() == 0
    assert world.store.closed_at() is None


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, role in WRITE_ENDPOINTS if role == "admin"])
def test_operator_cannot_call_admin_endpoints(world: ApiWorld, client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path, headers=world.op())
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert world.store.closed_at() is None
    assert world.store.publications() == []


def test_admin_may_do_operator_actions(world: ApiWorld, client: TestClient) -> None:
    assert client.post("/v1/votes", json=ok_vote(world, 90), headers=world.admin()).status_code == 201


def test_revoked_key_is_refused(world: ApiWorld) -> None:
    keys = ApiKeyStore(world.store)
    key, text = keys.create("operator", "station 12")
    keys.revoke(key.key_id)
    with client_for(world) as c:
        r = c.post("/v1/votes", json=ok_vote(world, 91), headers={"Authorization": f"Bearer {text}"})
    assert r.status_code == 401


def test_keys_are_stored_hashed(world: ApiWorld) -> None:
    with world.store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(api_keys.select())]
    dump = json.dumps(rows)
    assert world.operator_key not in dump and world.admin_key not in dump
    assert hashlib.sha256(world.operator_key.encode()).hexdigest() in dump
    assert ApiKeyStore(world.store).lookup(world.operator_key).role == "operator"  # type: ignore[union-attr]
    assert ApiKeyStore(world.store).lookup(world.operator_key + "x") is None


def test_public_endpoints_are_read_only(world: ApiWorld, client: TestClient) -> None:
    for path in ("/v1/results", "/v1/results/projects.csv", "/v1/bundle", "/v1/tree-head", "/"):
        assert client.post(path, headers=world.admin()).status_code == 405, path


def test_every_action_is_in_the_audit_log(world: ApiWorld, client: TestClient) -> None:
    client.post("/v1/votes", json=ok_vote(world, 100), headers=world.op())
    client.post("/v1/votes:batch", content=json.dumps(ok_vote(world, 101)).encode(), headers=world.op())
    client.post("/v1/election/close", headers=world.admin())
    client.post("/v1/count", headers=world.admin())
    client.post("/v1/publish", headers=world.admin())
    entries = world.store.audit_entries()
    assert verify_chain([e.to_dict() for e in entries]) is None
    op_id = ApiKeyStore(world.store).lookup(world.operator_key).key_id  # type: ignore[union-attr]
    admin_id = ApiKeyStore(world.store).lookup(world.admin_key).key_id  # type: ignore[union-attr]
    actions = [(e.action, e.actor) for e in entries]
    for action, key_id in [("votes_received", op_id), ("batch_ingested", op_id), ("election_closed", admin_id),
                           ("counted", admin_id), ("publish", admin_id)]:
        assert any(a == action and key_id in actor for a, actor in actions), (action, actions)
    received = next(e for e in entries if e.action == "votes_received")
    assert received.details["accepted"] == 1
    assert set(received.details) == {"accepted", "already_received", "rejected"}  # counts only (issue 13.1)


def test_cli_apikey_create(tmp_path: Path) -> None:
    from engine.storage.store import Store
    from pbcount.cli import app

    url = f"sqlite:///{tmp_path / 'k.db'}"
    runner = CliRunner()
    r = runner.invoke(app, ["apikey", "create", "--role", "admin", "--label", "ops", "--db", url])
    assert r.exit_code == 0, r.output
    text = r.output.strip().splitlines()[-1]
    key = ApiKeyStore(Store.open(url)).lookup(text)
    assert key is not None and key.role == "admin" and key.label == "ops"
    bad = runner.invoke(app, ["apikey", "create", "--role", "root", "--db", url])
    assert bad.exit_code == 2
    listing = runner.invoke(app, ["apikey", "list", "--db", url])
    assert key.key_id in listing.output and text not in listing.output
    assert runner.invoke(app, ["apikey", "revoke", key.key_id, "--db", url]).exit_code == 0
    assert ApiKeyStore(Store.open(url)).lookup(text) is None


# --------------------------------------------------------------------------- errors


def test_no_stack_trace_reaches_the_client(world: ApiWorld, client: TestClient) -> None:
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    client.app.state.pb.recount = boom  # type: ignore[attr-defined]
    r = client.post("/v1/count", headers=world.admin())
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "secret" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text


def test_unknown_path_is_a_json_404(client: TestClient) -> None:
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


# --------------------------------------------------------------------------- results


def _send_known_votes(world: ApiWorld, client: TestClient) -> dict[tuple[str, str], int]:
    """Send 12 votes; return the expected votes per (envelope, project), counted by hand."""
    expected: dict[tuple[str, str], int] = {}
    for i in range(12):
        sel = {"paris": cheap(world, "paris", 1, i % 3), "ar11": cheap(world, "ar11", 1 + i % 2, i % 4)}
        assert client.post("/v1/votes", json=world.vote(200 + i, sel), headers=world.op()).status_code == 201
        for env, ps in sel.items():
            for p in ps:
                expected[(env, p)] = expected.get((env, p), 0) + 1
    return expected


def test_results_before_and_after_count(world: ApiWorld, client: TestClient) -> None:
    for path in ("/v1/results", "/v1/results/projects.csv", "/v1/results/envelopes.csv"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "results_not_available"
    expected = _send_known_votes(world, client)
    assert client.post("/v1/count", headers=world.admin()).status_code == 200
    doc = client.get("/v1/results").json()
    got = {(e["id"], p["id"]): p["votes_total"] for e in doc["envelopes"] for p in e["projects"]
           if p["votes_total"]}
    assert got == expected
    assert doc["turnout"]["ballots_counted"] == 12 and doc["turnout"]["online"] == 12
    for env in doc["envelopes"]:
        assert env["spent"] + env["left_over"] == env["budget"]
        assert env["spent"] == sum(p["cost"] for p in env["projects"] if p["selected"])
        assert env["spent"] <= env["budget"]
    assert doc["budget"]["spent"] == sum(e["spent"] for e in doc["envelopes"])
    pop = sum(p["cost"] for e in doc["envelopes"] for p in e["projects"]
              if p["selected"] and p["popular_neighbourhood"])
    assert doc["popular_neighbourhood"]["spent"] == pop
    assert doc["popular_neighbourhood"]["quota_share"] == pytest.approx(1 / 3)

    r = client.get("/v1/results/projects.csv")
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(world.election.projects)
    by_row = {(x["envelope_id"], x["project_id"]): int(x["votes_total"]) for x in rows if int(x["votes_total"])}
    assert by_row == expected
    env_rows = list(csv.DictReader(io.StringIO(client.get("/v1/results/envelopes.csv").text)))
    assert [x["envelope_id"] for x in env_rows] == [e.id for e in world.election.envelopes]
    # no TOTAL row: each envelope's ballots agree with the JSON results (12 voters in all, see turnout)
    by_env = {e["id"]: e for e in doc["envelopes"]}
    assert all(int(x["spent"]) == by_env[x["envelope_id"]]["spent"] for x in env_rows)
    assert sum(int(x["ballots_total"]) for x in env_rows) >= 12


def test_results_survive_a_restart(world: ApiWorld) -> None:
    with client_for(world) as c:
        expected = _send_known_votes(world, c)
        c.post("/v1/count", headers=world.admin())
    with client_for(world) as c:  # a new server over the same, already counted, store
        doc = c.get("/v1/results").json()
    got = {(e["id"], p["id"]): p["votes_total"] for e in doc["envelopes"] for p in e["projects"] if p["votes_total"]}
    assert got == expected


# --------------------------------------------------------------------------- publication


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle tree hash, transcribed literally (independent of engine.model.merkle)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n]), transcribed literally."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return _path(m, leaves[:k]) + [_mth(leaves[k:])]
    return _path(m - k, leaves[k:]) + [_mth(leaves[:k])]


def test_publish_receipt_tree_head_and_bundle(world: ApiWorld, client: TestClient) -> None:
    for path in ("/v1/tree-head", "/v1/bundle", "/v1/receipts/R000000000000000"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_published", path
    receipts = [client.post("/v1/votes", json=ok_vote(world, 300 + i, skip=i % 3), headers=world.op())
                .json()["receipt_id"] for i in range(7)]
    r = client.post("/v1/publish", headers=world.admin())
    assert r.status_code == 200, r.text
    assert r.json()["new_publication"] is True and r.json()["counted"] == 7
    head = client.get("/v1/tree-head").json()
    assert head["tree_size"] == 7 and head["publication"] == 1

    z = zipfile.ZipFile(io.BytesIO(client.get("/v1/bundle").content))
    files = {n.removeprefix("bundle/"): z.read(n) for n in z.namelist()}
    lines = files["ballots.jsonl"].decode().splitlines()
    assert _mth([ln.encode() for ln in lines]).hex() == head["root_hash"]
    assert hashlib.sha256(files["manifest.json"]).hexdigest() == head["manifest_sha256"]
    manifest = json.loads(files["manifest.json"])
    pub = load_pem_public_key(files["results.pub"])
    pub.verify(base64.b64decode(manifest["signature"]["value"]),  # type: ignore[union-attr]
               canonical_json(manifest["signed"]).encode())
    assert manifest["signed"]["root_hash"] == head["root_hash"]

    for rid in receipts:
        got = client.get(f"/v1/receipts/{rid.lower()}").json()
        assert got["status"] == "found" and got["verified"] is True
        assert lines[got["leaf_index"]] == got["line"] and json.loads(got["line"])["receipt"] == rid
        assert got["proof"] == [h.hex() for h in _path(got["leaf_index"], [ln.encode() for ln in lines])]
        assert got["root"] == head["root_hash"]
    r = client.get("/v1/receipts/R000000000000000")
    assert r.status_code == 404 and r.json()["error"]["code"] == "receipt_not_found"
    r = client.get("/v1/receipts/not-a-receipt")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_receipt"

    # publishing again without changes re-emits the same publication
    again = client.post("/v1/publish", headers=world.admin()).json()
    assert again["new_publication"] is False and again["tree_head"]["root_hash"] == head["root_hash"]


def test_revote_after_publication_is_a_withdraw_line(world: ApiWorld, client: TestClient) -> None:
    old = client.post("/v1/votes", json=ok_vote(world, 400, cast_at="2026-09-10T10:00:00Z"),
                      headers=world.op()).json()["receipt_id"]
    client.post("/v1/publish", headers=world.admin())
    new = client.post("/v1/votes", json=ok_vote(world, 400, skip=2, cast_at="2026-09-12T10:00:00Z"),
                      headers=world.op()).json()["receipt_id"]
    client.post("/v1/publish", headers=world.admin())
    got_old = client.get(f"/v1/receipts/{old}").json()
    assert got_old["status"] == "withdrawn" and got_old["withdraw_reason"] == "superseded_by_later_online"
    assert got_old["verified"] is True
    assert client.get(f"/v1/receipts/{new}").json()["status"] == "found"


# --------------------------------------------------------------------------- page and schema


def test_page_languages_and_receipt_form(world: ApiWorld, client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and 'lang="fr"' in r.text and 'id="not-counted"' in r.text
    _send_known_votes(world, client)
    client.post("/v1/count", headers=world.admin())
    fr = client.get("/").text
    en = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    assert 'lang="en"' in en and "Turnout by channel" in en and "Participation par canal" in fr
    assert client.get("/?lang=en").headers["content-language"] == "en"
    for html in (fr, en):
        assert html.count('class="envelope"') == len(world.election.envelopes)
        assert '<label for="receipt-id">' in html and 'action="/receipt"' in html
        assert "<script" not in html
    r = client.get("/receipt?id=zzz&lang=en")
    assert r.status_code == 422 and "not well formed" in r.text


def test_openapi_lists_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for p in ("/v1/votes", "/v1/votes:batch", "/v1/election/close", "/v1/count", "/v1/publish", "/v1/results",
              "/v1/results/projects.csv", "/v1/results/envelopes.csv", "/v1/bundle", "/v1/receipts/{receipt_id}",
              "/v1/tree-head", "/v1/sortition", "/v1/sortition/{name}", "/v1/sortition/{name}/files/{file}"):
        assert p in paths, p
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_stored_ballots_keep_api_provenance(world: ApiWorld, client: TestClient) -> None:
    client.post("/v1/votes", json=ok_vote(world, 500), headers=world.op())
    with world.store.engine.connect() as conn:
        row = conn.execute(ballots.select()).one()
    assert row.source_name.startswith("api:") and row.channel == "online"


def test_declared_popular_quota_is_reported(world: ApiWorld) -> None:
    (spec,) = [q for q in world.election.quotas if q.group_key == "popular_neighbourhood"]  # the fixture's Paris rule
    with client_for(world) as c:
        _send_known_votes(world, c)
        doc = c.post("/v1/count", headers=world.admin()).json()
        html = c.get("/?lang=en").text
    pn = doc["popular_neighbourhood"]
    assert pn["quota_declared"] is True and pn["quota_share"] == pytest.approx(float(spec.min_share))
    for env in doc["envelopes"]:
        (q,) = env["quotas"]
        assert q["name"] == spec.name
        popular = [p for p in env["projects"] if p["popular_neighbourhood"]]
        assert q["group_spent"] == sum(p["cost"] for p in popular if p["selected"])
        assert q["min_amount"] == spec.amounts(env["budget"])[0]
        assert q["met"] == (q["group_spent"] >= q["min_amount"])
    assert pn["quota_met"] == all(e["quotas"][0]["met"] for e in doc["envelopes"])
    assert html.count(f'class="quota" data-quota="{spec.name}"') == len(doc["envelopes"])


def _contrast(fg: str, bg: str = "#ffffff") -> float:
    """WCAG 2.x contrast ratio of two #rrggbb colours."""

    def lum(hex_colour: str) -> float:
        chans = [int(hex_colour[i: i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_page_colours_meet_wcag_aa_and_both_languages_are_complete() -> None:
    import re

    from api import page
    from api.i18n import TEXT

    css_vars = dict(re.findall(r"--(\w+):(#[0-9a-f]{6})", page.CSS))
    for name in ("fg", "muted", "accent", "ok", "bad"):  # text colours: 4.5:1
        assert _contrast(css_vars[name]) >= 4.5, name
    for colour in (page.FUNDED, page.NOT_FUNDED, page.BUDGET_LINE):  # graphics: 3:1
        assert _contrast(colour) >= 3.0, colour
    assert _contrast("#ffffff", css_vars["accent"]) >= 4.5  # button text
    assert set(TEXT["fr"]) == set(TEXT["en"])
    assert all(TEXT["fr"][k] and TEXT["en"][k] for k in TEXT["fr"])


def test_without_key_files_intake_and_publishing_are_503(world: ApiWorld, tmp_path: Path) -> None:
    empty = tmp_path / "no-keys"
    empty.mkdir()
    app = create_app(ApiSettings(keys_dir=empty, bundle_dir=tmp_path / "b"), store=world.store)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v1/votes", json=ok_vote(world, 600), headers=world.op())
        assert r.status_code == 503 and r.json()["error"]["code"] == "intake_disabled"
        assert str(empty) in r.json()["error"]["message"]
        r = c.post("/v1/publish", headers=world.admin())
        assert r.status_code == 503 and r.json()["error"]["code"] == "publish_disabled"
        assert c.get("/").status_code == 200  # the public page is still served
    assert world.store.ballot_count() == 0 and world.store.publications() == []


def test_intake_close_and_count_on_both_backends(store_url: str, tmp_path: Path, small_paris: Path) -> None:
    world = make_world(tmp_path / "w", small_paris, db_url=store_url)
    with client_for(world) as c:
        expected = _send_known_votes(world, c)
        first = ok_vote(world, 700, cast_at="2026-09-10T10:00:00Z")
        r1 = c.post("/v1/votes", json=first, headers=world.op())
        r2 = c.post("/v1/votes", json=first, headers=world.op())
        assert (r1.status_code, r2.status_code) == (201, 200) and r1.json()["receipt_id"] == r2.json()["receipt_id"]
        rep = c.post("/v1/votes:batch", content=json.dumps(ok_vote(world, 701)).encode(), headers=world.op()).json()
        assert rep["accepted"] == 1
        assert c.post("/v1/election/close", headers=world.admin()).status_code == 200
        assert c.post("/v1/votes", json=ok_vote(world, 702), headers=world.op()).status_code == 409
        doc = c.post("/v1/count", headers=world.admin()).json()
        assert c.post("/v1/publish", headers=world.admin()).status_code == 200
        receipt = c.get(f"/v1/receipts/{r1.json()['receipt_id']}").json()
    assert doc["turnout"]["ballots_counted"] == 12 + 2 and world.store.ballot_count() == 14
    assert receipt["verified"] is True
    for extra in (first, ok_vote(world, 701)):
        for env, ps in extra["selections"].items():  # type: ignore[union-attr]
            for p in ps:
                expected[(env, p)] = expected.get((env, p), 0) + 1
    got = {(e["id"], p["id"]): p["votes_total"] for e in doc["envelopes"] for p in e["projects"] if p["votes_total"]}
    assert got == expected
    assert verify_chain([e.to_dict() for e in world.store.audit_entries()]) is None

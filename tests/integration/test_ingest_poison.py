"""Poison lines, forged markers, the close barrier and the voting period, for every writer.

Issue 13 items 3, 4, 5, 13: one line must never stop an ingestion (CLI or HTTP), the
over-long-line marker cannot be forged by line content, no writer stores online votes
after the close, and cast times outside the voting period are refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.api_fixtures import ApiWorld, make_world
from typer.testing import CliRunner

from api import ApiSettings, create_app
from engine.errors import ElectionClosedError
from engine.formats.election_definition import load_election
from engine.services.ingest import MAX_LINE_BYTES, ingest_evote_file
from engine.storage import Store
from engine.storage.keyfiles import load_public_key, load_receipt_secret

POISON = {
    "overflow_time": "bad_cast_time",
    "huge_int": "malformed_line",
    "marker_binary": "malformed_line",
    "marker_ascii": "malformed_line",
    "duplicate_token": "duplicate_key",
}


def poison_lines(world: ApiWorld) -> dict[str, bytes]:
    sel = {"ar11": sorted(world.project_ids("ar11"))[:1]}
    ok = json.dumps(world.vote(900, sel)).encode()
    return {
        "overflow_time": json.dumps(world.vote(901, sel, cast_at="0001-01-01T00:00:00+14:00")).encode(),
        "huge_int": ok[:-1] + b', "n": ' + b"9" * 5000 + b"}",
        "marker_binary": b"\x00pbcount-line-too-long:\xff\xfe\xfd",
        "marker_ascii": b"\x00pbcount-line-too-long:" + b"0" * 64 + b":999999999",
        "duplicate_token": b'{"token": "%s", "token": "%s", "cast_at": "2026-09-10T10:00:00Z", "selections": %s}'
        % (world.token(902).encode(), world.token(903).encode(), json.dumps(sel).encode()),
    }


def good_line(world: ApiWorld, n: int) -> bytes:
    return json.dumps(world.vote(n, {"ar11": sorted(world.project_ids("ar11"))[:1]})).encode()


@pytest.fixture
def world(tmp_path: Path, small_paris: Path) -> ApiWorld:
    return make_world(tmp_path / "w", small_paris)


def ingest(world: ApiWorld, path: Path, workers: int = 1):  # type: ignore[no-untyped-def]
    return ingest_evote_file(world.store, path, world.election, load_public_key(world.keys_dir),
                             load_receipt_secret(world.keys_dir), workers=workers)


@pytest.mark.parametrize("workers", [1, 2])
def test_poison_lines_are_located_rejections_and_the_file_goes_on(world: ApiWorld, tmp_path: Path,
                                                                 workers: int) -> None:
    poison = poison_lines(world)
    lines = [good_line(world, 1), *poison.values(), good_line(world, 2)]
    path = tmp_path / "votes.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = ingest(world, path, workers)
    assert report.accepted == 2 and report.rejected == len(poison)
    got = {(r.source_line, r.reason) for r in world.store.iter_rejections()}
    assert got == {(i, POISON[k]) for i, k in enumerate(poison, start=2)}
    assert [b.status for b in world.store.list_batches()] == ["done"]


def test_the_too_long_marker_cannot_be_forged(world: ApiWorld, tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    path.write_bytes(poison_lines(world)["marker_ascii"] + b"\n" + b"x" * (MAX_LINE_BYTES + 10) + b"\n")
    ingest(world, path)
    rows = sorted(world.store.iter_rejections(), key=lambda r: r.source_line)
    assert "999999999" not in rows[0].detail  # the content does not speak for the reader
    assert f"line is {MAX_LINE_BYTES + 11} bytes" in rows[1].detail  # the real over-long line does


def test_a_cr_only_file_gets_a_hint(world: ApiWorld, tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    path.write_bytes(b"\r".join(good_line(world, n) for n in range(1, 1000)) + b"\r")
    report = ingest(world, path)
    assert report.rejected == 1
    assert "carriage return" in next(iter(world.store.iter_rejections())).detail
    assert any("carriage return" in h for h in report.hints)


def test_a_gzip_file_gets_a_hint(world: ApiWorld, tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "votes.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(good_line(world, n) for n in range(1, 50))))
    report = ingest(world, path)
    assert report.accepted == 0 and any("gzip" in h for h in report.hints)


def test_cli_ingestion_is_refused_after_the_close(world: ApiWorld, tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    path.write_bytes(good_line(world, 1) + b"\n")
    world.store.close_election("admin")
    with pytest.raises(ElectionClosedError):
        ingest(world, path)
    assert world.store.ballot_count() == 0 and world.store.list_batches() == []


def test_pbcount_ingest_evotes_after_close_fails_with_a_message(world: ApiWorld, tmp_path: Path,
                                                                small_paris: Path) -> None:
    from pbcount.cli import app

    path = tmp_path / "votes.jsonl"
    path.write_bytes(good_line(world, 1) + b"\n")
    world.store.close_election("admin")
    r = CliRunner().invoke(app, ["ingest", "evotes", str(path), "-e", str(small_paris / "election.toml"),
                                 "--db", world.db_url, "--keys", str(world.keys_dir), "-j", "1"])
    assert r.exit_code != 0 and "closed" in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert world.store.ballot_count() == 0


def test_close_during_a_file_keeps_the_committed_chunks_and_stores_no_more(world: ApiWorld, tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    path.write_bytes(b"\n".join(good_line(world, n) for n in range(1, 31)) + b"\n")
    committed: list[int] = []

    def progress(n: int) -> None:
        committed.append(n)
        if len(committed) == 1:
            world.store.close_election("admin")

    with pytest.raises(ElectionClosedError):
        ingest_evote_file(world.store, path, world.election, load_public_key(world.keys_dir),
                          load_receipt_secret(world.keys_dir), workers=1, chunk_lines=10, progress=progress)
    assert world.store.ballot_count() == 10


def test_votes_outside_the_voting_period_are_rejected(world: ApiWorld, tmp_path: Path, small_paris: Path) -> None:
    e = load_election(small_paris / "election.toml")
    assert e.voting.opens is not None, "the demo election declares its voting period"
    path = tmp_path / "votes.jsonl"
    sel = {"ar11": sorted(world.project_ids("ar11"))[:1]}
    path.write_bytes(json.dumps(world.vote(5, sel, cast_at="2099-01-01T00:00:00Z")).encode() + b"\n")
    ingest(world, path)
    assert world.store.rejection_counts() == {"cast_outside_voting_period": 1}


# ------------------------------------------------------------------ HTTP


@pytest.fixture
def client(world: ApiWorld) -> Iterator[TestClient]:
    app = create_app(ApiSettings(keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle"), store=world.store)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_batch_with_poison_lines_keeps_the_valid_lines(world: ApiWorld, client: TestClient) -> None:
    poison = poison_lines(world)
    body = b"\n".join([good_line(world, 1), *poison.values(), good_line(world, 2)])
    r = client.post("/v1/votes:batch", content=body, headers=world.op())
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["accepted"] == 2 and rep["rejected"] == len(poison)
    assert [x["reason"] for x in rep["results"][1:-1]] == list(POISON.values())
    assert world.store.ballot_count() == 2
    # the connection is still good for the next request
    assert client.post("/v1/votes", json=world.vote(3, {"ar11": sorted(world.project_ids("ar11"))[:1]}),
                       headers=world.op()).status_code == 201


@pytest.mark.parametrize("kind", list(POISON))
def test_single_vote_poison_is_a_422_with_its_reason(world: ApiWorld, client: TestClient, kind: str) -> None:
    r = client.post("/v1/votes", content=poison_lines(world)[kind],
                    headers={**world.op(), "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == POISON[kind]


def test_one_grammar_for_the_three_entry_points(world: ApiWorld, client: TestClient, tmp_path: Path) -> None:
    """An extra key is refused the same way by ingest evotes, /v1/votes:batch and /v1/votes."""
    vote = {**world.vote(7, {"ar11": sorted(world.project_ids("ar11"))[:1]}), "note": "hi"}
    r = client.post("/v1/votes", json=vote, headers=world.op())
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_field"
    rep = client.post("/v1/votes:batch", content=json.dumps(vote).encode(), headers=world.op()).json()
    assert rep["results"][0]["reason"] == "unknown_field"
    path = tmp_path / "votes.jsonl"
    path.write_text(json.dumps(vote) + "\n")
    assert dict(ingest(world, path).rejected_by_reason) == {"unknown_field": 1}


def test_openapi_publishes_the_vote_line_schema(client: TestClient) -> None:
    from engine.formats.evote import EVOTE_LINE_SCHEMA

    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/votes"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        body = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert body == EVOTE_LINE_SCHEMA


def test_api_refuses_a_vote_cast_in_the_future(tmp_path: Path, small_paris: Path) -> None:
    """Without a voting period, the server's clock (plus a small skew) still bounds cast times."""
    import re
    import shutil
    from datetime import UTC, datetime, timedelta

    fx = tmp_path / "fx"
    shutil.copytree(small_paris, fx)
    toml = (fx / "election.toml").read_text()
    (fx / "election.toml").write_text(re.sub(r"(?m)^(opens|closes) = .*\n", "", toml))
    world = make_world(tmp_path / "w", fx)
    assert world.election.voting.opens is None
    app = create_app(ApiSettings(keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle"), store=world.store)
    sel = {"ar11": sorted(world.project_ids("ar11"))[:1]}
    with TestClient(app, raise_server_exceptions=False) as client:
        soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
        assert client.post("/v1/votes", json=world.vote(8, sel, cast_at=soon), headers=world.op()).status_code == 201
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        r = client.post("/v1/votes", json=world.vote(9, sel, cast_at=later), headers=world.op())
        assert r.status_code == 422 and r.json()["error"]["code"] == "cast_in_future"
        rep = client.post("/v1/votes:batch", content=json.dumps(world.vote(10, sel, cast_at=later)).encode(),
                          headers=world.op()).json()
        assert rep["results"][0]["reason"] == "cast_in_future"


def test_real_server_keeps_the_connection_after_a_poison_batch(world: ApiWorld) -> None:
    """Over a real keep-alive connection: the poison batch is a 200 report, the next request works."""
    import httpx
    from helpers.api_fixtures import serving

    body = b"\n".join([good_line(world, 1), *poison_lines(world).values(), good_line(world, 2)])
    with serving("--db", world.db_url, "--keys", str(world.keys_dir), "--bundle-dir", str(world.dir / "bundle")) \
            as (base, _proc), httpx.Client(base_url=base, headers=world.op(), timeout=30) as http:
        r = http.post("/v1/votes:batch", content=body)
        assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
        for kind, raw in poison_lines(world).items():  # each poison alone, same connection
            r = http.post("/v1/votes", content=raw, headers={"Content-Type": "application/json"})
            assert r.status_code == 422 and r.json()["error"]["code"] == POISON[kind], (kind, r.text)
        r = http.post("/v1/votes", json=world.vote(3, {"ar11": sorted(world.project_ids("ar11"))[:1]}))
        assert r.status_code == 201, r.text


PB = ("META\nkey;value\ndescription;tiny\ncountry;X\nunit;X\ninstance;2026\nnum_projects;2\nnum_votes;2\n"
      "budget;100\nvote_type;approval\nrule;greedy\ndate_begin;2026\ndate_end;2026\n"
      "PROJECTS\nproject_id;cost;votes\n1;60;2\n2;50;1\nVOTES\nvoter_id;vote\n1;1,2\n2;1\n")


def test_pabulib_import_goes_through_the_batch_flow_and_the_close_barrier(tmp_path: Path) -> None:
    from pbcount.cli import app

    pb = tmp_path / "tiny.pb"
    pb.write_text(PB)
    db = f"sqlite:///{tmp_path / 'pb.sqlite'}"
    r = CliRunner().invoke(app, ["import", "pabulib", str(pb), "--db", db])
    assert r.exit_code == 0, r.output
    store = Store.open(db)
    assert store.ballot_count() == 2
    assert [e.action for e in store.audit_entries()][-1] == "batch_ingested"  # the one batch flow, audited
    store.close_election("admin")
    r = CliRunner().invoke(app, ["import", "pabulib", str(pb), "--db", db])
    assert r.exit_code != 0 and "closed" in r.output, r.output
    assert store.ballot_count() == 2

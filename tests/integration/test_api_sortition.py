"""Sortition records on the API (``pbcount serve --sortition DIR``): list, summary, raw files,
404s in the API's error shape, and records that do not verify (tampered panel, another key,
no results key on the server) listed as ``verified: false`` with their problems."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.api_fixtures import ApiWorld, make_world
from helpers.sortition_records import PANEL, SEED, draw_record, tampered_copy
from typer.testing import CliRunner

from api import ApiSettings, create_app
from api.asgi import settings_from_env, settings_to_env
from engine.errors import SortitionInputError
from pbcount.cli import app as cli


@pytest.fixture
def world(tmp_path: Path, small_paris: Path) -> ApiWorld:
    return make_world(tmp_path / "w", small_paris)


@pytest.fixture
def records(tmp_path: Path, world: ApiWorld) -> dict[str, Path]:
    good = draw_record(tmp_path / "panel-2026", world.keys_dir)  # the server's results key
    (good / "notes $(x).txt").write_text("not part of the record")
    other_keys = tmp_path / "other-keys"
    assert CliRunner().invoke(cli, ["keys", "init", "--keys", str(other_keys)]).exit_code == 0
    return {"good": good, "tampered": tampered_copy(good, tmp_path / "panel-tampered"),
            "foreign": draw_record(tmp_path / "panel-other-key", other_keys)}


@pytest.fixture
def client(world: ApiWorld, records: dict[str, Path]) -> Iterator[TestClient]:
    settings = ApiSettings(keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle",
                           sortition_dirs=(records["good"], records["tampered"], records["foreign"]))
    with TestClient(create_app(settings, store=world.store), raise_server_exceptions=False) as c:
        yield c


def test_list(client: TestClient) -> None:
    r = client.get("/v1/sortition")
    assert r.status_code == 200
    rows = {row["name"]: row for row in r.json()["records"]}
    assert list(rows) == ["panel-2026", "panel-tampered", "panel-other-key"]
    good = rows["panel-2026"]
    assert good == {"name": "panel-2026", "size": 4, "pool_size": 12, "method": "leximin",
                    "algorithm": "leximin-types/1", "seed": SEED, "verified": True, "problems": []}
    assert rows["panel-tampered"]["verified"] is False
    assert "panel.csv: changed since it was signed (SHA-256 differs from the manifest)" in \
        rows["panel-tampered"]["problems"]
    assert "panel.csv: differs from the re-derived draw" in rows["panel-tampered"]["problems"]
    assert rows["panel-other-key"]["verified"] is False
    assert rows["panel-other-key"]["problems"] == [
        "manifest.json: the signature does not verify with the results key"]


def test_summary(client: TestClient, records: dict[str, Path]) -> None:
    r = client.get("/v1/sortition/panel-2026")
    assert r.status_code == 200
    doc = r.json()
    assert doc["verified"] is True and doc["problems"] == []
    s = doc["summary"]
    assert s["panel"] == PANEL and s["seed"] == SEED
    assert s["pool_sha256"] == json.loads((records["good"] / "record.json").read_text())["pool_sha256"]
    # R02 m 16-29 north, R04 m 30-59 south, R07 f 30-59 south, R11 f 60+ north
    assert [(q["feature"], q["value"], q["min"], q["max"], q["panel_count"]) for q in s["quotas"]] == [
        ("gender", "f", 2, 2, 2), ("gender", "m", 2, 2, 2), ("age", "16-29", 1, 2, 1), ("age", "30-59", 1, 2, 2),
        ("age", "60+", 1, 2, 1), ("district", "north", 2, 2, 2), ("district", "south", 2, 2, 2)]
    p = s["probabilities"]
    assert p["min"] == pytest.approx(1 / 3) and p["median"] == pytest.approx(1 / 3) and p["max"] == pytest.approx(1 / 3)
    assert "panel.csv" in doc["files"] and "manifest.json" in doc["files"]


def test_tampered_summary_says_it_is_not_verified(client: TestClient) -> None:
    doc = client.get("/v1/sortition/panel-tampered").json()
    assert doc["verified"] is False
    assert any(p.startswith("panel.csv: changed since it was signed") for p in doc["problems"])
    assert doc["summary"]["panel"] == ["R01", "R04", "R07", "R11"]  # what the file says, flagged above


def test_files_are_the_bytes_and_verify_again(client: TestClient, records: dict[str, Path], tmp_path: Path,
                                              world: ApiWorld) -> None:
    names = client.get("/v1/sortition/panel-2026").json()["files"]
    assert sorted(names) == sorted(p.name for p in records["good"].iterdir() if not p.name.startswith("notes"))
    copy = tmp_path / "downloaded" / "panel-2026"
    copy.mkdir(parents=True)
    for name in names:
        r = client.get(f"/v1/sortition/panel-2026/files/{name}")
        assert r.status_code == 200
        assert r.content == (records["good"] / name).read_bytes()
        (copy / name).write_bytes(r.content)
    r = client.get("/v1/sortition/panel-2026/files/panel.csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines() == ["id", *PANEL]
    res = CliRunner().invoke(cli, ["sortition", "verify", str(copy), "--key", str(world.keys_dir / "results.pub")])
    assert res.exit_code == 0, res.output
    # the tampered record's file is served as it is (with verified: false above), so a check fails
    r = client.get("/v1/sortition/panel-tampered/files/panel.csv")
    assert r.text.splitlines() == ["id", "R01", "R04", "R07", "R11"]


def test_unknown_record_and_file_are_404(client: TestClient) -> None:
    r = client.get("/v1/sortition/nope")
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "sortition_not_found" and "nope" in err["message"] and "panel-2026" in err["message"]
    assert err["details"] == []
    r = client.get("/v1/sortition/panel-2026/files/secret.txt")
    assert r.status_code == 404 and r.json()["error"]["code"] == "sortition_file_not_found"
    r = client.get("/v1/sortition/panel-2026/files/..%2F..%2Fkeys%2Fresults.key")
    assert r.status_code == 404
    # a file next to the record that is not part of it is neither listed nor served
    assert "notes $(x).txt" not in client.get("/v1/sortition/panel-2026").json()["files"]
    assert client.get("/v1/sortition/panel-2026/files/notes%20$(x).txt").status_code == 404


def test_without_the_results_key_nothing_is_verified(world: ApiWorld, records: dict[str, Path],
                                                     tmp_path: Path) -> None:
    empty = tmp_path / "no-keys"
    empty.mkdir()
    settings = ApiSettings(keys_dir=empty, sortition_dirs=(records["good"],))
    with TestClient(create_app(settings, store=world.store)) as c:
        row = c.get("/v1/sortition").json()["records"][0]
    assert row["verified"] is False
    assert row["problems"][0].startswith("not checked against the server's results key")


def test_no_records_and_bad_directories(world: ApiWorld, records: dict[str, Path], tmp_path: Path) -> None:
    with TestClient(create_app(ApiSettings(keys_dir=world.keys_dir), store=world.store)) as c:
        assert c.get("/v1/sortition").json() == {"records": []}
    with pytest.raises(SortitionInputError, match="already served"):
        create_app(ApiSettings(keys_dir=world.keys_dir, sortition_dirs=(records["good"], records["good"])),
                   store=world.store)
    with pytest.raises(SortitionInputError, match="not a sortition record directory"):
        create_app(ApiSettings(keys_dir=world.keys_dir, sortition_dirs=(tmp_path / "missing",)), store=world.store)


def test_settings_travel_to_worker_processes(records: dict[str, Path]) -> None:
    s = ApiSettings(sortition_dirs=(records["good"], records["tampered"]))
    assert settings_from_env(settings_to_env(s)).sortition_dirs == (records["good"], records["tampered"])


def test_cli_show_gives_the_api_summary(client: TestClient, records: dict[str, Path], world: ApiWorld) -> None:
    key = str(world.keys_dir / "results.pub")
    res = CliRunner().invoke(cli, ["sortition", "show", str(records["good"]), "--key", key, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    api = client.get("/v1/sortition/panel-2026").json()
    assert doc == {"name": "panel-2026", "verified": True, "problems": [], "summary": api["summary"]}
    res = CliRunner().invoke(cli, ["sortition", "show", str(records["good"]), "--key", key])
    assert res.exit_code == 0 and "gender=f: 2 on the panel (min 2, max 2) ok" in res.stdout
    assert "panel: R02, R04, R07, R11" in res.stdout
    res = CliRunner().invoke(cli, ["sortition", "show", str(records["tampered"]), "--key", key])
    assert res.exit_code == 1
    assert "FAIL panel.csv: changed since it was signed" in res.stdout
    assert "gender=f: 3 on the panel (min 2, max 2) not met" in res.stdout


def test_serve_refuses_a_missing_record_directory(world: ApiWorld, small_paris: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["serve", "--db", world.db_url, "--keys", str(world.keys_dir),
                                   "--sortition", str(tmp_path / "nowhere"), "--port", "1"])
    assert res.exit_code == 2
    assert "nowhere: not a sortition record directory" in " ".join(res.output.split())  # the console wraps
    res = CliRunner().invoke(cli, ["serve", "--db", world.db_url, "--keys", str(world.keys_dir), "--port", "1"],
                             env={"PBCOUNT_SORTITION": f"{tmp_path / 'also-nowhere'}"})
    assert res.exit_code == 2 and "also-nowhere: not a sortition record directory" in " ".join(res.output.split())

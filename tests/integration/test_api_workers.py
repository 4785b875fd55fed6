"""Several server processes over one store (``pbcount serve --workers N``).

What keeps the processes consistent lives in the store: the close barrier (checked
inside each vote group's transaction), the count marker (a process recounts when the
audit log shows a newer count), unique ballot keys. Checked deterministically with two
app instances, each with its own connection pool, vote writer and caches (as two
processes have), and end to end with a real ``pbcount serve --workers 2``.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from helpers.api_fixtures import ApiWorld, make_world, serving

from api import ApiSettings, create_app
from api.asgi import settings_from_env, settings_to_env
from engine.model.audit import verify_chain
from engine.storage.store import Store


def vote(world: ApiWorld, n: int) -> dict[str, object]:
    paris = sorted(world.election.projects_in("paris"), key=lambda p: (p.cost, p.id))
    ar11 = sorted(world.election.projects_in("ar11"), key=lambda p: (p.cost, p.id))
    return world.vote(n, {"paris": [paris[n % 3].id], "ar11": [ar11[n % 2].id]})


def second_app(world: ApiWorld) -> TestClient:
    """Another server over the same store: its own Store (connection pool) and caches."""
    app = create_app(ApiSettings(db_url=world.db_url, keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle"))
    return TestClient(app, raise_server_exceptions=False)


def test_settings_travel_to_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    s = ApiSettings(db_url="sqlite:///x.db", keys_dir=Path("/k"), bundle_dir=None, register_path=Path("r.csv"),
                    vote_rate=12.5, vote_burst=7, default_lang="en")
    assert settings_from_env(settings_to_env(s)) == s
    monkeypatch.delenv("PBCOUNT_SERVE_SETTINGS", raising=False)
    with pytest.raises(RuntimeError, match="PBCOUNT_SERVE_SETTINGS"):
        settings_from_env()


def test_two_servers_share_close_and_results(tmp_path: Path, small_paris: Path) -> None:
    world = make_world(tmp_path / "w", small_paris)
    with second_app(world) as a, second_app(world) as b:
        for n in range(6):
            assert (a if n % 2 else b).post("/v1/votes", json=vote(world, n), headers=world.op()).status_code == 201
        # the same vote through the other server: same receipt, stored once
        r1 = a.post("/v1/votes", json=vote(world, 0), headers=world.op())
        assert r1.status_code == 200 and r1.json()["status"] == "already_received"
        assert a.post("/v1/count", headers=world.admin()).json()["turnout"]["ballots_counted"] == 6
        assert b.get("/v1/results").json()["turnout"]["ballots_counted"] == 6  # b counted again
        assert b.post("/v1/votes", json=vote(world, 6), headers=world.op()).status_code == 201
        assert b.post("/v1/count", headers=world.admin()).status_code == 200
        assert a.get("/v1/results").json()["turnout"]["ballots_counted"] == 7  # a sees b's count
        # b closes; a has seen the election open, and its next vote is refused all the same
        assert b.post("/v1/election/close", headers=world.admin()).status_code == 200
        r = a.post("/v1/votes", json=vote(world, 7), headers=world.op())
        assert r.status_code == 409 and r.json()["error"]["code"] == "election_closed"
        r = a.post("/v1/votes:batch", content=httpx.Request("POST", "/", json=vote(world, 8)).content,
                   headers=world.op())
        assert r.status_code == 409
    assert world.store.ballot_count() == 7
    assert verify_chain([e.to_dict() for e in world.store.audit_entries()]) is None


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out.extend(int(c) for c in (task / "children").read_text().split())
    return out


def test_serve_with_two_worker_processes(tmp_path: Path, small_paris: Path) -> None:
    world = make_world(tmp_path / "w", small_paris)
    world.store.close()
    with serving("--db", world.db_url, "--keys", str(world.keys_dir), "--bundle-dir", str(world.dir / "bundle"),
                 "--workers", "2") as (base, proc):
        assert len(children(proc.pid)) >= 2  # two worker processes under the supervisor

        def post(path: str, n: int | None = None, admin: bool = False) -> httpx.Response:
            # a new connection per request: the kernel hands them to either worker
            return httpx.post(f"{base}{path}", json=vote(world, n) if n is not None else None,
                              headers=world.admin() if admin else world.op(), timeout=30)

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda n: post("/v1/votes", n).status_code, range(40)))
        assert codes == [201] * 40
        assert post("/v1/votes", 3).json()["status"] == "already_received"
        assert post("/v1/election/close", admin=True).status_code == 200
        with ThreadPoolExecutor(8) as pool:
            late = list(pool.map(lambda n: post("/v1/votes", n).status_code, range(100, 116)))
        assert late == [409] * 16
        assert post("/v1/count", admin=True).json()["turnout"]["ballots_counted"] == 40
        seen = {httpx.get(f"{base}/v1/results").json()["turnout"]["ballots_counted"] for _ in range(10)}
        assert seen == {40}
    store = Store.open(world.db_url)
    assert store.ballot_count() == 40
    assert verify_chain([e.to_dict() for e in store.audit_entries()]) is None
    store.close()

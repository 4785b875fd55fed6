"""The pbcount CLI end to end on the tiny election: keys, tokens, ingest, rejections, results."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

from typer.testing import CliRunner

from engine.storage.store import Store
from pbcount.cli import app

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "tiny_election.toml"
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args), env={"PBCOUNT_PROGRESS": "0"})
    return res.exit_code, res.output


def test_full_cli_flow(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    code, out = run("keys", "init", "--keys", str(keys))
    assert code == 0, out
    assert stat.S_IMODE((keys / "authority.key").stat().st_mode) == 0o600
    code, out = run("keys", "init", "--keys", str(keys))
    assert code == 2 and "already exists" in out

    register = tmp_path / "register.csv"
    register.write_text("voter_id,name,age_band\nv1,Ann,18-29\nv2,Bob,30+\nv3,Cy,18-29\n")
    tokens = tmp_path / "tokens.csv"
    groups = tmp_path / "groups.csv"
    code, out = run("tokens", "issue", "-e", str(TINY), "--register", str(register), "-o", str(tokens),
                    "--keys", str(keys), "--group-columns", "age_band", "--groups-out", str(groups))
    assert code == 0, out
    group_text = groups.read_text()
    assert group_text.splitlines()[0] == "serial,age_band"
    assert "Ann" not in group_text and "v1" not in group_text and "PB1-" not in group_text  # labels only
    rows = list(csv.DictReader(tokens.open()))
    assert [r["voter_id"] for r in rows] == ["v1", "v2", "v3"]
    assert len({r["serial"] for r in rows}) == 3

    code, out = run("tokens", "verify", rows[0]["token"], "-e", str(TINY), "--keys", str(keys))
    assert code == 0 and rows[0]["short_code"] in out

    votes = tmp_path / "votes.jsonl"
    lines = [
        {"token": rows[0]["token"], "cast_at": "2026-05-01T10:00:00Z", "selections": {"city": ["C1"], "north": ["N1"]}},
        {"token": rows[1]["token"], "cast_at": "2026-05-01T10:00:00Z", "selections": {"city": ["C2"]}},
        {"token": rows[1]["token"], "cast_at": "2026-05-02T10:00:00Z", "selections": {"city": ["C1"]}},
        {"token": rows[2]["token"], "cast_at": "2026-05-01T10:00:00Z", "selections": {"north": ["S1"]}},
    ]
    votes.write_text("\n".join(json.dumps(x) for x in lines) + "\n{oops\n")
    receipts = tmp_path / "receipts.csv"
    code, out = run("ingest", "evotes", str(votes), "-e", str(TINY), "--db", db, "--keys", str(keys), "-j", "1",
                    "--receipts", str(receipts))
    assert code == 0, out
    assert "3 accepted" in out and "2 rejected" in out
    assert stat.S_IMODE(receipts.stat().st_mode) == 0o600
    got = [(r["file"], r["line"], r["receipt_id"]) for r in csv.DictReader(receipts.open())]
    stored = sorted((b.source.name, str(b.source.line), b.receipt_id) for b in Store.open(db).iter_ballots())
    assert got == stored and [g[1] for g in got] == ["1", "2", "3"]
    assert "votes.jsonl:4: project_not_in_envelope" in out

    code, out = run("rejections", "list", "--db", db, "--format", "csv")
    assert code == 0
    rej = list(csv.DictReader(out.splitlines()))
    assert [(r["source_line"], r["reason"]) for r in rej] == [("4", "project_not_in_envelope"), ("5", "malformed_line")]

    code, out = run("ingest", "evotes", str(votes), "-e", str(TINY), "--db", db, "--keys", str(keys))
    assert code == 0 and "0 accepted" in out

    res_dir = tmp_path / "results"
    code, out = run("results", "--out", str(res_dir), "--db", db, "--bom", "--groups", str(groups))
    assert code == 0, out
    assert (res_dir / "summary.csv").read_bytes().startswith(b"\xef\xbb\xbfmetric,value,definition")
    assert (res_dir / "results.xlsx").read_bytes()[:2] == b"PK"
    summary = {r["metric"]: r["value"] for r in csv.DictReader((res_dir / "summary.csv").open(encoding="utf-8-sig"))}
    assert (summary["superseded"], summary["rejected"], summary["registered"]) == ("1", "2", "3")
    grp = list(csv.DictReader((res_dir / "groups.csv").open(encoding="utf-8-sig")))
    assert {r["group"] for r in grp} == {"18-29", "30+"} and all(r["suppressed"] == "1" for r in grp)  # k = 10
    projects = {r["project_id"]: r for r in csv.DictReader((res_dir / "projects.csv").open(encoding="utf-8-sig"))}
    assert projects["C1"]["votes_total"] == "2"  # v1 + v2's later vote
    assert projects["C2"]["votes_total"] == "0"  # v2's first vote superseded
    assert projects["C1"]["selected"] == "1" and projects["C2"]["selected"] == "0"
    assert projects["N1"]["selected"] == "1"
    envs = {r["envelope_id"]: r for r in csv.DictReader((res_dir / "envelopes.csv").open(encoding="utf-8-sig"))}
    assert "TOTAL" not in envs
    assert envs["city"]["spent"] == "60000" and envs["city"]["left_over"] == "40000"


def test_bad_election_file_gives_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "e.toml"
    bad.write_text('[election]\nid = "x"\nname = "x"\n')
    code, out = run("election", "check", str(bad))
    assert code == 2
    assert "e.toml: missing required key 'envelopes'" in out
    assert "Traceback" not in out


def test_world_readable_key_refused(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert run("keys", "init", "--keys", str(keys))[0] == 0
    os.chmod(keys / "authority.key", 0o644)
    tokens = tmp_path / "t.csv"
    code, out = run("tokens", "issue", "-e", str(TINY), "--count", "2", "-o", str(tokens), "--keys", str(keys))
    assert code == 2 and "readable by others" in out
    assert "PRIVATE KEY" not in out


def test_results_without_election_is_clear(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    code, out = run("results", "--out", str(tmp_path / "r"), "--db", db)
    assert code == 2 and "no store at" in out and not (tmp_path / "empty.sqlite").exists()
    from engine.storage.store import Store

    Store.open(db).close()  # an empty store (schema, no election)
    code, out = run("results", "--out", str(tmp_path / "r"), "--db", db)
    assert code == 2 and "no election in this store" in out

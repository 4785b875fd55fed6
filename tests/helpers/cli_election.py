"""An election run through the real CLI, as an operator would: keys, tokens for a register,
e-votes, ingestion, results and a published bundle (the e2e tests of the rule variants)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from pbcount.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    """``pbcount ARGS`` in process: (exit code, output)."""
    res = runner.invoke(app, list(args), env={"PBCOUNT_PROGRESS": "0"})
    return res.exit_code, res.output


def publish_via_cli(tmp_path: Path, election: Path, selections: list[Any],
                    expect_in_ingest: tuple[str, ...] = ()) -> tuple[Path, Path, Path]:
    """(keys, results directory, bundle) of ``election`` counted from one e-vote per item of
    ``selections`` (each a vote line's ``selections`` object); the ingestion output must hold
    every string of ``expect_in_ingest``."""
    keys, db = tmp_path / "keys", f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert run("keys", "init", "--keys", str(keys))[0] == 0
    register = tmp_path / "register.csv"
    register.write_text("voter_id\n" + "".join(f"v{i}\n" for i in range(1, len(selections) + 1)))
    tokens = tmp_path / "tokens.csv"
    code, out = run("tokens", "issue", "-e", str(election), "--register", str(register), "-o", str(tokens),
                    "--keys", str(keys))
    assert code == 0, out
    rows = list(csv.DictReader(tokens.open()))
    votes = tmp_path / "votes.jsonl"
    votes.write_text("".join(json.dumps({"token": r["token"], "cast_at": "2026-05-10T10:00:00Z", "selections": v})
                             + "\n" for r, v in zip(rows, selections, strict=True)))
    code, out = run("ingest", "evotes", str(votes), "-e", str(election), "--db", db, "--keys", str(keys), "-j", "1")
    assert code == 0, out
    assert all(s in out for s in expect_in_ingest), out
    res_dir = tmp_path / "results"
    code, out = run("results", "--out", str(res_dir), "--db", db, "--no-xlsx")
    assert code == 0, out
    bundle = tmp_path / "bundle"
    code, out = run("publish", "--out", str(bundle), "--keys", str(keys), "--db", db)
    assert code == 0, out
    return keys, res_dir, bundle

"""The paper-ballot commands as an operator runs them: render, testdeck, scan, review."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pbcount.cli import app

runner = CliRunner()


def test_render_testdeck_scan_review_from_the_command_line(small_paris: Path, tmp_path: Path) -> None:
    e = str(small_paris / "election.toml")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    r = runner.invoke(app, ["ballots", "render", "-e", e, "--envelope", "AR03", "--out", str(tmp_path / "spec"),
                            "--dpi", "100"])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "spec" / "layout.json").read_text())["pages"][0]["envelope"] == "ar03"
    r = runner.invoke(app, ["testdeck", "-e", e, "--envelope", "ar03", "--count", "4", "--seed", "3",
                            "--out", str(tmp_path / "deck"), "--workers", "1"])
    assert r.exit_code == 0, r.output
    (tmp_path / "deck" / "specimen.png").write_bytes((tmp_path / "spec" / "specimen-AR03-p1.png").read_bytes())
    r = runner.invoke(app, ["scan", str(tmp_path / "deck"), "-e", e, "--db", db, "--keys", str(small_paris / "keys"),
                            "--report", str(tmp_path / "rep.json"), "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert "ballots/s" in r.output
    pages = {p["image"]: p for p in json.loads((tmp_path / "rep.json").read_text())["pages"]}
    assert len(pages) == 5
    assert pages["specimen.png"]["status"] == "rejected" and pages["specimen.png"]["reasons"] == ["specimen_ballot"]
    r = runner.invoke(app, ["review", "list", "--db", db, "--status", "all", "--format", "jsonl"])
    assert r.exit_code == 0 and "PB1-" not in r.output  # tokens never leave the store


def test_clear_errors(small_paris: Path, tmp_path: Path) -> None:
    e = str(small_paris / "election.toml")
    r = runner.invoke(app, ["scan", str(tmp_path / "nope"), "-e", e, "--db", f"sqlite:///{tmp_path / 'x.db'}",
                            "--keys", str(small_paris / "keys")])
    assert r.exit_code == 2 and "nope" in r.output and "not found" in r.output
    r = runner.invoke(app, ["ballots", "render", "-e", e, "--envelope", "AR99", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "unknown envelope 'AR99'" in r.output
    r = runner.invoke(app, ["review", "resolve", "1", "--selections", "AR03-001", "--by", "x", "--db",
                            f"sqlite:///{tmp_path / 'y.db'}", "--keys", str(small_paris / "keys")])
    assert r.exit_code == 2 and "no election" in r.output

"""Sortition records for the API and page tests: drawn with ``pbcount sortition draw`` on
``fixtures/sortition`` (the documented draw: panel R02, R04, R07, R11), and a tampered copy."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from pbcount.cli import app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sortition"
SEED = "drand quicknet round 12345678: 8e2b4c"
PANEL = ["R02", "R04", "R07", "R11"]


def draw_record(out: Path, keys: Path) -> Path:
    """Draw the fixture panel into ``out`` (a new directory), signed with ``keys``' results key."""
    res = CliRunner().invoke(app, [
        "sortition", "draw", "--pool", str(FIXTURES / "pool.csv"), "--features", str(FIXTURES / "features.csv"),
        "--size", "4", "--address-columns", "household", "--seed", SEED, "--out", str(out), "--keys", str(keys)])
    assert res.exit_code == 0, res.output
    assert (out / "panel.csv").read_text().splitlines()[1:] == PANEL
    return out


def tampered_copy(record: Path, out: Path, old: str = "R02", new: str = "R01") -> Path:
    """A copy of ``record`` whose panel.csv names ``new`` instead of ``old`` (nothing re-signed)."""
    shutil.copytree(record, out)
    panel = out / "panel.csv"
    text = panel.read_text()
    assert f"{old}\n" in text
    panel.write_text(text.replace(f"{old}\n", f"{new}\n"))
    return out

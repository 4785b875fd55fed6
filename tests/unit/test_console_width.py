"""Terminal output of pbcount in an 80-column terminal or a redirected log: figures whole."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from pbcount import console as cli_console
from pbcount.summary import figures_table


def _render(table: object, width: int = 80) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=False, color_system=None).print(table)
    return buf.getvalue()


def test_money_is_never_cut_at_80_columns() -> None:
    cols = ["envelope", "budget", "spent", "left", "funded", "ballots", "online", "paper"]
    rows = [[f"arrondissement-{i:02d}-long-name", "30,000,000", "29,999,500", "500", "12", "88,624",
             "80,000", "8,624"] for i in range(3)]
    foot = ["TOTAL", "100,000,000", "99,998,500", "1,500", "36", "265,872", "240,000", "25,872"]
    out = _render(figures_table("Paris — results by envelope", cols, rows, foot))
    assert "…" not in out
    for figure in {*foot[1:], *rows[0][1:]}:
        assert figure in out, figure
    assert max(len(line) for line in out.splitlines()) <= 80


def test_progress_is_plain_lines_when_not_a_terminal(monkeypatch: object) -> None:
    buf = io.StringIO()
    monkeypatch.setattr(cli_console, "err_console", Console(file=buf, width=80, force_terminal=False))  # type: ignore[attr-defined]
    monkeypatch.delenv("PBCOUNT_PROGRESS", raising=False)  # type: ignore[attr-defined]
    with cli_console.progress_bar("ingest evotes", total=3000) as advance:
        for _ in range(3):
            advance(1000)
    out = buf.getvalue()
    assert out.startswith("ingest evotes: 3,000 lines in ") and out.count("\n") == 1
    assert "\x1b" not in out and "━" not in out


def test_results_and_publish_leave_no_store_behind(tmp_path: Path) -> None:
    """In an empty working directory, a failing ``results`` / ``publish`` writes nothing."""
    from engine.storage.keyfiles import init_keys

    init_keys(tmp_path / "keys")
    before = sorted(p.name for p in tmp_path.iterdir())
    env = {**os.environ, "PBCOUNT_PROGRESS": "0"}
    env.pop("PBCOUNT_DB", None)
    for args in (["results"], ["publish", "--out", "bundle", "--keys", "keys"]):
        r = subprocess.run([sys.executable, "-m", "pbcount", *args], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        assert "no store at pbcount.db" in r.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == before, args

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


LONG_PB = """META
key;value
description;Width town
num_projects;4
num_votes;4
budget;150000000
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
arrondissement-11-renovation-ecole;90000000;A
arrondissement-12-renovation-piscine;90000000;B
arrondissement-13-jardins-partages;45000000;C
arrondissement-14-pistes-cyclables;15000000;D
VOTES
voter_id;vote
1;arrondissement-11-renovation-ecole,arrondissement-12-renovation-piscine
2;arrondissement-11-renovation-ecole,arrondissement-12-renovation-piscine,arrondissement-13-jardins-partages
3;arrondissement-14-pistes-cyclables
4;arrondissement-13-jardins-partages
"""

ELECTION_TOML = """[election]
id = "width-2026"
name = "Une ville au nom assez long pour remplir la largeur du terminal, budget participatif 2026"
currency = "EUR"

[[envelopes]]
id = "arrondissement-du-centre-historique"
name = "Centre historique"
kind = "citywide"
code = "CH"
budget = 123456789012
max_selections = 12
min_selections = 1
rule = "mes-add1-greedy-comparison"

[[projects]]
id = "CH-001"
envelope = "arrondissement-du-centre-historique"
title = "Projet"
cost = 98765432101
"""


def _run80(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "COLUMNS": "80", "PBCOUNT_PROGRESS": "0"}
    r = subprocess.run([sys.executable, "-m", "pbcount", *args], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=120)
    return r.stdout + r.stderr


def test_allocate_and_election_tables_fit_80_columns_with_every_figure_whole(tmp_path: Path) -> None:
    """Issue 17: ``allocate`` (long project ids, a lost tie's long detail) and ``election check``
    (big budgets) at 80 columns: no line longer than 80, no figure cut or folded."""
    pb = tmp_path / "w.pb"
    pb.write_text(LONG_PB, encoding="utf-8")
    out = _run80(["allocate", str(pb)], tmp_path)
    assert "tie_lost" in out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    assert "…" not in out, out
    for figure in ("90,000,000", "45,000,000", "15,000,000"):
        assert figure in out, (figure, out)
    toml = tmp_path / "e.toml"
    toml.write_text(ELECTION_TOML, encoding="utf-8")
    out = _run80(["election", "check", str(toml)], tmp_path)
    assert max(len(line) for line in out.splitlines()) <= 80, out
    assert "…" not in out and "123,456,789,012" in out, out

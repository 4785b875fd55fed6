"""``projects.csv`` and ``envelopes.csv``: every cell agrees with the election, tally and allocation.

Superseded counts come from ``tally.json`` (superseded ballots are not published, so those
figures are declared, not recomputed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .definition import Definition
from .errors import fail
from .jsonio import read_file


def _csv_rows(directory: Path, name: str) -> list[list[str]]:
    try:
        text = read_file(directory, name).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(name, "utf8", "not UTF-8") from exc
    return list(csv.reader(io.StringIO(text)))


def _compare_rows(name: str, header: list[str], got: list[list[str]], want: list[list[Any]]) -> None:
    if not got or got[0] != header:
        raise fail(name, "header", f"expected columns {','.join(header)}", 1)
    body = got[1:]
    for i, (g, w) in enumerate(zip(body, want, strict=False), start=2):
        ws = ["" if v is None else str(v) for v in w]
        if len(g) != len(ws):
            raise fail(name, "columns", f"{len(g)} cells, expected {len(ws)}", i)
        for col, gv, wv in zip(header, g, ws, strict=True):
            if gv != wv:
                raise fail(name, col, f"published {gv!r}, recomputed {wv!r}", i)
    if len(body) != len(want):
        raise fail(name, "rows", f"{len(body)} data rows, expected {len(want)}", min(len(body), len(want)) + 2)


PROJECT_COLUMNS = [
    "envelope_id", "project_id", "title", "cost", "district", "category",
    "popular_neighbourhood", "votes_online", "votes_paper", "votes_total", "vote_share_pct", "rank",
    "selected", "cumulative_cost", "reason", "detail",
]


ENVELOPE_COLUMNS = [
    "envelope_id", "name", "kind", "budget", "spent", "left_over", "projects_funded",
    "ballots_total", "ballots_online", "ballots_paper", "superseded",
]


def _pct(part: int, whole: int) -> str:
    """As engine.formats.results_csv.pct: 100 * part / whole, two decimals, empty if whole is 0."""
    return f"{100 * part / whole:.2f}" if whole else ""


def check_csvs(directory: Path, d: Definition, tally: Mapping[str, Any], alloc: Mapping[str, Any]) -> None:
    """Rebuild ``projects.csv`` and ``envelopes.csv`` from the definition, the tally and the
    allocation, and compare them with the published files header and cell by cell.
    """
    rows: list[list[Any]] = []
    for env in d.envelopes:
        votes = tally["envelopes"][env.id]["projects"]
        n_env = tally["envelopes"][env.id]["ballots"]["total"]
        for o in sorted(alloc["envelopes"][env.id]["outcomes"], key=lambda o: o["rank"]):
            p = d.projects[o["project_id"]]
            v = votes[p.id]
            rows.append([env.id, p.id, p.title, p.cost, p.district or "", p.category or "",
                         int(p.popular_neighbourhood), v["online"], v["paper"], v["total"], _pct(v["total"], n_env),
                         o["rank"],
                         int(o["selected"]), o["cumulative_cost"], o["reason"], o["detail"]])
    _compare_rows("projects.csv", PROJECT_COLUMNS, _csv_rows(directory, "projects.csv"), rows)

    sup = tally["superseded"]
    erows: list[list[Any]] = []
    for env in d.envelopes:  # no total row: election-wide figures are in summary.csv (docs/results-csv.md)
        a = alloc["envelopes"][env.id]
        b = tally["envelopes"][env.id]["ballots"]
        erows.append([env.id, env.name, env.kind, env.budget, a["cost"], env.budget - a["cost"], len(a["selected"]),
                      b["total"], b["online"], b["paper"], sup["by_envelope"].get(env.id, 0)])
    _compare_rows("envelopes.csv", ENVELOPE_COLUMNS, _csv_rows(directory, "envelopes.csv"), erows)

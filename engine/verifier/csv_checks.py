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
    "popular_neighbourhood", "votes_online", "votes_paper", "votes_total", "rank",
    "selected", "cumulative_cost", "reason", "detail",
]


ENVELOPE_COLUMNS = [
    "envelope_id", "name", "kind", "budget", "spent", "left_over", "projects_funded",
    "ballots_total", "ballots_online", "ballots_paper", "superseded", "rejected",
]


def check_csvs(directory: Path, d: Definition, tally: Mapping[str, Any], alloc: Mapping[str, Any]) -> None:
    rows: list[list[Any]] = []
    for env in d.envelopes:
        votes = tally["envelopes"][env.id]["projects"]
        for o in sorted(alloc["envelopes"][env.id]["outcomes"], key=lambda o: o["rank"]):
            p = d.projects[o["project_id"]]
            v = votes[p.id]
            rows.append([env.id, p.id, p.title, p.cost, p.district or "", p.category or "",
                         int(p.popular_neighbourhood), v["online"], v["paper"], v["total"], o["rank"],
                         int(o["selected"]), o["cumulative_cost"], o["reason"], o["detail"]])
    _compare_rows("projects.csv", PROJECT_COLUMNS, _csv_rows(directory, "projects.csv"), rows)

    sup = tally["superseded"]
    erows: list[list[Any]] = []
    totals = [0] * 8
    for env in d.envelopes:
        a = alloc["envelopes"][env.id]
        b = tally["envelopes"][env.id]["ballots"]
        vals = [env.budget, a["cost"], env.budget - a["cost"], len(a["selected"]), b["total"], b["online"],
                b["paper"], sup["by_envelope"].get(env.id, 0)]
        totals = [x + y for x, y in zip(totals, vals, strict=True)]
        erows.append([env.id, env.name, env.kind, *vals, 0])
    n = tally["ballots"]
    totals[4:8] = [n["total"], n["online"], n["paper"], sup["total"]]
    erows.append(["TOTAL", d.name, "", *totals, tally["rejected_total"]])
    _compare_rows("envelopes.csv", ENVELOPE_COLUMNS, _csv_rows(directory, "envelopes.csv"), erows)

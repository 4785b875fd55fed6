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


# summary.csv: the metric and value cells are recomputed; the definition column is prose
SUMMARY_COLUMNS = ["metric", "value", "definition"]
TURNOUT_COLUMNS = ["envelope_id", "channel", "ballots", "share_of_envelope_pct", "share_of_voters_pct"]
BREAKDOWN_COLUMNS = [
    "envelope_id", "group", "projects", "projects_funded", "cost_proposed", "spent",
    "share_of_spent_pct", "share_of_funded_pct", "votes_total",
]


def _rejected_by_reason(directory: Path) -> dict[str, int]:
    from .jsonio import read_jsonl

    return {e["reason"]: e["count"] for _no, _line, e in read_jsonl(directory, "rejected.jsonl")}


def check_summary_csvs(directory: Path, d: Definition, tally: Mapping[str, Any], alloc: Mapping[str, Any]) -> None:
    """``summary.csv``, ``turnout.csv``, ``categories.csv`` and ``districts.csv`` recomputed
    from the definition, ``tally.json``, ``allocation.json`` and ``rejected.jsonl`` (deliberate
    copies of engine.formats.results_csv and engine.formats.breakdowns)."""
    b = tally["ballots"]
    envs = alloc["envelopes"]
    budget = sum(env.budget for env in d.envelopes)
    spent = sum(envs[env.id]["cost"] for env in d.envelopes)
    rejected = _rejected_by_reason(directory)
    want = [["election_id", d.id], ["election_name", d.name], ["currency", d.currency],
            ["voters", b["total"]], ["voters_online", b["online"]], ["voters_paper", b["paper"]],
            ["superseded", tally["superseded"]["total"]], ["rejected", sum(rejected.values())],
            ["envelopes", len(d.envelopes)], ["budget", budget], ["spent", spent], ["left_over", budget - spent],
            ["projects", len(d.projects)],
            ["projects_funded", sum(len(envs[env.id]["selected"]) for env in d.envelopes)]]
    want += [[f"rejected_{reason}", n] for reason, n in sorted(rejected.items())]
    got = [row[:2] for row in _csv_rows(directory, "summary.csv")]
    if got and got[0] == SUMMARY_COLUMNS[:2]:
        got[0] = SUMMARY_COLUMNS
    _compare_rows("summary.csv", SUMMARY_COLUMNS[:2], [SUMMARY_COLUMNS[:2], *got[1:]], want)

    rows: list[list[Any]] = []
    voters = {"online": b["online"], "paper": b["paper"], "all": b["total"]}
    for env in d.envelopes:
        eb = tally["envelopes"][env.id]["ballots"]
        for channel, n in (("online", eb["online"]), ("paper", eb["paper"]), ("all", eb["total"])):
            rows.append([env.id, channel, n, _pct(n, eb["total"]), _pct(n, voters[channel])])
    _compare_rows("turnout.csv", TURNOUT_COLUMNS, _csv_rows(directory, "turnout.csv"), rows)

    for name, attr in (("categories.csv", "category"), ("districts.csv", "district")):
        brows: list[list[Any]] = []
        for env in d.envelopes:
            a = envs[env.id]
            selected = set(a["selected"])
            votes = tally["envelopes"][env.id]["projects"]
            groups: dict[str, list[int]] = {}
            for p in d.projects.values():
                if p.envelope != env.id:
                    continue
                g = groups.setdefault(getattr(p, attr) or "", [0, 0, 0, 0, 0])
                g[0] += 1
                g[2] += p.cost
                g[4] += votes[p.id]["total"]
                if p.id in selected:
                    g[1] += 1
                    g[3] += p.cost
            for group in sorted(groups):
                n, funded, cost, gspent, v = groups[group]
                brows.append([env.id, group, n, funded, cost, gspent, _pct(gspent, a["cost"]),
                              _pct(funded, len(a["selected"])), v])
        header = [attr if c == "group" else c for c in BREAKDOWN_COLUMNS]
        _compare_rows(name, header, _csv_rows(directory, name), brows)

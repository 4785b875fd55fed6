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

from .definition import Definition, Env
from .errors import fail
from .jsonio import read_file
from .rules_grades import lower_median


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


# only when the election has a grades or for-against envelope (engine/formats/results_csv.py)
OPINION_COLUMNS = ["votes_against", "grade_counts", "majority_grade"]


def _opinion_cells(env: Env, v: Mapping[str, Any]) -> list[Any]:
    """votes_against, grade_counts (best first, ungraded counted as the ungraded grade) and
    majority_grade, recomputed from the tally entry of one project."""
    if env.ballot == "for-against":
        return [v["against"], "", ""]
    if env.ballot != "grades":
        return ["", "", ""]
    row = list(v["grades"])
    row[env.default_grade] += v["ungraded"]
    names = env.grade_names
    text = "; ".join(f"{names[g]}: {row[g]}" for g in range(len(names) - 1, -1, -1))
    return ["", text, names[lower_median(row, env.default_grade)[0]] if sum(row) else ""]


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
    opinions = any(env.ballot != "approval" for env in d.envelopes)
    for env in d.envelopes:
        votes = tally["envelopes"][env.id]["projects"]
        n_env = tally["envelopes"][env.id]["ballots"]["total"]
        for o in sorted(alloc["envelopes"][env.id]["outcomes"], key=lambda o: o["rank"]):
            p = d.projects[o["project_id"]]
            v = votes[p.id]
            rows.append([env.id, p.id, p.title, p.cost, p.district or "", p.category or "",
                         int(p.popular_neighbourhood), v["online"], v["paper"], v["total"], _pct(v["total"], n_env),
                         o["rank"],
                         int(o["selected"]), o["cumulative_cost"], o["reason"], o["detail"]]
                        + (_opinion_cells(env, v) if opinions else []))
    _compare_rows("projects.csv", PROJECT_COLUMNS + (OPINION_COLUMNS if opinions else []),
                  _csv_rows(directory, "projects.csv"), rows)

    sup = tally["superseded"]
    erows: list[list[Any]] = []
    for env in d.envelopes:  # no total row: election-wide figures are in summary.csv (docs/results-csv.md)
        a = alloc["envelopes"][env.id]
        b = tally["envelopes"][env.id]["ballots"]
        erows.append([env.id, env.name, env.kind, env.budget, a["cost"], env.budget - a["cost"], len(a["selected"]),
                      b["total"], b["online"], b["paper"], sup["by_envelope"].get(env.id, 0)])
    _compare_rows("envelopes.csv", ENVELOPE_COLUMNS, _csv_rows(directory, "envelopes.csv"), erows)
    check_savings_csv(directory, d, alloc)


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
    spending = [env for env in d.envelopes if env.savings is None]  # savings targets are no budgets
    savings = [env for env in d.envelopes if env.savings is not None]
    budget = sum(env.budget for env in spending)
    spent = sum(envs[env.id]["cost"] for env in spending)
    spending_ids = {env.id for env in spending}
    rejected = _rejected_by_reason(directory)
    want = [["election_id", d.id], ["election_name", d.name], ["currency", d.currency],
            ["voters", b["total"]], ["voters_online", b["online"]], ["voters_paper", b["paper"]],
            ["superseded", tally["superseded"]["total"]], ["rejected", sum(rejected.values())],
            ["envelopes", len(d.envelopes)], ["budget", budget], ["spent", spent], ["left_over", budget - spent],
            ["projects", sum(1 for p in d.projects.values() if p.envelope in spending_ids)],
            ["projects_funded", sum(len(envs[env.id]["selected"]) for env in spending)]]
    if savings:
        want += [["savings_target", sum(env.budget for env in savings)],
                 ["savings_reached", sum(envs[env.id]["cost"] for env in savings)],
                 ["spending_lines", sum(1 for p in d.projects.values() if p.envelope not in spending_ids)],
                 ["lines_cut", sum(len(envs[env.id]["selected"]) for env in savings)]]
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



SAVINGS_COLUMNS = [
    "envelope_id", "sector", "spending_before", "saved", "spending_after", "saved_pct", "lines", "lines_cut",
    "max_cuts", "max_amount", "target", "overshoot",
]


def check_savings_csv(directory: Path, d: Definition, alloc: Mapping[str, Any]) -> None:
    """``savings.csv`` (as engine/formats/savings_csv.py): per sector of each savings
    envelope, spending before and after the published cuts, then a total row; required
    when the election has a savings envelope."""
    from .rules_cuts import natural_key, sector_limits

    savings_envs = [env for env in d.envelopes if env.savings is not None]
    if not savings_envs:
        return
    rows: list[list[Any]] = []
    for env in savings_envs:
        assert env.savings is not None
        a = alloc["envelopes"][env.id]
        cut = set(a["selected"])
        lines = d.by_env[env.id]
        limits = {lim.sector: lim for lim in sector_limits(env.savings, lines)}
        declared = env.savings.get("sectors", {})
        total_before = total_lines = 0
        for name in sorted({ln.category for ln in lines if ln.category is not None}, key=natural_key):
            members = [ln for ln in lines if ln.category == name]
            before = declared.get(name, {}).get("spending", sum(ln.cost for ln in members))
            saved = sum(ln.cost for ln in members if ln.id in cut)
            lim = limits.get(name)
            rows.append([env.id, name, before, saved, before - saved, _pct(saved, before), len(members),
                         sum(1 for ln in members if ln.id in cut),
                         "" if lim is None or lim.max_cuts is None else lim.max_cuts,
                         "" if lim is None or lim.max_amount is None else lim.max_amount, "", ""])
            total_before += before
            total_lines += len(members)
        rows.append([env.id, "", total_before, a["cost"], total_before - a["cost"], _pct(a["cost"], total_before),
                     total_lines, len(a["selected"]), "", "", env.budget, a["cost"] - env.budget])
    _compare_rows("savings.csv", SAVINGS_COLUMNS, _csv_rows(directory, "savings.csv"), rows)

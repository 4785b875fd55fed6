"""Results as CSV text for journalists (UTF-8, header row, comma-separated).

``projects.csv`` — one row per project, envelopes in definition order, projects by rank:
``envelope_id, project_id, title, cost, district, category, popular_neighbourhood,
votes_online, votes_paper, votes_total, rank, selected, cumulative_cost, reason, detail``.

``envelopes.csv`` — one row per envelope then a ``TOTAL`` row:
``envelope_id, name, kind, budget, spent, left_over, projects_funded, ballots_total,
ballots_online, ballots_paper, superseded, rejected`` (``rejected`` is only attributable
to the whole election, so it is filled on the ``TOTAL`` row and 0 elsewhere).

Pure functions returning strings; the caller writes the files.
"""

from __future__ import annotations

import csv
import io

from engine.counting.count import CountResult

PROJECT_COLUMNS = [
    "envelope_id", "project_id", "title", "cost", "district", "category",
    "popular_neighbourhood", "votes_online", "votes_paper", "votes_total", "rank",
    "selected", "cumulative_cost", "reason", "detail",
]
ENVELOPE_COLUMNS = [
    "envelope_id", "name", "kind", "budget", "spent", "left_over", "projects_funded",
    "ballots_total", "ballots_online", "ballots_paper", "superseded", "rejected",
]


def _write(rows: list[list[object]], header: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def projects_csv(result: CountResult) -> str:
    e = result.election
    rows: list[list[object]] = []
    for env in e.envelopes:
        alloc = result.allocation.envelopes[env.id]
        et = result.tally.envelopes[env.id]
        for o in sorted(alloc.outcomes, key=lambda o: o.rank):
            p = e.project(o.project_id)
            assert p is not None
            v = et.projects[p.id]
            rows.append([
                env.id, p.id, p.title, p.cost, p.district or "", p.category or "",
                int(p.popular_neighbourhood), v.online, v.paper, v.total, o.rank,
                int(o.selected), o.cumulative_cost, o.reason, o.detail,
            ])
    return _write(rows, PROJECT_COLUMNS)


def superseded_per_envelope(result: CountResult) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in result.dedup.superseded:
        for env_id, _ in s.ballot.selections:
            out[env_id] = out.get(env_id, 0) + 1
    return out


def envelopes_csv(result: CountResult) -> str:
    e = result.election
    sup = superseded_per_envelope(result)
    rows: list[list[object]] = []
    totals = [0] * 8
    for env in e.envelopes:
        alloc = result.allocation.envelopes[env.id]
        et = result.tally.envelopes[env.id]
        vals = [env.budget, alloc.cost, env.budget - alloc.cost, len(alloc.selected),
                et.ballots, et.ballots_online, et.ballots_paper, sup.get(env.id, 0)]
        totals = [a + b for a, b in zip(totals, vals, strict=True)]
        rows.append([env.id, env.name, env.kind, *vals, 0])
    counted = result.dedup.counted
    n_online = sum(1 for b in counted if b.channel.value == "online")
    totals[4:8] = [len(counted), n_online, len(counted) - n_online, len(result.dedup.superseded)]
    rows.append(["TOTAL", e.name, "", *totals, sum(result.rejected_by_reason.values())])
    return _write(rows, ENVELOPE_COLUMNS)

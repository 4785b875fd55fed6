"""Breakdowns of the results by project category and by district (CSV text).

``categories.csv`` and ``districts.csv`` — one row per (envelope, group), envelopes in
definition order, groups sorted by name (projects with no category/district form the
group ``""``). Every project belongs to exactly one envelope and one group, so the money
and project columns add up across rows (unlike ballots): summing ``projects_funded`` over
all rows of a category gives the winners of that category in the whole election. Columns
are documented in ``docs/results-csv.md``. Pure; O(projects).
"""

from __future__ import annotations

from collections.abc import Callable

from engine.counting.count import CountResult
from engine.formats.results_csv import pct, write_csv
from engine.model.election import Project

BREAKDOWN_COLUMNS = [
    "envelope_id", "group", "projects", "projects_funded", "cost_proposed", "spent",
    "share_of_spent_pct", "share_of_funded_pct", "votes_total",
]


def _breakdown(result: CountResult, key: Callable[[Project], str], label: str) -> str:
    e = result.election
    rows: list[list[object]] = []
    for env in e.envelopes:
        alloc = result.allocation.envelopes[env.id]
        selected = set(alloc.selected)
        et = result.tally.envelopes[env.id]
        groups: dict[str, list[int]] = {}  # group -> [projects, funded, cost, spent, votes]
        for p in e.projects_in(env.id):
            g = groups.setdefault(key(p), [0, 0, 0, 0, 0])
            g[0] += 1
            g[2] += p.cost
            g[4] += et.projects[p.id].total
            if p.id in selected:
                g[1] += 1
                g[3] += p.cost
        for name in sorted(groups):
            n, funded, cost, spent, votes = groups[name]
            rows.append([env.id, name, n, funded, cost, spent, pct(spent, alloc.cost),
                         pct(funded, len(alloc.selected)), votes])
    header = [label if c == "group" else c for c in BREAKDOWN_COLUMNS]
    return write_csv(rows, header)


def categories_csv(result: CountResult) -> str:
    """Money and winners per project category in each envelope (column ``category``)."""
    return _breakdown(result, lambda p: p.category or "", "category")


def districts_csv(result: CountResult) -> str:
    """Money and winners per project district in each envelope (column ``district``)."""
    return _breakdown(result, lambda p: p.district or "", "district")

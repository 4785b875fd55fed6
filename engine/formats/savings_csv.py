"""``savings.csv``: each savings envelope's sectors before and after the cuts (reverse PB).

One row per sector of each savings envelope (sectors in natural order), then one total row
with an empty ``sector``: ``spending_before`` summed, ``saved`` = the savings reached,
``target`` and ``overshoot`` (= saved − target; only on the total row). Columns in
``docs/results-csv.md``. Written only when the election has a savings envelope; the
stand-alone verifier recomputes every cell (``engine/verifier/csv_checks.py``).
"""

from __future__ import annotations

from engine.counting.count import CountResult
from engine.counting.savings import sector_reports
from engine.formats.results_csv import pct, write_csv

SAVINGS_COLUMNS = [
    "envelope_id", "sector", "spending_before", "saved", "spending_after", "saved_pct", "lines", "lines_cut",
    "max_cuts", "max_amount", "target", "overshoot",
]


def has_savings(result: CountResult) -> bool:
    """Whether the election has a savings envelope (then ``savings.csv`` is written)."""
    return any(env.savings is not None for env in result.election.envelopes)


def savings_rows(result: CountResult) -> list[list[object]]:
    """The rows of ``savings.csv`` (see the module docstring)."""
    rows: list[list[object]] = []
    for env in result.election.envelopes:
        if env.savings is None:
            continue
        alloc = result.allocation.envelopes[env.id]
        reps = sector_reports(result.election, env, alloc)
        for r in reps:
            rows.append([env.id, r.sector, r.spending_before, r.saved, r.spending_after,
                         pct(r.saved, r.spending_before), r.lines, r.lines_cut,
                         "" if r.max_cuts is None else r.max_cuts, "" if r.max_amount is None else r.max_amount,
                         "", ""])
        before = sum(r.spending_before for r in reps)
        rows.append([env.id, "", before, alloc.cost, before - alloc.cost, pct(alloc.cost, before),
                     sum(r.lines for r in reps), len(alloc.selected), "", "", env.budget, alloc.cost - env.budget])
    return rows


def savings_csv(result: CountResult) -> str:
    """``savings.csv`` text."""
    return write_csv(savings_rows(result), SAVINGS_COLUMNS)

"""Human summary of a count: one row per envelope (rich table)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from engine.counting.count import CountResult
from engine.model.ballots import Channel


def figures_table(title: str, cols: list[str], rows: list[list[str]], foot: list[str] | None = None) -> Table:
    """A rich table whose figures are never cut: every column but the first is numeric,
    ``no_wrap`` with a minimum width of its widest cell (header, rows, footer); the first
    column folds when the terminal is narrow. On an 80-column terminal or a log file the
    table wraps its text column rather than print ``30,000,…``."""
    t = Table(title=title, show_footer=foot is not None)
    for i, c in enumerate(cols):
        cells = [r[i] for r in rows] + ([foot[i]] if foot else [])
        if i == 0:
            t.add_column(c, footer=foot[i] if foot else "", justify="left", overflow="fold", min_width=5)
        else:
            width = max([len(c), *map(len, cells)])
            t.add_column(c, footer=foot[i] if foot else "", justify="right", no_wrap=True, min_width=width)
    for r in rows:
        t.add_row(*r)
    return t


def print_count_summary(console: Console, result: CountResult) -> None:
    """Print the count as a table: per envelope the budget, spent, left over, projects funded
    and ballots by channel, with the election's totals.
    """
    e = result.election
    cols = ["envelope", "budget", "spent", "left", "funded", "ballots", "online", "paper"]
    counted = result.dedup.counted
    n_paper = sum(1 for b in counted if b.channel is Channel.PAPER)
    total_budget = sum(x.budget for x in e.envelopes)
    total_spent = sum(a.cost for a in result.allocation.envelopes.values())
    foot = ["TOTAL", f"{total_budget:,}", f"{total_spent:,}", f"{total_budget - total_spent:,}",
            str(sum(len(a.selected) for a in result.allocation.envelopes.values())), f"{len(counted):,}",
            f"{len(counted) - n_paper:,}", f"{n_paper:,}"]
    rows = []
    for env in e.envelopes:
        a = result.allocation.envelopes[env.id]
        et = result.tally.envelopes[env.id]
        rows.append([env.id, f"{env.budget:,}", f"{a.cost:,}", f"{env.budget - a.cost:,}",
                     str(len(a.selected)), f"{et.ballots:,}", f"{et.ballots_online:,}", f"{et.ballots_paper:,}"])
    t = figures_table(f"{e.name} — results by envelope", cols, rows, foot)
    console.print(t)
    print_quota_summary(console, result)
    sup = Counter(s.reason for s in result.dedup.superseded)
    if sup:
        console.print("superseded (kept, not counted): " + ", ".join(f"{k} {v:,}" for k, v in sorted(sup.items())))
    if result.rejected_by_reason:
        console.print(
            f"rejected {sum(result.rejected_by_reason.values()):,}: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(result.rejected_by_reason.items()))
        )


def print_quota_summary(console: Console, result: CountResult) -> None:
    """Per quota: the group's share of the money spent vs the reserve, and where it fell short."""
    e = result.election
    wide = {r.name: r for r in result.allocation.election_quotas}
    for q in e.quotas:
        if q.name in wide:
            wr = wide[q.name]
            console.print(
                f"quota {q.name} (whole election): group got {wr.group_spent:,} of {wr.required:,} required — "
                + ("met" if wr.met else f"short by {wr.shortfall:,}: {wr.reason}")
                + f" ({wr.rounds} rebalancing round{'s' if wr.rounds != 1 else ''})"
            )
            continue
        group_spent = total_spent = reserved = 0
        short: list[str] = []
        for env in e.envelopes:
            if not q.applies_to(env.id):
                continue
            a = result.allocation.envelopes[env.id]
            total_spent += a.cost
            for r in a.quota_reports:
                if r.name == q.name:
                    group_spent += r.group_spent
                    reserved += r.min_amount
                    if not r.met:
                        short.append(f"{env.id} (short {r.shortfall:,})")
        share = group_spent / total_spent if total_spent else 0.0
        target = f"{float(q.min_share):.1%} reserved" if q.min_share is not None else f"{reserved:,} reserved"
        console.print(
            f"quota {q.name}: group got {group_spent:,} of {total_spent:,} spent ({share:.1%}; {target}); "
            + (f"not met in {len(short)}: {', '.join(short)} "
               + ("(unusable reserve released)" if q.release_unused else "(unusable reserve left unspent)")
               if short else "met in every envelope")
        )

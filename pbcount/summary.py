"""Human summary of a count: one row per envelope (rich table)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from engine.counting.count import CountResult
from engine.model.ballots import Channel


def print_count_summary(console: Console, result: CountResult) -> None:
    e = result.election
    t = Table(title=f"{e.name} — results by envelope", show_footer=True)
    cols = ["envelope", "budget", "spent", "left", "funded", "ballots", "online", "paper"]
    foot = {c: "" for c in cols}
    counted = result.dedup.counted
    n_paper = sum(1 for b in counted if b.channel is Channel.PAPER)
    foot.update({
        "envelope": "TOTAL",
        "budget": f"{sum(x.budget for x in e.envelopes):,}",
        "spent": f"{sum(a.cost for a in result.allocation.envelopes.values()):,}",
        "left": f"{sum(x.budget for x in e.envelopes) - sum(a.cost for a in result.allocation.envelopes.values()):,}",
        "funded": str(sum(len(a.selected) for a in result.allocation.envelopes.values())),
        "ballots": f"{len(counted):,}",
        "online": f"{len(counted) - n_paper:,}",
        "paper": f"{n_paper:,}",
    })
    for c in cols:
        t.add_column(c, footer=foot[c], justify="left" if c == "envelope" else "right")
    for env in e.envelopes:
        a = result.allocation.envelopes[env.id]
        et = result.tally.envelopes[env.id]
        t.add_row(env.id, f"{env.budget:,}", f"{a.cost:,}", f"{env.budget - a.cost:,}",
                  str(len(a.selected)), f"{et.ballots:,}", f"{et.ballots_online:,}", f"{et.ballots_paper:,}")
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

"""``pbcount election``: validate a definition, show the frozen one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engine.formats.election_canonical import definition_hash
from engine.formats.election_definition import load_election
from engine.model.election import Election, QuotaSpec
from engine.storage.store import Store
from pbcount.console import DbOption, console, errors_as_messages

election_app = typer.Typer(help="Election definitions.", no_args_is_help=True)


def _share_text(q: QuotaSpec) -> str:
    parts = []
    if q.min_share is not None:
        parts.append(f"at least {q.min_share} of the budget")
    if q.min_amount is not None:
        parts.append(f"at least {q.min_amount:,}")
    if q.max_share is not None:
        parts.append(f"at most {q.max_share} of the budget")
    if q.max_amount is not None:
        parts.append(f"at most {q.max_amount:,}")
    return ", ".join(parts)


def summary_lines(e: Election) -> list[str]:
    """What a person checks by eye before freezing a definition (everything but the envelope
    table): precedence, voting policy and period, category limits, exclusive groups, quotas,
    and warnings."""
    v = e.voting
    lines = [f"precedence: {e.precedence}" + (" (paper ballots are refused: they have no cast time)"
                                               if e.precedence == "latest" else ""),
             "envelopes per ballot: " + ", ".join(f"{k} ≤ {n}" for k, n in sorted(v.max_envelopes_per_kind.items()))
             + (f"; required: {', '.join(v.required_kinds)}" if v.required_kinds else "")]
    opens, closes = getattr(v, "opens", None), getattr(v, "closes", None)
    lines.append(f"voting period: {opens} to {closes}" if opens is not None else
                 "voting period: not declared ([voting] opens/closes): online cast times are only bounded by the "
                 "API server's clock")
    for env in e.envelopes:
        cats = {p.category for p in e.projects_in(env.id) if p.category is not None}
        extra = [f"code {env.code}, tie-break {env.tie_break}"]
        if env.category_limits:
            extra.append("category limits " + ", ".join(f"{c} ≤ {n}" for c, n in env.category_limits.items()))
        if env.max_selection_cost is not None:
            extra.append(f"selection costs at most {env.max_selection_cost:,}")
        extra.extend(f"exclusive group {g.name!r}: {', '.join(g.projects)} (at most one funded)"
                     for g in env.exclusive)
        lines.append(f"{env.id}: " + "; ".join(extra))
        for c in env.category_limits:
            if c not in cats:
                lines.append(f"warning: {env.id}: category limit on {c!r}, which no project of {env.id} has")
    for q in e.quotas:
        value = str(q.group_value).lower() if isinstance(q.group_value, bool) else repr(q.group_value)
        group = f"{q.group_key} = {value}"
        envs = ", ".join(q.envelopes) if q.envelopes else "every envelope"
        matching = sum(1 for p in e.projects if q.matches(p) and q.applies_to(p.envelope))
        lines.append(f"quota {q.name!r}: {group}: {_share_text(q)} ({q.scope}: {envs}); {matching} projects match")
        if matching == 0:
            lines.append(f"warning: quota {q.name!r} matches no project")
    return lines


@election_app.command("check")
def election_check(path: Annotated[Path, typer.Argument(help="election.toml or .json")]) -> None:
    """Validate a definition file and print its summary (envelopes, voting policy and period,
    category limits, quotas) and hash, so a person can spot a mistake before it is frozen."""
    with errors_as_messages():
        e = load_election(path)
    t = Table(title=f"{e.name} ({e.id}), {e.currency}")
    rows = [[env.id, env.kind, env.district or "—", f"{env.budget:,}", str(len(e.projects_in(env.id))),
             f"{env.min_selections}–{env.max_selections}", env.rule] for env in e.envelopes]
    for i, col in enumerate(("envelope", "kind", "district", "budget", "projects", "sel.", "rule")):
        if col in ("budget", "projects", "sel."):  # figures whole on an 80-column terminal
            t.add_column(col, justify="right", no_wrap=True, min_width=max([len(col), *(len(r[i]) for r in rows)]))
        else:
            t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(*r)
    console.print(t)
    for line in summary_lines(e):
        console.print(line, highlight=False, markup=False)  # wrapped at spaces on a narrow terminal
    console.print(f"definition hash: {definition_hash(e)}")


@election_app.command("show")
def election_show(db: DbOption = None) -> None:
    """Show the election frozen in the store."""
    with errors_as_messages():
        store = Store.open(db)
        row = store.election_row()
        e = store.election()
    assert row is not None
    console.print(f"{e.name} ({e.id}) — {len(e.envelopes)} envelopes, {len(e.projects)} projects")
    console.print(f"definition hash {row.definition_hash}, frozen at {row.frozen_at}")
    if row.closed_at:
        console.print(f"closed at {row.closed_at}")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/election.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.add_typer(election_app, name="election")

"""``pbcount election``: validate a definition, show the frozen one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engine.model.election import definition_hash, load_election
from engine.storage.store import Store
from pbcount.console import DbOption, console, errors_as_messages

election_app = typer.Typer(help="Election definitions.", no_args_is_help=True)


@election_app.command("check")
def election_check(path: Annotated[Path, typer.Argument(help="election.toml or .json")]) -> None:
    """Validate a definition file and print its summary and hash."""
    with errors_as_messages():
        e = load_election(path)
    t = Table(title=f"{e.name} ({e.id})")
    for col in ("envelope", "kind", "budget", "projects", "max sel.", "rule"):
        t.add_column(col)
    for env in e.envelopes:
        t.add_row(env.id, env.kind, f"{env.budget:,}", str(len(e.projects_in(env.id))),
                  str(env.max_selections), env.rule)
    console.print(t)
    if e.voting.opens is not None:
        console.print(f"voting period: {e.voting.opens} to {e.voting.closes}", highlight=False)
    else:
        console.print("[yellow]warning[/]: no voting period ([voting] opens/closes): online cast times are "
                      "only bounded by the API server's clock", highlight=False)
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
    console.print(f"definition hash {row['definition_hash']}, frozen at {row['frozen_at']}")
    if row["closed_at"]:
        console.print(f"closed at {row['closed_at']}")


def register(app: typer.Typer) -> None:
    app.add_typer(election_app, name="election")

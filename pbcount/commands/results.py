"""``pbcount results``: count the store and write the CSVs for journalists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.counting.count import CountResult
from engine.formats.results_csv import envelopes_csv, projects_csv
from engine.services.count import count_store
from engine.storage.review_store import PENDING, ReviewStore
from pbcount.commands.publish import pending_text
from pbcount.console import DbOption, console, errors_as_messages, open_existing_store
from pbcount.summary import print_count_summary


def write_results(result_out: Path, result: CountResult) -> list[Path]:
    """Write projects.csv and envelopes.csv into ``result_out``; returns the paths."""
    result_out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("projects.csv", projects_csv(result)), ("envelopes.csv", envelopes_csv(result))):
        p = result_out / name
        p.write_text(text, encoding="utf-8")
        written.append(p)
    return written


def results(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for projects.csv and envelopes.csv")
    ] = Path("results"),
    db: DbOption = None,
    actor: Annotated[str, typer.Option("--actor", help="Who counts (audit log)")] = "pbcount results",
) -> None:
    """Dedup, tally and allocate every envelope, then write projects.csv and envelopes.csv."""
    with errors_as_messages():
        store = open_existing_store(db)
        result = count_store(store, actor=actor)
        written = write_results(out, result)
        pending = ReviewStore(store).counts().get(PENDING, 0)
    print_count_summary(console, result)
    if pending:
        console.print(f"[bold yellow]warning[/]: {pending_text(pending)}: not counted yet "
                      "(pbcount review list)", highlight=False)
    for p in written:
        console.print(f"wrote {p}")


def register(app: typer.Typer) -> None:
    app.command("results")(results)

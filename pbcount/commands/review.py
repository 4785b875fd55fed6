"""``pbcount review list|show|resolve|reject``: the adjudication queue of paper pages."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from engine.model.tokens import TokenVerifier
from engine.storage.keyfiles import load_public_key
from engine.storage.review_store import ReviewStore
from engine.storage.store import Store
from pbcount.console import DbOption, KeysOption, console, default_keys_dir, errors_as_messages

review_app = typer.Typer(help="Adjudicate paper pages the scanner would not decide alone.", no_args_is_help=True)


@review_app.command("list")
def review_list(
    db: DbOption = None,
    status: Annotated[str, typer.Option("--status", help="pending | accepted | rejected | all")] = "pending",
    fmt: Annotated[str, typer.Option("--format", help="table | jsonl")] = "table",
) -> None:
    """List review items (the voter token is never shown)."""
    with errors_as_messages():
        items = ReviewStore(Store.open(db)).list(None if status == "all" else status)
    if fmt == "jsonl":
        for it in items:
            sys.stdout.write(json.dumps(it.public_dict(), ensure_ascii=False) + "\n")
        return
    for it in items:
        marks = ", ".join(f"{p} {s:.2f}" for p, s in sorted(it.scores.items(), key=lambda x: -x[1])[:5] if s >= 0.02)
        console.print(
            f"[bold]#{it.id}[/] "
            + escape(
                f"{it.source_name}:{it.source_line} {it.envelope_id or '?'} [{it.status}] "
                f"reasons: {', '.join(it.reasons)}; proposed: {', '.join(it.proposed_selections) or '-'}"
                + (f"; marks: {marks}" if marks else "")
                + (f"; decided by {it.decided_by}: {', '.join(it.final_selections or []) or 'rejected'}"
                   if it.decided_by else "")
            ),
            highlight=False,
        )
        for line in it.details:
            console.print(f"    {line}", highlight=False, markup=False)
    console.print(f"{len(items)} item(s)")


ItemArgument = Annotated[int, typer.Argument(help="Review item id (from `review list`)")]
ByOption = Annotated[str, typer.Option("--by", help="Your name (recorded)")]


SELECTIONS_HELP = ("Project ids read on the paper, comma-separated; on a grade or for/against grid "
                   "project=opinion items (P012=J'adore, P013=against)")


@review_app.command("resolve")
def review_resolve(
    item_id: ItemArgument,
    selections: Annotated[str, typer.Option("--selections", help=SELECTIONS_HELP)],
    by: ByOption,
    note: Annotated[str | None, typer.Option("--note", help="Why (recorded)")] = None,
    token: Annotated[str | None, typer.Option("--token", help="Voter token, if the scanner could not read it")] = None,
    ballot_serial: Annotated[str | None, typer.Option("--ballot-serial", help="Serial printed on the ballot")] = None,
    db: DbOption = None,
    keys: KeysOption = default_keys_dir(),
) -> None:
    """Count the page with the selections you read; it enters the count like any ballot."""
    chosen = [s.strip() for s in selections.split(",") if s.strip()]
    with errors_as_messages():
        store = Store.open(db)
        verifier = TokenVerifier(load_public_key(keys), store.election().id)
        from ballot_scan.adjudicate import resolve  # imports OpenCV: only when used

        item, ballot = resolve(store, verifier, item_id, chosen, by, note, token=token, ballot_serial=ballot_serial)
    console.print(f"item #{item.id} accepted by {item.decided_by}: {', '.join(chosen)} (receipt {ballot.receipt_id})")


@review_app.command("reject")
def review_reject(
    item_id: ItemArgument,
    by: ByOption,
    note: Annotated[str, typer.Option("--note", help="Why (recorded)")],
    db: DbOption = None,
) -> None:
    """Do not count the page; the decision and its reason are recorded."""
    with errors_as_messages():
        from ballot_scan.adjudicate import reject  # imports OpenCV: only when used

        item = reject(Store.open(db), item_id, by, note)
    console.print(f"item #{item.id} rejected by {item.decided_by}")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/review.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.add_typer(review_app, name="review")

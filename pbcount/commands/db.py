"""``pbcount db``: schema migrations of the store (``upgrade``, ``status``)."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from engine.storage.engine_config import create_store_engine, db_url_from_env, safe_url
from engine.storage.migrations import current_revision, head_revision, upgrade_to_head
from pbcount.console import DbOption, console, errors_as_messages, fail

db_app = typer.Typer(help="Store schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Migrate the store to the newest schema (creates it when empty). Safe to rerun."""
    url = db_url_from_env(db)
    with errors_as_messages():
        try:
            engine = create_store_engine(url)  # as Store.open: a new SQLite file is 0600
            before, after = upgrade_to_head(engine)
            engine.dispose()
        except SQLAlchemyError as exc:
            fail(f"{safe_url(url)}: cannot migrate: {getattr(exc, 'orig', None) or exc}")
    if before == after:
        console.print(f"{safe_url(url)}: schema already at {after}")
    else:
        console.print(f"{safe_url(url)}: schema upgraded {before or '(empty)'} -> {after}")


@db_app.command("status")
def db_status(db: DbOption = None) -> None:
    """Show the store's schema revision and the newest one this pbcount knows."""
    url = db_url_from_env(db)
    with errors_as_messages():  # a URL that is not one: StoreError, said plainly
        try:
            engine = create_store_engine(url)
            with engine.connect() as conn:
                current = current_revision(conn)
            engine.dispose()
        except SQLAlchemyError as exc:
            fail(f"{safe_url(url)}: cannot connect: {exc.__class__.__name__}")
    head = head_revision()
    state = "current" if current == head else "needs `pbcount db upgrade`"
    console.print(f"{safe_url(url)}: revision {current or '(none)'}, newest {head} — {state}")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/db.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.add_typer(db_app, name="db")

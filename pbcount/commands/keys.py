"""``pbcount keys``: create the authority's key directory."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.storage.keyfiles import init_keys
from pbcount.console import KeysOption, console, default_keys_dir, errors_as_messages

keys_app = typer.Typer(help="Authority keys (token signing, results signing, receipt secret).", no_args_is_help=True)


@keys_app.command("init")
def keys_init(
    keys: KeysOption = default_keys_dir(),
    force: Annotated[bool, typer.Option("--force", help="Replace existing keys")] = False,
) -> None:
    """Create authority.key/.pub, results.key/.pub and receipt.key (private files mode 0600)."""
    with errors_as_messages():
        written = init_keys(keys, force=force)
    for p in written:
        console.print(f"wrote {p}")
    console.print("Keep the .key files secret; give authority.pub to every station.")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/keys.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.add_typer(keys_app, name="keys")

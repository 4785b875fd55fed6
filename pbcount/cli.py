"""Root of the ``pbcount`` command. Each command group lives in ``pbcount/commands/``."""

from __future__ import annotations

import typer

from pbcount.commands import allocate as allocate_commands
from pbcount.commands import ballots as ballots_commands
from pbcount.commands import db as db_commands
from pbcount.commands import demo, election, fixtures, ingest, keys, results, tokens
from pbcount.commands import pabulib as pabulib_commands
from pbcount.commands import publish as publish_commands
from pbcount.commands import review as review_commands
from pbcount.commands import scan as scan_commands
from pbcount.commands import serve as serve_commands
from pbcount.commands import sortition as sortition_commands

app = typer.Typer(
    name="pbcount",
    help="Count participatory-budgeting votes (online and paper) and publish verifiable results.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

keys.register(app)
tokens.register(app)
election.register(app)
ingest.register(app)
results.register(app)
fixtures.register(app)
demo.register(app)
db_commands.register(app)
serve_commands.register(app)
publish_commands.register(app)
allocate_commands.register(app)
pabulib_commands.register(app)
ballots_commands.register(app)
scan_commands.register(app)
review_commands.register(app)
sortition_commands.register(app)


def main() -> None:
    app()

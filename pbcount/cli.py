"""Root of the ``pbcount`` command. Each command group lives in ``pbcount/commands/``.

Commands are registered lazily: the root knows each command's name, the module that
defines it and its one-line help (:data:`COMMANDS`), and imports that module only when the
command runs (or its own ``--help`` is asked for). ``pbcount --help``, ``-h`` and
``--version`` therefore import typer and nothing heavy (no OpenCV, SQLAlchemy, FastAPI,
HiGHS or numpy); ``tests/unit/test_cli_startup.py`` checks it and that the one-line helps
here match the commands' own.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
from typer.core import TyperGroup

# name -> (module in pbcount/commands, one-line help shown by `pbcount --help`), in help order:
# the order of an election (try it, keys, definition, tokens, ballots, votes, count, publish, verify),
# then serving, other tools and maintenance
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "Run the whole count on a Paris-scale synthetic election and print the results."),
    "keys": ("keys", "Authority keys (token signing, results signing, receipt secret)."),
    "election": ("election", "Election definitions."),
    "tokens": ("tokens", "Voter tokens signed by the authority key."),
    "ballots": ("ballots", "Printable paper ballots."),
    "testdeck": ("ballots", "Render ballots, mark them like people do, simulate scanning; write expected.json."),
    "ingest": ("ingest", "Ingest votes into the store."),
    "scan": ("scan", "Read ballots: accepted pages are counted, uncertain ones go to `pbcount review`."),
    "review": ("review", "Adjudicate paper pages the scanner would not decide alone."),
    "rejections": ("ingest", "The rejection log."),
    "results": ("results", "Dedup, tally and allocate every envelope, then write the results CSVs."),
    "publish": ("publish", "Count the store and write the signed results bundle (a new publication if anything "
                "changed)."),
    "verify": ("publish", "Check a bundle from its files alone; prints VERIFIED or names the first failing check."),
    "receipt": ("publish", "Voter receipts: find a ballot in a bundle and prove it is in the tree."),
    "serve": ("serve", "Serve the HTTP API (/v1/…, OpenAPI at /openapi.json) and the public results page (/)."),
    "apikey": ("serve", "API keys for the HTTP API (operator, admin)."),
    "allocate": ("allocate", "Allocate the budget of a pabulib file with a rule and print the selected projects."),
    "sortition": ("sortition", "Verifiable sortition: draw a panel by lot with quotas, verify a draw."),
    "import": ("pabulib", "Import elections from other formats (pabulib, Decidim)."),
    "export": ("pabulib", "Export counted elections to other formats (pabulib, Decidim, Consul)."),
    "fixtures": ("fixtures", "Synthetic elections for demos, tests and benchmarks."),
    "db": ("db", "Store schema migrations."),
}

_loaded_modules: dict[str, dict[str, Any]] = {}


def load_module_commands(module: str) -> dict[str, Any]:
    """Import ``pbcount.commands.<module>`` and return the click commands its ``register`` adds."""
    if module not in _loaded_modules:
        mod = importlib.import_module(f"pbcount.commands.{module}")
        sub = typer.Typer(rich_markup_mode=None)  # plain click help: no <bool>/<list[Path]> type column
        mod.register(sub)
        commands = dict(typer.main.get_group(sub).commands)
        for cmd in commands.values():
            plain_metavars(cmd)
        _loaded_modules[module] = commands
    return _loaded_modules[module]


def plain_metavars(cmd: Any) -> None:
    """Name each value in ``--help`` by what it is (``--out DIR``-style: ``OUT``, ``FILES...``),
    not by its Python type (``<path>``, ``<list[Path]>``); flags show no value at all."""
    for param in getattr(cmd, "params", []):
        if param.metavar is None and not getattr(param, "is_flag", False) and param.name:
            param.metavar = param.name.upper()
        if param.param_type_name == "argument":
            param.display_type_rich = lambda ctx: None  # the metavar above says it all
    for sub in getattr(cmd, "commands", {}).values():
        plain_metavars(sub)


class _LazyCommands(MutableMapping[str, Any]):
    """The root's command table: names known up front, each command built on first access."""

    def __init__(self, eager: MutableMapping[str, Any]) -> None:
        self._eager = dict(eager)

    def loaded(self, name: str) -> bool:
        return name in self._eager

    def __getitem__(self, name: str) -> Any:
        if name not in self._eager:
            if name not in COMMANDS:
                raise KeyError(name)
            self._eager[name] = load_module_commands(COMMANDS[name][0])[name]
        return self._eager[name]

    def __setitem__(self, name: str, cmd: Any) -> None:
        self._eager[name] = cmd

    def __delitem__(self, name: str) -> None:
        del self._eager[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (n for n in self._eager if n not in COMMANDS)

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._eager))


class LazyGroup(TyperGroup):
    """A typer group whose subcommands are imported only when used (see the module docstring)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self.commands)

    # Any: the base class types these with typer's private vendored click (typer._click)
    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list from :data:`COMMANDS` (wrapped, not cut), importing no command module."""
        rows = []
        for name in self.commands:
            if name in COMMANDS and not self.commands.loaded(name):  # type: ignore[attr-defined]  # self.commands is the _LazyCommands set in __init__
                rows.append((name, COMMANDS[name][1]))
            else:
                cmd = self.commands[name]
                if not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(200)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("pbcount")
        except PackageNotFoundError:  # running from a source tree that is not installed
            v = "unknown"
        typer.echo(f"pbcount {v}")
        raise typer.Exit()


app = typer.Typer(
    name="pbcount",
    cls=LazyGroup,
    help="Count participatory-budgeting votes (online and paper) and publish verifiable results.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    epilog=(
        "\b\nExamples:\n"
        "  pbcount demo                                  # a whole count on a synthetic election\n"
        "  pbcount keys init --keys keys                 # authority keys, once per election\n"
        "  pbcount ingest evotes -e election.toml votes.jsonl\n"
        "  pbcount scan pages/ -e election.toml          # paper ballots; doubtful ones to review\n"
        "  pbcount results --out results                 # count and write the CSVs\n"
        "  pbcount publish --out bundle && pbcount verify bundle --key keys/results.pub\n"
        "Run `pbcount COMMAND -h` for a command's options."
    ),
    rich_markup_mode=None,  # plain help for the root: rich's renderer alone costs ~70 ms to import
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the pbcount version and exit."),
) -> None:
    """Count participatory-budgeting votes (online and paper) and publish verifiable results."""


def main() -> None:
    """Entry point of the ``pbcount`` console script."""
    app()

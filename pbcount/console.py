"""Shared CLI plumbing: the console, common options, error reporting, progress bars."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from engine.errors import PbcountError

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL of the store (default: $PBCOUNT_DB or sqlite:///pbcount.db)"),
]
KeysOption = Annotated[
    Path,
    typer.Option("--keys", help="Key directory (default: $PBCOUNT_KEYS or ./keys)", envvar="PBCOUNT_KEYS"),
]
ElectionOption = Annotated[Path, typer.Option("--election", "-e", help="Election definition (.toml or .json)")]


def default_keys_dir() -> Path:
    """The key directory: ``$PBCOUNT_KEYS``, else ``keys``."""
    return Path(os.environ.get("PBCOUNT_KEYS", "keys"))


def open_existing_store(db: str | None) -> Any:
    """Open the store for a command that only reads or counts (``results``, ``publish``):
    a SQLite store that does not exist yet is an error, not a new empty ``pbcount.db``
    (and lock file) left in the working directory."""
    from sqlalchemy.engine import make_url

    from engine.storage.store import Store, db_url_from_env

    url = db_url_from_env(db)
    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - Store.open reports a bad URL clearly
        return Store.open(db)
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:") \
            and not Path(u.database).exists():
        fail(f"no store at {u.database} (ingest votes first, or pass --db / set PBCOUNT_DB)")
    return Store.open(db)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: <message>`` on stderr and exit with ``code`` (2: usage or input error)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Turn engine errors into one clear line on stderr and exit status 2 (no traceback)."""
    try:
        yield
    except PbcountError as exc:
        fail(str(exc))
    except FileNotFoundError as exc:
        fail(f"{exc.filename}: file not found")


@contextmanager
def progress_bar(description: str, total: int | None, unit: str = "lines") -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal; when stderr is not a terminal (a redirected log),
    no bar (it would be garbled) but one plain line at the end (``description: N lines in
    X s``); nothing at all with PBCOUNT_PROGRESS=0."""
    quiet = os.environ.get("PBCOUNT_PROGRESS") == "0"
    if quiet or not err_console.is_terminal:
        done = [0]
        start = time.monotonic()

        def count(n: int) -> None:
            done[0] += n

        yield count
        if not quiet:
            err_console.print(f"{description}: {done[0]:,} {unit} in {time.monotonic() - start:.1f} s",
                              highlight=False, soft_wrap=True)
        return
    disable = False
    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err_console, disable=disable, transient=False) as prog:
        task = prog.add_task(description, total=total, rate="")

        def advance(n: int) -> None:
            prog.advance(task, n)
            t = prog.tasks[task]
            if t.elapsed:
                prog.update(task, rate=f"{t.completed / t.elapsed:,.0f}/s")

        yield advance


def count_lines(path: Path) -> int:
    """Number of lines (newline bytes) of ``path``, read in 1 MiB blocks: the total of a progress bar."""
    n = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
    return n

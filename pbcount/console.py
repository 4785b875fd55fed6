"""Shared CLI plumbing: the console, common options, error reporting, progress bars."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

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
    return Path(os.environ.get("PBCOUNT_KEYS", "keys"))


def fail(message: str, code: int = 2) -> NoReturn:
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
    """A rich progress bar (silent when stdout is not a terminal and PBCOUNT_PROGRESS=0)."""
    disable = os.environ.get("PBCOUNT_PROGRESS") == "0"
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
    n = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
    return n

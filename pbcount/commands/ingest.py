"""``pbcount ingest evotes`` and ``pbcount rejections``."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from engine.formats.election_definition import load_election
from engine.model.ballots import Ballot, Rejection
from engine.services.ingest import IngestReport, ingest_evote_file
from engine.services.workers import default_workers
from engine.storage.keyfiles import load_public_key, load_receipt_secret
from engine.storage.store import Store
from pbcount.console import (
    DbOption,
    ElectionOption,
    KeysOption,
    console,
    count_lines,
    default_keys_dir,
    errors_as_messages,
    progress_bar,
)


class ReceiptsFile:
    """``file,line,receipt_id`` of each accepted (or already known) line, created 0600."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also when the file existed with wider rights
        self._f = os.fdopen(fd, "w", newline="", encoding="utf-8")
        self._w = csv.writer(self._f, lineterminator="\n")
        self._w.writerow(["file", "line", "receipt_id"])
        self.n = 0

    def write_items(self, items: list[Ballot | Rejection]) -> None:
        """Write a row for each ballot of ``items`` (rejections have no receipt), then flush."""
        for it in items:
            if isinstance(it, Ballot):
                self._w.writerow([it.source.name, it.source.line, it.receipt_id])
                self.n += 1
        self._f.flush()

    def close(self) -> None:
        """Close the file."""
        self._f.close()


def open_receipts(path: Path) -> ReceiptsFile:
    """A :class:`ReceiptsFile` at ``path`` (created or truncated, mode 0600)."""
    return ReceiptsFile(path)


ingest_app = typer.Typer(help="Ingest votes into the store.", no_args_is_help=True)


def print_report(report: IngestReport, show: int = 5) -> None:
    """Print an ingest report: the summary, rejections by reason, the first ``show``
    rejections, and the hints.
    """
    console.print(report.summary())
    if report.rejected_by_reason:
        console.print("  rejected by reason: " + ", ".join(
            f"{k} {v}" for k, v in sorted(report.rejected_by_reason.items())))
    for r in report.rejections[:show]:
        console.print(f"  [yellow]rejected[/] {r}", highlight=False)
    if len(report.rejections) > show:
        console.print(f"  … {len(report.rejections) - show} more (pbcount rejections list)")
    for hint in report.hints:
        console.print(f"  [yellow]hint[/]: {hint}", highlight=False)


@ingest_app.command("evotes")
def ingest_evotes(
    files: Annotated[list[Path], typer.Argument(help="JSON Lines e-vote files", exists=True, dir_okay=False)],
    election: ElectionOption,
    db: DbOption = None,
    keys: KeysOption = default_keys_dir(),
    workers: Annotated[int, typer.Option("--workers", "-j", help="Verification processes")] = default_workers(),
    receipts: Annotated[
        Path | None,
        typer.Option("--receipts", help="Write file,line,receipt_id of each accepted line to this CSV (mode 0600)"),
    ] = None,
) -> None:
    """Verify, validate and store e-votes; bad lines go to the rejection log, the batch goes on.

    Example: pbcount ingest evotes votes.jsonl -e election.toml --receipts receipts.csv
    """
    with errors_as_messages():
        e = load_election(election)
        pub = load_public_key(keys)
        secret = load_receipt_secret(keys)
        store = Store.open(db)
        out = open_receipts(receipts) if receipts is not None else None
        try:
            for path in files:
                with progress_bar(f"ingesting {path.name}", count_lines(path)) as advance:
                    report = ingest_evote_file(store, path, e, pub, secret, workers=workers, progress=advance,
                                               on_committed=out.write_items if out else None)
                print_report(report)
                if out is not None and report.resumed_from_line:
                    console.print(f"  [yellow]note[/]: resumed after line {report.resumed_from_line}: the receipts "
                                  "of earlier lines were written by the earlier run", highlight=False)
        finally:
            if out is not None:
                out.close()
                console.print(f"wrote {out.n} receipts to {receipts}")


rejections_app = typer.Typer(help="The rejection log.", no_args_is_help=True)


@rejections_app.command("list")
def rejections_list(
    db: DbOption = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Only this reason")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | jsonl")] = "table",
) -> None:
    """List rejected lines/pages with source, line and reason."""
    with errors_as_messages():
        store = Store.open(db)
        rows = [r for r in store.iter_rejections() if reason is None or r.reason == reason]
    cols = ["source_name", "source_line", "channel", "reason", "detail"]
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([getattr(r, c) for c in cols])
    elif fmt == "jsonl":
        for r in rows:
            sys.stdout.write(json.dumps({c: getattr(r, c) for c in cols}, ensure_ascii=False) + "\n")
    else:
        for r in rows:
            console.print(f"{r.source_name}:{r.source_line}: {r.reason}: {r.detail}", highlight=False)
        console.print(f"{len(rows)} rejections")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/ingest.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(rejections_app, name="rejections")

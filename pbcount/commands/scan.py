"""``pbcount scan``: read scanned paper ballots into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ballot_scan.marks import Thresholds
from ballot_scan.pipeline import default_workers, read_register, scan_paths
from ballot_scan.read import list_tasks
from engine.election import load_election
from engine.keyfiles import load_public_key
from engine.storage.store import Store
from pbcount.console import (
    DbOption,
    ElectionOption,
    KeysOption,
    console,
    default_keys_dir,
    errors_as_messages,
    fail,
    progress_bar,
)


def scan(
    paths: Annotated[list[Path], typer.Argument(help="Image files (PNG, JPEG, TIFF) and/or folders")],
    election: ElectionOption,
    db: DbOption = None,
    keys: KeysOption = default_keys_dir(),
    report: Annotated[Path | None, typer.Option("--report", help="Write a per-page JSON report")] = None,
    tokens: Annotated[
        Path | None,
        typer.Option("--tokens", help="Token register CSV: accept OCR'd short codes found in it (QR damaged)"),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", help="Reading processes")] = default_workers(),
    definite: Annotated[float, typer.Option("--definite", help="Mark score counted as a vote")] = 0.15,
    marginal: Annotated[float, typer.Option("--marginal", help="Mark score sent to review")] = 0.04,
    actor: Annotated[str, typer.Option("--by", help="Operator name for the audit log")] = "cli",
) -> None:
    """Read ballots: accepted pages are counted, uncertain ones go to `pbcount review`."""
    with errors_as_messages():
        e = load_election(election)
        pub = load_public_key(keys)
        try:
            thresholds = Thresholds(definite=definite, marginal=marginal)
        except ValueError as exc:
            fail(f"--definite/--marginal: {exc}")
        register = read_register(tokens) if tokens else None
        store = Store.open(db)
        n = len(list_tasks(paths))
        if n == 0:
            fail("no PNG, JPEG or TIFF image found in " + ", ".join(str(p) for p in paths))
        with progress_bar("scanning", n, unit="ballots") as adv:
            s = scan_paths(store, e, pub, paths, register=register, thresholds=thresholds, workers=workers,
                           report_path=report, progress=adv, actor=actor)
    console.print(s.line())
    console.print(f"{s.pages / max(s.seconds, 1e-9):.1f} ballots/s on {workers} process(es)")
    if s.reasons:
        console.print("reasons: " + ", ".join(f"{k} {v}" for k, v in sorted(s.reasons.items())))
    if s.needs_review:
        console.print("decide the pages in review with `pbcount review list` / `pbcount review resolve`")
    if report:
        console.print(f"wrote {report}")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)

"""``pbcount scan``: read scanned paper ballots into the store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from ballot_scan.pipeline import read_register, scan_paths
from ballot_scan.read import list_tasks
from ballot_scan.settings import load_settings, parse_assignments
from engine.formats.election_definition import load_election
from engine.services.workers import default_workers
from engine.storage.keyfiles import load_public_key
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
    paths: Annotated[list[Path], typer.Argument(help="Scan files (PNG, JPEG, TIFF, PDF) and/or folders")],
    election: ElectionOption,
    db: DbOption = None,
    keys: KeysOption = default_keys_dir(),
    report: Annotated[Path | None, typer.Option("--report", help="Write a per-page JSON report")] = None,
    tokens: Annotated[
        Path | None,
        typer.Option("--tokens", help="Token register CSV: accept OCR'd short codes found in it (QR damaged); "
                     "default: paper_tokens.csv next to the election file, if any"),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", help="Reading processes")] = default_workers(),
    settings_file: Annotated[
        Path | None, typer.Option("--settings", help="TOML file of scan settings "
                                  "(a scan table, see docs/paper-ballots.md)")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override one scan setting, e.g. --set mark_min_span_mm=2.8 (repeatable; "
        "see docs/paper-ballots.md)")] = None,
    actor: Annotated[str, typer.Option("--by", help="Operator name for the audit log")] = "cli",
) -> None:
    """Read ballots: accepted pages are counted, uncertain ones go to `pbcount review`."""
    with errors_as_messages():
        e = load_election(election)
        if not keys.exists() and (election.parent / "keys").is_dir():
            keys = election.parent / "keys"  # the layout `pbcount fixtures` writes
            console.print(f"using keys in {keys}/")
        if tokens is None and (election.parent / "paper_tokens.csv").exists():
            tokens = election.parent / "paper_tokens.csv"
            console.print(f"using token register {tokens} for damaged QR codes")
        pub = load_public_key(keys)
        try:
            settings = load_settings(settings_file, parse_assignments(set_ or []))
        except (ValueError, OSError) as exc:
            fail(f"scan settings: {exc}")
        register = read_register(tokens) if tokens else None
        store = Store.open(db)
        n = len(list_tasks(paths, settings))
        if n == 0:
            fail("no PNG, JPEG, TIFF or PDF scan found in " + ", ".join(str(p) for p in paths))
        with progress_bar("scanning", n, unit="ballots") as adv:
            s = scan_paths(store, e, pub, paths, register=register, settings=settings, workers=workers,
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
    """Add the commands of ``pbcount/commands/scan.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.command("scan")(scan)


DEMO_PAPER_BALLOTS = 1000
DEMO_PAPER_DPI = 150


def demo_paper_stage(ctx: Any) -> None:
    """``pbcount demo`` stage: render, mark and scan a test deck of paper ballots.

    Uses tokens of the fixture's ``paper_tokens.csv`` (about 20 % of those voters also
    voted online, so the count shows paper ballots superseding online votes). The number
    of ballots is ``PBCOUNT_DEMO_PAPER`` (default 1,000); the deck is simulated at 150 dpi.
    """
    import random
    import time

    from ballot_scan.render import read_token_register
    from ballot_scan.testdeck import DeckOptions, make_testdeck
    from engine.storage.review_store import ReviewStore

    n = int(os.environ.get("PBCOUNT_DEMO_PAPER", DEMO_PAPER_BALLOTS))
    if n <= 0:
        return
    e = load_election(ctx.fixture / "election.toml")
    tokens = read_token_register(ctx.fixture / "paper_tokens.csv")
    tokens = random.Random(ctx.seed).sample(tokens, len(tokens))[:n]
    deck = ctx.workdir / "paper-deck"
    t0 = time.perf_counter()
    with progress_bar("printing, marking and scanning-simulating paper ballots", n, unit="images") as adv:
        make_testdeck(e, [x.id for x in e.envelopes], tokens, deck, count=n, seed=ctx.seed,
                      opts=DeckOptions(dpi=DEMO_PAPER_DPI, p_png=0.02), workers=default_workers(), progress=adv)
    console.print(f"test deck: {n} paper ballot images in {deck}/ ({time.perf_counter() - t0:.0f} s)")
    store: Store = ctx.state.get("store") or Store.open(ctx.db_url)
    with progress_bar("scanning paper ballots", n, unit="ballots") as adv:
        s = scan_paths(store, e, load_public_key(ctx.fixture / "keys"), [deck],
                       register=read_register(ctx.fixture / "paper_tokens.csv"), report_path=deck / "report.json",
                       progress=adv, actor="demo")
    console.print(s.line() + f" — {s.pages / max(s.seconds, 1e-9):.1f} ballots/s")
    console.print("reasons: " + ", ".join(f"{k} {v}" for k, v in sorted(s.reasons.items())))
    console.print(f"review queue: {len(ReviewStore(store).list())} page(s) for `pbcount review list`; "
                  f"report {deck / 'report.json'}")
    ctx.state["store"] = store

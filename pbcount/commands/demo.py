"""``pbcount demo``: the product's front door, end to end on the embedded SQLite store.

Stages (each calls the same engine functions as the individual commands):
generate a Paris-scale fixture -> ingest e-votes -> paper ballots (render, mark, scan a
test deck) -> count -> write CSVs -> print summary.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.formats.election_definition import load_election
from engine.services.count import count_store
from engine.services.ingest import ingest_evote_file
from engine.services.publish import publish_store
from engine.storage.keyfiles import load_private_key, load_public_key, load_receipt_secret
from engine.storage.store import Store
from engine.verifier import verify_bundle
from fixtures.paris import generate_paris
from pbcount.commands.ingest import print_report
from pbcount.commands.results import write_results
from pbcount.commands.scan import demo_paper_stage
from pbcount.console import console, count_lines, errors_as_messages, progress_bar
from pbcount.summary import print_count_summary


@dataclass
class DemoContext:
    """What the demo's stages share: the working directory, the number of voters, the seed,
    the paths derived from them and what earlier stages left (``state``: the open store...).
    """

    workdir: Path
    voters: int
    seed: int
    fixture: Path = field(init=False)
    db_url: str = field(init=False)
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fixture = self.workdir / "fixture"
        self.db_url = f"sqlite:///{(self.workdir / 'pbcount.db').resolve()}"


def stage_fixture(ctx: DemoContext) -> None:
    """Demo stage: generate the Paris-like election and its e-vote file."""
    with console.status(f"generating a Paris-like election with {ctx.voters:,} online voters…"):
        m = generate_paris(ctx.fixture, seed=ctx.seed, voters=ctx.voters)
    console.print(f"fixture: {m['projects']} projects in {m['envelopes']} envelopes, {m['lines']:,} e-vote lines")


def stage_ingest(ctx: DemoContext) -> None:
    """Demo stage: ingest the e-votes into the demo store, with a progress bar."""
    e = load_election(ctx.fixture / "election.toml")
    keys = ctx.fixture / "keys"
    store = Store.open(ctx.db_url)
    path = ctx.fixture / "evotes.jsonl"
    with progress_bar("ingesting e-votes", count_lines(path)) as adv:
        t0 = time.perf_counter()
        report = ingest_evote_file(store, path, e, load_public_key(keys), load_receipt_secret(keys), progress=adv)
        dt = time.perf_counter() - t0
    print_report(report, show=3)
    console.print(f"ingestion: {report.lines / dt:,.0f} lines/s")
    ctx.state["store"] = store


def stage_count(ctx: DemoContext) -> None:
    """Demo stage: count the store, write the results and print the summary."""
    store: Store = ctx.state["store"]
    result = count_store(store)
    out = ctx.workdir / "results"
    written = write_results(out, result)
    print_count_summary(console, result)
    for p in written:
        console.print(f"wrote {p}")
    ctx.state["result"] = result


def stage_publish(ctx: DemoContext) -> None:
    """Publish the signed bundle (engine.formats.bundle), then verify it with the standalone verifier."""
    keys = ctx.fixture / "keys"
    out = ctx.workdir / "bundle"
    t0 = time.perf_counter()
    with console.status("publishing the signed results bundle…"):
        # the demo goes on with pages still in review (pbcount publish asks for --allow-pending)
        report = publish_store(ctx.state["store"], load_private_key(keys, "results"), out, actor="demo",
                               allow_pending=True)
    console.print(f"published {out}/ ({len(report.files)} files) in {time.perf_counter() - t0:.1f} s")
    if report.pending_review:
        console.print(f"[bold yellow]warning[/]: {report.pending_review:,} paper pages pending review, not counted "
                      "(pbcount review list); the count is signed in the bundle")
    t0 = time.perf_counter()
    with console.status("verifying the bundle from its files alone…"):
        v = verify_bundle(out, key_pem=(keys / "results.pub").read_bytes())
    console.print(f"[bold green]VERIFIED[/] publication {v.publication}: {v.counted:,} ballots, "
                  f"tree head size {v.tree_size:,} root {v.root_hash} ({time.perf_counter() - t0:.1f} s)")
    console.print(f"anyone can re-check: python -m engine.verifier {out} --key {keys / 'results.pub'}")


STAGES = [stage_fixture, stage_ingest, demo_paper_stage, stage_count, stage_publish]


DEMO_MARKER = ".pbcount-demo"  # written in a folder the demo created: only such a folder is recreated
MIN_DEMO_VOTERS = 1000  # the paper stage draws 240 of its 1,200 paper voters from the online ones


def prepare_workdir(workdir: Path) -> None:
    """Create ``workdir``, or recreate it if an earlier demo made it; refuse any other folder."""
    if workdir.exists():
        made_by_demo = (workdir / DEMO_MARKER).is_file() or (  # or by a demo older than the marker
            (workdir / "fixture" / "manifest.json").is_file() and (workdir / "pbcount.db").is_file())
        if not workdir.is_dir() or (any(workdir.iterdir()) and not made_by_demo):
            console.print(f"[red]error[/]: {workdir} exists and was not created by pbcount demo; "
                          "refusing to delete it (choose another --dir)", highlight=False)
            raise typer.Exit(2)
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / DEMO_MARKER).write_text("created by pbcount demo; the next demo run recreates this folder\n")


def demo(
    workdir: Annotated[Path, typer.Option(
        "--dir", help="Working directory (created; recreated if an earlier demo made it)")] = Path("demo-out"),
    voters: Annotated[int, typer.Option("--voters", min=MIN_DEMO_VOTERS,
                                        help="Online voters (Paris: ~45,000)")] = 50_000,
    seed: Annotated[int, typer.Option("--seed")] = 2026,
) -> None:
    """Run the whole count on a Paris-scale synthetic election and print the results."""
    prepare_workdir(workdir)
    ctx = DemoContext(workdir, voters, seed)
    t0 = time.perf_counter()
    with errors_as_messages():
        for stage in STAGES:
            stage(ctx)
    console.print(f"[bold green]demo finished in {time.perf_counter() - t0:.1f} s[/] — outputs in {workdir}/")
    serve_cmd = ("make serve" if workdir == Path("demo-out") else
                 f"pbcount serve --db {ctx.db_url} --keys {ctx.fixture / 'keys'} --bundle-dir {workdir / 'bundle'}")
    console.print(f"results page: run [bold]{serve_cmd}[/], then open [bold]http://localhost:8000/[/]",
                  highlight=False)


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/demo.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.command("demo")(demo)

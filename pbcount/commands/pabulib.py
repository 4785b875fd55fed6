"""``pbcount import pabulib FILE.pb`` and ``pbcount export pabulib --out DIR``."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import PabulibError
from engine.formats.pabulib import format_pabulib, official_rule, read_pabulib
from engine.formats.pabulib_convert import ballots_from_instance, election_from_instance, instance_from_count
from engine.rules import RULES
from engine.services.count import count_store
from engine.services.ingest import ingest_items
from engine.storage.store import Store
from pbcount.console import DbOption, console, errors_as_messages, fail, progress_bar

import_app = typer.Typer(help="Import elections from other formats (pabulib, Decidim).", no_args_is_help=True)
export_app = typer.Typer(help="Export counted elections to other formats (pabulib, Decidim, Consul).",
                         no_args_is_help=True)



@import_app.command("pabulib")
def import_pabulib(
    file: Annotated[Path, typer.Argument(help="A pabulib .pb file")],
    election_id: Annotated[str | None, typer.Option("--election-id", help="Default: the file name")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Default: the file's META rule when pbcount has it, "
                                             "else greedy")] = None,
    db: DbOption = None,
) -> None:
    """Load a .pb file into the store as a one-envelope election with its ballots (approvals)."""
    try:
        inst = read_pabulib(file)
    except PabulibError as exc:
        fail(str(exc))
    if rule is None:
        try:
            rule = official_rule(inst)
        except ValueError:
            rule = "greedy"
    if rule not in RULES:
        fail(f"unknown rule {rule!r}; one of {', '.join(RULES)}")
    eid = election_id or re.sub(r"[^A-Za-z0-9_.-]+", "-", file.stem).lower()
    with errors_as_messages():
        election, unit = election_from_instance(inst, eid, rule)
        ballots = ballots_from_instance(inst, file.name)
        store = Store.open(db)
        store.freeze_election(election, actor="pbcount import pabulib")
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        with progress_bar(f"importing {file.name}", len(ballots), unit="ballots") as advance:
            report = ingest_items(store, "pabulib", file.name, digest, ballots,
                                  actor="pbcount import pabulib", progress=advance)
        added, known = report.accepted, report.already_known
    console.print(f"election {eid!r}: {len(election.projects)} projects, budget {election.envelopes[0].budget:,}"
                  + (f" (1/{unit} {election.currency})" if unit != 1 else "") + f", rule {rule}")
    console.print(f"ballots: {added:,} new, {known:,} already in the store, "
                  f"{len(inst.votes) - len(ballots):,} empty skipped")
    if inst.vote_type not in ("approval", "choose-1"):
        console.print(f"note: {inst.vote_type} ballots imported as approvals (points/ranks not kept)")
    if inst.meta.get("min_project_score_threshold"):
        console.print("note: the file's min_project_score_threshold is not part of a pbcount election "
                      "(use `pbcount allocate` on the file to apply it)")


@export_app.command("pabulib")
def export_pabulib(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for one .pb file per envelope")],
    db: DbOption = None,
) -> None:
    """Count the store and write one pabulib .pb per envelope (anonymous voter ids)."""
    with errors_as_messages():
        store = Store.open(db)
        result = count_store(store, persist=False)
    out.mkdir(parents=True, exist_ok=True)
    e = result.election
    with progress_bar("writing .pb files", len(e.envelopes), unit="envelopes") as advance:
        for env in e.envelopes:
            inst = instance_from_count(result, env.id)
            path = out / f"{e.id}_{env.id}.pb"
            path.write_text(format_pabulib(inst), encoding="utf-8")
            advance(1)
    console.print(f"wrote {len(e.envelopes)} .pb files to {out}")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/pabulib.py`` to the root ``app`` (see pbcount/cli.py),
    with the Decidim / Consul ones of ``pbcount/commands/platforms.py`` in the same groups."""
    from pbcount.commands import platforms

    import_app.command("decidim")(platforms.import_decidim)
    export_app.command("decidim-paper")(platforms.export_decidim_paper)
    export_app.command("consul-ballot-sheets")(platforms.export_consul_ballot_sheets)
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")

"""Decidim and Consul Democracy: ``pbcount import decidim``, ``pbcount export decidim-paper``
and ``pbcount export consul-ballot-sheets`` (registered on the import/export groups of
``pbcount/commands/pabulib.py``; formats in docs/platforms.md)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Annotated

import typer

from engine.counting.count import CountResult
from engine.errors import PlatformFileError
from engine.formats.consul import SheetInvestment, format_ballot_sheet, parse_ballot_sheet
from engine.formats.decidim import (
    OrderTokenVerifier,
    decidim_ballots,
    default_cast_time,
    paper_totals_csv,
    read_decidim_export,
    read_order_tokens,
    read_paper_totals,
)
from engine.formats.election_definition import load_election
from engine.formats.pabulib_convert import election_from_instance, import_receipt_id
from engine.formats.platform_ids import ProjectMap, read_project_map
from engine.model.ballots import Channel, normalise_cast_time
from engine.model.election import Election
from engine.model.ids import EnvelopeId
from engine.model.tokens import TokenVerifier
from engine.services.count import count_store
from engine.services.ingest import ingest_items
from engine.storage.keyfiles import load_public_key
from engine.storage.store import Store
from pbcount.commands.ingest import print_report
from pbcount.console import DbOption, console, errors_as_messages, fail, open_existing_store, progress_bar

ProjectsOption = Annotated[
    Path | None,
    typer.Option("--projects", help="CSV project_id,platform_id mapping pbcount ids to Decidim/Consul ids "
                 "(default: the same ids)"),
]
EnvelopeOption = Annotated[str | None, typer.Option("--envelope", help="Envelope (default: the only one)")]


def _envelope(election: Election, envelope: str | None) -> EnvelopeId:
    if envelope is None:
        if len(election.envelopes) != 1:
            fail(f"election {election.id!r} has {len(election.envelopes)} envelopes: say which with --envelope")
        return election.envelopes[0].id
    if election.envelope(EnvelopeId(envelope)) is None:
        fail(f"no envelope {envelope!r} in election {election.id!r} "
             f"(one of {', '.join(e.id for e in election.envelopes)})")
    return EnvelopeId(envelope)


def _project_map(path: Path | None, election: Election) -> ProjectMap:
    if path is None:
        return ProjectMap.identity(election)
    return read_project_map(path.read_text(encoding="utf-8"), path.name, election)


def import_decidim(
    file: Annotated[Path, typer.Argument(help="A Decidim budget export (.pb)")],
    election_file: Annotated[Path | None, typer.Option("--election", "-e", help="Election definition (default: "
                             "the store's; a store without one gets an election made from the file)")] = None,
    envelope: EnvelopeOption = None,
    projects: ProjectsOption = None,
    order_tokens: Annotated[Path | None, typer.Option("--order-tokens", help="CSV order_id,token: the pbcount "
                            "token of each order's voter, so the order is deduplicated against paper")] = None,
    cast_at: Annotated[str | None, typer.Option("--cast-at", help="Cast time of every order (ISO 8601; default: "
                       "noon UTC of the export's date_end, inside the voting period)")] = None,
    keys: Annotated[Path, typer.Option("--keys", help="Key directory (for --order-tokens)",
                                       envvar="PBCOUNT_KEYS")] = Path("keys"),
    db: DbOption = None,
) -> None:
    """Import a Decidim budget export as online votes: one ballot per order (order id as voter).

    Example: pbcount import decidim budget-7.pb -e election.toml --envelope ar11 --projects ids.csv
    --order-tokens order_tokens.csv
    """
    with errors_as_messages():
        text = file.read_text(encoding="utf-8-sig")
        budget = read_decidim_export(text, file.name)
        store = Store.open(db)
        if election_file is not None:
            election = load_election(election_file)
        elif store.election_row() is not None:
            election = store.election()
        else:
            eid = re.sub(r"[^A-Za-z0-9_.-]+", "-", file.stem).lower()
            election, _unit = election_from_instance(budget.instance, eid, "greedy")
            # paper ballots come next (that is the point): the voter's paper ballot counts
            election = dataclasses.replace(election, precedence="paper-first")
        store.freeze_election(election, actor="pbcount import decidim")
        env = _envelope(election, envelope)
        pmap = _project_map(projects, election)
        tokens = read_order_tokens(order_tokens.read_text(encoding="utf-8"), order_tokens.name) \
            if order_tokens is not None else {}
        real = TokenVerifier(load_public_key(keys), election.id) if tokens else None
        try:
            when = normalise_cast_time(cast_at) if cast_at else default_cast_time(budget.meta, election.voting)
        except ValueError as exc:
            fail(f"cast time: {exc}")
        items = decidim_ballots(budget, election, env, pmap, tokens, OrderTokenVerifier(election.id, real), when,
                                lambda key: import_receipt_id(key, Channel.ONLINE))
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        with progress_bar(f"importing {file.name}", len(items), unit="orders") as advance:
            report = ingest_items(store, "decidim", file.name, digest, items,
                                  actor="pbcount import decidim", progress=advance)
    print_report(report)
    mapped = sum(1 for o in budget.orders if o.order_id in tokens)
    console.print(f"envelope {env!r}: {len(budget.orders):,} orders, cast at {when}; {mapped:,} with a voter "
                  f"token (deduplicated against paper), {len(budget.orders) - mapped:,} counted as their own voter")


def _counted(db: str | None) -> CountResult:
    store = open_existing_store(db)
    return count_store(store, persist=False)


def export_decidim_paper(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write (id;paper_ballots_to_import)")],
    envelope: EnvelopeOption = None,
    projects: ProjectsOption = None,
    match_total: Annotated[Path | None, typer.Option("--match-total", help="The Decidim export: write pbcount's "
                           "total minus Decidim's online votes, so Decidim shows pbcount's totals")] = None,
    since: Annotated[Path | None, typer.Option("--since", help="A file already imported into Decidim: write "
                     "the difference only (the module adds each import)")] = None,
    db: DbOption = None,
) -> None:
    """Write the paper votes of an envelope for the Decidim paper-ballots module.

    Example: pbcount export decidim-paper --envelope ar11 --projects ids.csv -o paper.csv
    """
    with errors_as_messages():
        result = _counted(db)
        e = result.election
        env = _envelope(e, envelope)
        pmap = _project_map(projects, e)
        et = result.tally.envelopes[env]
        paper: dict[str, int] = {str(pid): v.paper for pid, v in et.projects.items()}
        online = None
        if match_total is not None:
            online = read_decidim_export(match_total.read_text(encoding="utf-8-sig"), match_total.name).online_votes()
        previous = read_paper_totals(since.read_text(encoding="utf-8"), since.name) if since else None
        text = paper_totals_csv(paper, pmap, decidim_online=online,
                                counted_total={str(pid): v.total for pid, v in et.projects.items()},
                                already_imported=previous)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {len(paper)} projects ({sum(paper.values()):,} paper votes, "
                  f"{et.ballots_paper:,} paper ballots) of envelope {env!r} to {out}")


def export_consul_ballot_sheets(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Text file to write: one ballot per line")] = None,
    envelope: EnvelopeOption = None,
    projects: ProjectsOption = None,
    check: Annotated[Path | None, typer.Option("--check", help="Instead, check a sheet typed by hand: each entry "
                     "Consul would drop silently is named with its line and reason (exit 1)")] = None,
    db: DbOption = None,
) -> None:
    """Write the counted paper ballots of an envelope as a Consul ballot sheet, or check one.

    Example: pbcount export consul-ballot-sheets --envelope ar11 --projects ids.csv -o sheet.txt
    """
    if (out is None) == (check is None):
        fail("give --out FILE to write a sheet or --check FILE to check one")
    with errors_as_messages():
        result = _counted(db)
        e = result.election
        env = _envelope(e, envelope)
        pmap = _project_map(projects, e)
        ids = {p.id: pmap.platform_id(p.id) for p in e.projects}
        bad = [pid for pid, ext in ids.items() if not ext.isdigit()]
        if bad:
            raise PlatformFileError(str(projects or "--projects"), 0, f"Consul investment ids are numbers; "
                                    f"project {bad[0]!r} has none ({len(bad)} such; give a --projects map)")
        investments = {ids[p.id]: SheetInvestment(p.envelope, p.cost) for p in e.projects}
        budgets: dict[str, int] = {str(x.id): x.budget for x in e.envelopes}
        if check is not None:
            ballots, problems = parse_ballot_sheet(check.read_text(encoding="utf-8-sig"), investments, budgets)
            for pr in problems:
                console.print(f"{pr.where(check.name)}: {pr.reason}: {pr.detail}", highlight=False)
            console.print(f"{len(ballots)} ballots, {len(problems)} entries Consul would drop or record empty")
            if problems:
                raise typer.Exit(1)
            return
        assert out is not None
        paper = sorted((b for b in result.dedup.counted if b.channel is Channel.PAPER and b.projects(env)),
                       key=lambda b: b.ballot_key)
        text = format_ballot_sheet(sorted((ids[p] for p in b.projects(env)), key=int) for b in paper)
        # our own sheet must pass the check Consul does not do
        _, problems = parse_ballot_sheet(text, investments, None)
        assert not problems, problems
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {len(paper):,} paper ballots of envelope {env!r} to {out}")

"""``pbcount results``: count the store and write the CSVs for journalists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.counting.count import CountResult
from engine.formats.breakdowns import categories_csv, districts_csv
from engine.formats.group_turnout import K_MIN, VoterGroups, group_turnout_csv, parse_groups_csv
from engine.formats.results_csv import (
    encode_csv,
    envelopes_csv,
    projects_csv,
    summary_csv,
    turnout_csv,
)
from engine.formats.savings_csv import has_savings, savings_csv
from engine.services.count import count_store
from engine.storage.review_store import PENDING, ReviewStore
from pbcount.commands.publish import pending_text
from pbcount.console import DbOption, console, errors_as_messages, open_existing_store
from pbcount.summary import print_count_summary


def results_csvs(result: CountResult, groups: VoterGroups | None = None) -> dict[str, str]:
    """Every results CSV by file name (docs/results-csv.md); ``groups.csv`` only with a groups file."""
    csvs = {
        "projects.csv": projects_csv(result),
        "envelopes.csv": envelopes_csv(result),
        "summary.csv": summary_csv(result, len(groups.labels) if groups is not None else None),
        "turnout.csv": turnout_csv(result),
        "categories.csv": categories_csv(result),
        "districts.csv": districts_csv(result),
    }
    if has_savings(result):
        csvs["savings.csv"] = savings_csv(result)
    if groups is not None:
        csvs["groups.csv"] = group_turnout_csv(groups, result.dedup.counted, K_MIN)
    return csvs


def write_results(
    result_out: Path, result: CountResult, *, groups: VoterGroups | None = None, bom: bool = False,
    xlsx: bool = True,
) -> list[Path]:
    """Write the results CSVs (and ``results.xlsx``) into ``result_out``; returns the paths."""
    result_out.mkdir(parents=True, exist_ok=True)
    written = []
    csvs = results_csvs(result, groups)
    for name, text in csvs.items():
        p = result_out / name
        p.write_bytes(encode_csv(text, bom=bom))
        written.append(p)
    if xlsx:
        from engine.formats.results_xlsx import results_xlsx

        p = result_out / "results.xlsx"
        p.write_bytes(results_xlsx(csvs))
        written.append(p)
    return written


def results(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for the CSVs and results.xlsx")
    ] = Path("results"),
    db: DbOption = None,
    actor: Annotated[str, typer.Option("--actor", help="Who counts (audit log)")] = "pbcount results",
    bom: Annotated[bool, typer.Option("--bom", help="Start each CSV with a UTF-8 byte-order mark (Excel)")] = False,
    xlsx: Annotated[bool, typer.Option("--xlsx/--no-xlsx", help="Also write results.xlsx")] = True,
    groups_file: Annotated[
        Path | None,
        typer.Option("--groups", exists=True, dir_okay=False,
                     help="Groups file from 'tokens issue --groups-out': turnout by voter group"),
    ] = None,
) -> None:
    """Dedup, tally and allocate every envelope, then write the results CSVs.

    Columns: docs/results-csv.md. Example: pbcount results --out results/ --bom --groups groups.csv
    """
    with errors_as_messages():
        groups = (parse_groups_csv(groups_file.read_text(encoding="utf-8"), str(groups_file))
                  if groups_file is not None else None)
        store = open_existing_store(db)
        result = count_store(store, actor=actor)
        written = write_results(out, result, groups=groups, bom=bom, xlsx=xlsx)
        pending = ReviewStore(store).counts().get(PENDING, 0)
    print_count_summary(console, result)
    if pending:
        console.print(f"[bold yellow]warning[/]: {pending_text(pending)}: not counted yet "
                      "(pbcount review list)", highlight=False)
    for p in written:
        console.print(f"wrote {p}")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/results.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.command("results")(results)

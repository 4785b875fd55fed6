"""``pbcount allocate FILE.pb``: run an allocation rule on any pabulib file.

With no ``--rule``, the rule the file's META names is applied (``greedy``,
``greedy-threshold``, ``greedy-no-skip``, ``equalshares`` and ``equalshares/add1`` with
their ``-comparison`` variants), so that the city's official outcome is reproduced; when
the file has a ``selected`` column the output says whether it was.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from engine.formats.pabulib import (
    PabulibError,
    PbInstance,
    allocation_problem,
    official_rule,
    read_pabulib,
)
from engine.rules import PROFILE_RULES, RULES, TIE_BREAKS, AllocationResult
from pbcount.console import console, err_console, fail


def _money(units: int, unit: int) -> int | float:
    x = Fraction(units, unit)
    return int(x) if x.denominator == 1 else float(x)


def result_json(inst: PbInstance, result: AllocationResult, unit: int, source: str) -> dict[str, Any]:
    """The ``--json`` document: rule, selected ids, cost, budget, per-project outcomes."""
    official = inst.official_selection()
    doc: dict[str, Any] = {"file": source, **result.to_dict(lambda units: _money(units, unit))}
    quotas = doc.pop("quota_reports")
    if quotas:
        doc["quotas"] = quotas
    if official is not None:
        doc["official_selected"] = list(official)
        doc["matches_official"] = set(official) == set(result.selected)
    return doc


def allocate(
    file: Annotated[Path, typer.Argument(help="A pabulib .pb file")],
    rule: Annotated[str | None, typer.Option("--rule", "-r", help=f"One of: {', '.join(RULES)} "
                                             "(default: the rule in the file's META)")] = None,
    tie_break: Annotated[str, typer.Option("--tie-break", help=f"One of: {', '.join(TIE_BREAKS)}. Default: "
                                           "cheaper first, then id (reproduces every official outcome "
                                           "here); 'lexicographic' is pabutools' default")] = "votes-cost-id",
    score: Annotated[str, typer.Option("--score", help="auto | votes | points | file-votes | file-score "
                                       "(auto: approval by count, cumulative by points, ordinal by the "
                                       "file's score column)")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Allocate the budget of a pabulib file with a rule and print the selected projects."""
    if tie_break not in TIE_BREAKS:
        fail(f"unknown tie-break {tie_break!r}; one of {', '.join(TIE_BREAKS)}")
    try:
        inst = read_pabulib(file)
        name = rule or official_rule(inst)
        if name not in RULES:
            fail(f"unknown rule {name!r}; one of {', '.join(RULES)}")
        problem = allocation_problem(inst, score, with_profile=name in PROFILE_RULES)
        with err_console.status(f"{name} on {len(inst.projects)} projects, {len(inst.votes):,} ballots…"):
            result = RULES[name](problem, tie_break)
    except (PabulibError, ValueError) as exc:
        fail(f"{file}: {exc}" if not isinstance(exc, PabulibError) else str(exc))
    doc = result_json(inst, result, problem.unit, str(file))
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    t = Table(title=f"{file.name}: {result.rule} (tie-break {tie_break})")
    for col in ("rank", "project", "cost", "score", "selected", "reason", "detail"):
        t.add_column(col, justify="right" if col in ("rank", "cost", "score") else "left")
    index = {pid: j for j, pid in enumerate(problem.project_ids)}
    for o in doc["outcomes"]:
        j = index[o["project_id"]]
        t.add_row(str(o["rank"]), o["project_id"], f"{_money(problem.costs[j], problem.unit):,}",
                  f"{problem.scores[j]:g}", "yes" if o["selected"] else "", o["reason"], o["detail"])
    console.print(t)
    console.print(f"selected {len(result.selected)} projects costing {doc['cost']:,} of {doc['budget']:,}")
    for note in result.notes:
        console.print(f"note: {note}")
    if "matches_official" in doc:
        if doc["matches_official"]:
            console.print("[green]reproduces the official outcome[/] (selected column)")
        else:
            ours, off = set(result.selected), set(doc["official_selected"])
            console.print(f"[yellow]differs from the official outcome[/]: only ours {sorted(ours - off)}, "
                          f"only official {sorted(off - ours)}")


def register(app: typer.Typer) -> None:
    app.command("allocate")(allocate)

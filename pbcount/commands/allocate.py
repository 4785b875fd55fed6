"""``pbcount allocate FILE.pb``: run an allocation rule on any pabulib file.

With no ``--rule``, the rule the file's META names is applied (``greedy``,
``greedy-threshold``, ``greedy-no-skip``, ``equalshares`` and ``equalshares/add1`` with
their ``-comparison`` variants), so that the city's official outcome is reproduced; when
the file has a ``selected`` column the output says whether it was.

``--rule majority-judgment`` reads a ``vote_type;scoring`` file's points as grades (0 the
lowest, META ``max_points`` the highest, META ``default_score`` for ungraded projects);
``greedy-exclusive`` reads the PROJECTS column ``exclusive_group``; ``--no-threshold``
ignores META ``min_project_score_threshold`` (pabutools applies none); ``--fairness`` adds
:func:`engine.counting.fairness.fairness_report` (``fairness`` in the JSON).
"""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from engine.counting.fairness import fairness_report
from engine.formats.pabulib import (
    PabulibError,
    PbInstance,
    allocation_problem,
    official_rule,
    read_pabulib,
)
from engine.formats.pabulib_rules import exclusive_groups, grade_profile
from engine.rules import CUTS_RULES, GRADE_RULES, PROFILE_RULES, RULES, TIE_BREAKS, AllocationResult
from engine.rules.cuts import TargetUnreachable, sector_limits, sectors_from_categories
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


def _cuts(inst: PbInstance, problem: Any, name: str, tie_break: str, target: float | None,
          max_cuts: int | None, max_share: float | None) -> AllocationResult:
    """A savings rule on the file: the target replaces the budget; sectors are the categories."""
    if target is not None:
        problem = replace(problem, budget=int(round(Fraction(str(target)) * problem.unit)))
    limits = () if max_cuts is None and max_share is None else sector_limits(
        sectors_from_categories({p.project_id: p.fields.get("category", "") for p in inst.projects}),
        max_cuts=max_cuts, max_share=None if max_share is None else max_share / 100,
        savings=dict(zip(problem.project_ids, problem.costs, strict=True)))
    return RULES[name](problem, tie_break, limits=limits)  # type: ignore[call-arg]  # the savings rules take limits=; RULES is typed for the common signature


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
    no_threshold: Annotated[bool, typer.Option("--no-threshold", help="Ignore the file's META "
                                               "min_project_score_threshold (as pabutools does)")] = False,
    fairness: Annotated[bool, typer.Option("--fairness", help="Add the fairness report (approval and "
                                           "choose-1 files): satisfaction histograms, Gini, EJR/PJR")] = False,
    target: Annotated[float | None, typer.Option("--target", help="cuts-*: savings target (default: META "
                                                 "budget); lines are the projects, votes are votes to cut")] = None,
    sector_max_cuts: Annotated[int | None, typer.Option("--sector-max-cuts", help="cuts-*: at most K cuts per "
                                                        "sector (the projects' category)")] = None,
    sector_max_share: Annotated[float | None, typer.Option("--sector-max-share", help="cuts-*: at most this "
                                                           "percentage of a sector's spending cut")] = None,
) -> None:
    """Allocate the budget of a pabulib file with a rule and print the selected projects."""
    if tie_break not in TIE_BREAKS:
        fail(f"unknown tie-break {tie_break!r}; one of {', '.join(TIE_BREAKS)}")
    try:
        inst = read_pabulib(file)
        name = rule or official_rule(inst)
        if name not in RULES:
            fail(f"unknown rule {name!r}; one of {', '.join(RULES)}")
        if name.startswith("for-against"):
            fail(f"{file}: rule {name!r} needs for/against ballots; pabulib has no such vote type")
        if fairness and inst.vote_type not in ("approval", "choose-1"):
            fail(f"{file}: the fairness report needs approval ballots, not {inst.vote_type}")
        problem = allocation_problem(inst, score, with_profile=name in PROFILE_RULES or fairness,
                                     apply_threshold=not no_threshold)
        if name in GRADE_RULES:
            problem = replace(problem, grades=grade_profile(inst, file.name))
        if name == "greedy-exclusive":
            problem = replace(problem, exclusive=exclusive_groups(inst))
        with err_console.status(f"{name} on {len(inst.projects)} projects, {len(inst.votes):,} ballots…"):
            if name in CUTS_RULES:
                result = _cuts(inst, problem, name, tie_break, target, sector_max_cuts, sector_max_share)
            else:
                result = RULES[name](problem, tie_break)
    except TargetUnreachable as exc:
        fail(f"{file}: {exc}")
    except (PabulibError, ValueError) as exc:
        fail(f"{file}: {exc}" if not isinstance(exc, PabulibError) else str(exc))
    doc = result_json(inst, result, problem.unit, str(file))
    if name in CUTS_RULES:  # the budget is the savings target; cost is what the cuts save
        doc.update(target=doc["budget"], saved=doc["cost"], overshoot=_money(result.cost - result.budget,
                                                                               problem.unit))
    if fairness:
        doc["fairness"] = fairness_report(problem, result)
    if problem.grades is not None:
        doc["grades"] = {"scale": list(problem.grades.grades), "default": problem.grades.default_grade,
                         "counts": dict(zip(problem.project_ids, problem.grades.counts.tolist(), strict=True))}
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    t = Table(title=f"{file.name}: {result.rule} (tie-break {tie_break})")
    index = {pid: j for j, pid in enumerate(problem.project_ids)}
    rows = [[str(o["rank"]), o["project_id"], f"{_money(problem.costs[j], problem.unit):,}",
             f"{problem.scores[j]:g}", "yes" if o["selected"] else "", o["reason"], o["detail"]]
            for o in doc["outcomes"] for j in (index[o["project_id"]],)]
    for i, col in enumerate(("rank", "project", "cost", "score", "selected", "reason", "detail")):
        if col in ("rank", "cost", "score", "selected"):  # figures are never cut nor folded
            width = max([len(col), *(len(r[i]) for r in rows)])
            t.add_column(col, justify="right" if col != "selected" else "left", no_wrap=True, min_width=width)
        else:  # text folds (ids split across lines, whole) on a narrow terminal
            t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(*r)
    console.print(t)
    if name in CUTS_RULES:
        console.print(f"cut {len(result.selected)} lines saving {doc['saved']:,} for a target of {doc['target']:,}")
    else:
        console.print(f"selected {len(result.selected)} projects costing {doc['cost']:,} of {doc['budget']:,}")
    for note in result.notes:
        console.print(f"note: {note}")
    if fairness:
        fr = doc["fairness"]
        verdict = {k: "holds" if fr[k]["satisfied"] else f"violated (witness {fr[k]['witness']['projects']}, "
                   f"{fr[k]['witness']['group_size']} voters)" for k in ("ejr", "pjr")}
        console.print(f"fairness: {fr['nothing_funded_share']:.1%} of voters got nothing they approved; "
                      f"Gini (money) {fr['gini_cost']:.3f}; EJR {verdict['ejr']}; PJR {verdict['pjr']}")
    if "matches_official" in doc:
        if doc["matches_official"]:
            console.print("[green]reproduces the official outcome[/] (selected column)")
        else:
            ours, off = set(result.selected), set(doc["official_selected"])
            console.print(f"[yellow]differs from the official outcome[/]: only ours {sorted(ours - off)}, "
                          f"only official {sorted(off - ours)}")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/allocate.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.command("allocate")(allocate)

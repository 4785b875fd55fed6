"""``pbcount sortition draw|commit|verify|show``: panels (or proposals) drawn by lot from a public seed.

The CLI reads the files, calls :mod:`engine.sortition` and writes the signed record
directory; ``verify`` re-derives the draw and exits 1 on any difference; ``show`` verifies
and summarises a record through :mod:`engine.services.sortition`, as ``pbcount serve
--sortition`` does. See docs/sortition.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer

from engine.services.sortition import load_record, read_record_dir
from engine.sortition.draw import METHODS
from engine.sortition.pool import parse_features, parse_pool
from engine.sortition.record import build_record, verify_record
from engine.storage.keyfiles import RESULTS, load_private_key, public_key_from_pem
from pbcount.console import KeysOption, console, default_keys_dir, err_console, errors_as_messages, fail

sortition_app = typer.Typer(help="Verifiable sortition: draw a panel by lot with quotas, verify a draw.",
                            no_args_is_help=True)


@sortition_app.command("draw")
def draw_command(
    pool: Annotated[Path, typer.Option("--pool", help="CSV with an id column and one column per feature")],
    features: Annotated[Path, typer.Option("--features", help="CSV feature,value,min,max (quotas)")],
    size: Annotated[int, typer.Option("--size", help="Number of people (or proposals) to draw")],
    seed: Annotated[str, typer.Option("--seed", help="Public randomness fixed before the draw "
                                      "(a drand round's randomness, a lottery result), as text")],
    out: Annotated[Path, typer.Option("--out", help="Record directory to create")],
    method: Annotated[str, typer.Option("--method", help=f"One of: {', '.join(METHODS)}")] = "leximin",
    urn_feature: Annotated[str | None, typer.Option("--urn-feature", help="urns: the feature whose values "
                                                    "are the urns (e.g. gender)")] = None,
    address_columns: Annotated[str, typer.Option("--address-columns", help="Household rule: at most one "
                                                 "person per value of these comma-separated columns")] = "",
    keys: KeysOption = default_keys_dir(),
    as_json: Annotated[bool, typer.Option("--json", help="Print the record summary as JSON")] = False,
) -> None:
    """Draw a panel and write the signed record DIR (pool hash, quotas, probabilities, panel)."""
    if out.exists() and any(out.iterdir()):
        fail(f"{out}: directory exists and is not empty (the record is never overwritten)")
    with errors_as_messages():
        key = load_private_key(keys, RESULTS)
        feats = parse_features(features.read_text(encoding="utf-8"), str(features))
        source = pool.read_bytes()
        cols = tuple(c.strip() for c in address_columns.split(",") if c.strip())
        people = parse_pool(source.decode("utf-8"), feats, str(pool), cols)
        with err_console.status(f"{method}: {size} of {len(people.ids)}…"):
            result, files = build_record(people, feats, size, seed, key, method=method, urn_feature=urn_feature,
                                         source_sha256=hashlib.sha256(source).hexdigest())
    out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(files.items()):
        (out / name).write_bytes(data)
    record = json.loads(files["record.json"])
    if as_json:
        typer.echo(json.dumps({**record, "panel": [people.ids[i] for i in result.panel], "out": str(out)},
                              ensure_ascii=False))
        return
    console.print(f"drew {size} of {len(people.ids)} with {record['algorithm']} (seed {seed!r})")
    console.print("panel: " + ", ".join(people.ids[i] for i in result.panel))
    if record.get("on_no_panel"):
        console.print(f"[yellow]on no panel that meets the quotas[/]: {', '.join(record['on_no_panel'])}")
    for problem in record.get("quotas_not_met", []):
        console.print(f"[yellow]quota not met[/]: {problem}")
    console.print(f"record written to {out}/ (verify with `pbcount sortition verify {out}`)")


@sortition_app.command("commit")
def commit_command(
    pool: Annotated[Path, typer.Option("--pool", help="The pool CSV to be drawn from")],
    features: Annotated[Path, typer.Option("--features", help="CSV feature,value,min,max (quotas)")],
    address_columns: Annotated[str, typer.Option("--address-columns", help="As for draw")] = "",
) -> None:
    """Print the hashes the record will hold (pool_sha256, features_sha256): publish them
    before the seed is known, so the pool cannot be changed once the seed is out."""
    with errors_as_messages():
        feats = parse_features(features.read_text(encoding="utf-8"), str(features))
        cols = tuple(c.strip() for c in address_columns.split(",") if c.strip())
        people = parse_pool(pool.read_text(encoding="utf-8"), feats, str(pool), cols)
    typer.echo(json.dumps({"pool_sha256": people.sha256(), "pool_size": len(people.ids),
                           "features_sha256": hashlib.sha256(feats.csv_text().encode()).hexdigest()}))


@sortition_app.command("verify")
def verify_command(
    directory: Annotated[Path, typer.Argument(help="A record directory written by `sortition draw`")],
    key: Annotated[Path | None, typer.Option("--key", help="The trusted results.pub (default: the "
                                             "record's own copy, which only checks self-consistency)")] = None,
    source: Annotated[Path | None, typer.Option("--source", help="The organiser's original pool file: "
                                                "check it against source_sha256")] = None,
) -> None:
    """Re-derive the draw bit for bit; exit 1 and list every difference if anything changed."""
    if not directory.is_dir():
        fail(f"{directory}: not a directory")
    files = read_record_dir(directory)
    with errors_as_messages():
        pub = public_key_from_pem(key.read_bytes(), str(key)) if key else None
    problems = verify_record(files, pub)
    if source is not None:
        try:
            wanted = json.loads(files["record.json"]).get("source_sha256")
        except (KeyError, ValueError):
            wanted = None
        if hashlib.sha256(source.read_bytes()).hexdigest() != wanted:
            problems.append(f"{source}: its SHA-256 differs from record.json's source_sha256")
    if problems:
        for p in problems:
            console.print(f"[bold red]FAIL[/] {p}", highlight=False)
        raise typer.Exit(1)
    if key is None:
        console.print("[yellow]note[/]: checked with the record's own results.pub; pass --key to check "
                      "the authority's published key")
    console.print(f"[green]OK[/] {directory}: signature valid, the draw re-derives bit for bit")


@sortition_app.command("show")
def show_command(
    directory: Annotated[Path, typer.Argument(help="A record directory written by `sortition draw`")],
    key: Annotated[Path | None, typer.Option("--key", help="The trusted results.pub (default: the "
                                             "record's own copy, which only checks self-consistency)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print name, verified, problems and the summary "
                                          "as JSON (as GET /v1/sortition/{name})")] = False,
) -> None:
    """Verify a record and summarise it: seed, quotas with the panel's counts, panel, probabilities
    (the same summary as ``pbcount serve --sortition`` serves). Exit 1 if it does not verify."""
    if not directory.is_dir():
        fail(f"{directory}: not a directory")
    with errors_as_messages():
        pub = public_key_from_pem(key.read_bytes(), str(key)) if key else None
    rec = load_record(directory, pub)
    s = rec.summary
    if as_json:
        typer.echo(json.dumps({"name": rec.name, "verified": rec.verified, "problems": list(rec.problems),
                               "summary": s.to_dict() if s else None}, ensure_ascii=False))
    else:
        if s is not None:
            console.print(f"{rec.name}: {s.size} of {s.pool_size} with {s.algorithm}, seed {s.seed!r}", highlight=False)
            console.print(f"pool_sha256 {s.pool_sha256}", highlight=False)
            for q in s.quotas:
                mark = "ok" if q.met else "[yellow]not met[/]"
                console.print(f"  {q.feature}={q.value}: {q.panel_count} on the panel (min {q.min}, "
                              f"max {q.max}) {mark}", highlight=False)
            console.print("panel: " + ", ".join(s.panel), highlight=False)
            p = s.probabilities
            console.print(f"probabilities: min {p.min:.4f}, median {p.median:.4f}, max {p.max:.4f}", highlight=False)
        for problem in rec.problems:
            console.print(f"[bold red]FAIL[/] {problem}", highlight=False)
        if rec.verified:
            console.print("[green]OK[/] verified" + ("" if key else " (with the record's own results.pub)"))
    if not rec.verified:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/sortition.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.add_typer(sortition_app, name="sortition")

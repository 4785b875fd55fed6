"""``pbcount fixtures paris``: generate a Paris-like election with signed e-votes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fixtures.paris import generate_paris
from pbcount.console import console

fixtures_app = typer.Typer(help="Synthetic elections for demos, tests and benchmarks.", no_args_is_help=True)


@fixtures_app.command("paris")
def fixtures_paris(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files)")] = 2026,
    voters: Annotated[int, typer.Option("--voters", help="Online voters with a valid vote")] = 50_000,
    paper_voters: Annotated[int, typer.Option("--paper-voters", help="Tokens reserved for paper ballots")] = 1_200,
) -> None:
    """Write election.toml, keys/, tokens.csv, evotes.jsonl, paper_tokens.csv and manifest.json."""
    with console.status(f"generating {voters:,} voters…"):
        m = generate_paris(out, seed=seed, voters=voters, paper_voters=paper_voters)
    exp = m["expected"]
    console.print(
        f"wrote {out}: {m['envelopes']} envelopes, {m['projects']} projects, {m['lines']:,} e-vote lines "
        f"({exp['rejected_total']} bad lines, {exp['superseded_by_later_online']} revotes, "
        f"{exp['already_known']} resubmissions)"
    )


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/fixtures.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.add_typer(fixtures_app, name="fixtures")

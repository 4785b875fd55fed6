"""``pbcount ballots render`` (printable ballots) and ``pbcount testdeck`` (L&A test decks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ballot_scan.render import RenderError, read_token_register, render_ballots
from ballot_scan.testdeck import DeckOptions, make_testdeck
from engine.formats.election_definition import load_election
from engine.model.election import Election
from pbcount.console import ElectionOption, console, errors_as_messages, fail, progress_bar

ballots_app = typer.Typer(help="Printable paper ballots.", no_args_is_help=True)


def _envelopes(e: Election, spec: str) -> list[str]:
    """``ENV`` (id or printed code), ``A,B`` or ``all``."""
    if spec == "all":
        return [x.id for x in e.envelopes]
    out: list[str] = []
    for part in spec.split(","):
        env = e.envelope(part.strip()) or e.envelope_by_code(part.strip().upper())
        if env is None:
            fail(f"unknown envelope {part!r}; known: {', '.join(x.id for x in e.envelopes)}")
        out.append(env.id)
    return out


OutOption = Annotated[Path, typer.Option("--out", "-o", help="Output directory")]


@ballots_app.command("render")
def render(
    election: ElectionOption,
    envelope: Annotated[str, typer.Option("--envelope", help="Envelope id or code (e.g. ar11, PARIS)")],
    out: OutOption,
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of the PNG pages and PDF")] = 300,
    tokens: Annotated[
        Path | None,
        typer.Option("--tokens", help="Token register CSV (serial,short_code,token): one ballot per token"),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for ballot serials (tests only)")] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the print-ready PDF")] = True,
) -> None:
    """Write print-ready PDF, one PNG per page and layout.json (a specimen without --tokens)."""
    with errors_as_messages():
        e = load_election(election)
        env_id = _envelopes(e, envelope)[0]
        toks = read_token_register(tokens) if tokens else None
        try:
            with progress_bar(f"rendering {env_id}", len(toks) if toks else 1, unit="ballots") as adv:
                res = render_ballots(e, env_id, out, dpi=dpi, tokens=toks, seed=seed, pdf=pdf, progress=adv)
        except RenderError as exc:
            fail(str(exc))
    console.print(f"wrote {len(res.ballots)} ballot(s), {res.pages} page(s) to {out}/ "
                  f"({', '.join(p.name for p in res.pdfs) or 'no PDF'}, layout.json)")


def testdeck(
    election: ElectionOption,
    envelope: Annotated[str, typer.Option("--envelope", help="Envelope id/code, A,B or all")],
    count: Annotated[int, typer.Option("--count", "-n", help="Number of images")],
    out: OutOption,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same deck")] = 1,
    tokens: Annotated[
        Path | None,
        typer.Option("--tokens", help="Token register CSV (default: paper_tokens.csv next to the election)"),
    ] = None,
    dpi: Annotated[int, typer.Option("--dpi", help="Simulated scan resolution")] = 200,
    workers: Annotated[int, typer.Option("--workers", "-j", help="Processes")] = 2,
    clean: Annotated[bool, typer.Option("--clean", help="No scan degradation (perfect images)")] = False,
) -> None:
    """Render ballots, mark them like people do, simulate scanning; write expected.json."""
    with errors_as_messages():
        e = load_election(election)
        envs = _envelopes(e, envelope)
        reg = tokens or election.parent / "paper_tokens.csv"
        if not reg.exists():
            fail(f"{reg}: token register not found (give --tokens FILE)")
        toks = read_token_register(reg)
        if count < 1:
            fail("--count must be at least 1")
        if count > len(toks):
            console.print(f"[yellow]note:[/] {count} images but {len(toks)} tokens: tokens are reused "
                          "(those voters get duplicate paper ballots)")
        opts = DeckOptions(dpi=dpi, degrade=not clean)
        with progress_bar("making test deck", count, unit="images") as adv:
            make_testdeck(e, envs, toks, out, count=count, seed=seed, opts=opts, workers=workers, progress=adv)
    console.print(f"wrote {count} images and expected.json to {out}/")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/ballots.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.add_typer(ballots_app, name="ballots")
    app.command("testdeck")(testdeck)

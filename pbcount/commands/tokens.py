"""``pbcount tokens``: issue voter tokens and check one."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import TokenError
from engine.formats.election_definition import load_election
from engine.model.tokens import TokenVerifier, issue_token
from engine.storage.keyfiles import load_private_key, load_public_key, open_private
from pbcount.console import (
    ElectionOption,
    KeysOption,
    console,
    default_keys_dir,
    errors_as_messages,
    fail,
    progress_bar,
)

tokens_app = typer.Typer(help="Voter tokens signed by the authority key.", no_args_is_help=True)


@tokens_app.command("issue")
def tokens_issue(
    election: ElectionOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write")],
    count: Annotated[int | None, typer.Option("--count", "-n", help="Number of anonymous tokens")] = None,
    register_csv: Annotated[
        Path | None,
        typer.Option("--register", help="Voter-register CSV with a 'voter_id' column: one token per row"),
    ] = None,
    keys: KeysOption = default_keys_dir(),
    group_columns: Annotated[
        str | None,
        typer.Option("--group-columns", help="Register columns holding group labels (e.g. age_band,"
                     "popular_neighbourhood), written with the serials to --groups-out"),
    ] = None,
    groups_out: Annotated[
        Path | None,
        typer.Option("--groups-out", help="Groups file: serial + group labels only (for results --groups)"),
    ] = None,
) -> None:
    """Write one token per voter: serial, short code (for print) and token text (for QR/online).

    Example: pbcount tokens issue -e election.toml --register voters.csv -o tokens.csv
    --group-columns age_band,popular_neighbourhood --groups-out groups.csv
    """
    if (count is None) == (register_csv is None):
        fail("give exactly one of --count N or --register FILE.csv")
    if (group_columns is None) != (groups_out is None) or (group_columns and register_csv is None):
        fail("--group-columns and --groups-out go together, with --register")
    attrs = [c.strip() for c in group_columns.split(",") if c.strip()] if group_columns else []
    with errors_as_messages():
        e = load_election(election)
        key = load_private_key(keys)
        voter_ids: list[str | None]
        labels: list[list[str]] = []
        if register_csv is not None:
            with register_csv.open(newline="", encoding="utf-8-sig") as f:
                reader = csv.DictReader(f)
                if not reader.fieldnames or "voter_id" not in reader.fieldnames:
                    fail(f"{register_csv}: needs a 'voter_id' column")
                missing = [a for a in attrs if a not in reader.fieldnames]
                if missing:
                    fail(f"{register_csv}: no column {', '.join(missing)} (--group-columns)")
                rows = list(reader)
                voter_ids = [row["voter_id"] for row in rows]
                labels = [[(row[a] or "").strip() for a in attrs] for row in rows]
        else:
            assert count is not None
            if count < 1:
                fail("--count must be at least 1")
            voter_ids = [None] * count
        verifier = TokenVerifier(key.public_key(), e.id)
        with open_private(out, newline="") as f, progress_bar("issuing", len(voter_ids), "tokens") as adv:
            w = csv.writer(f, lineterminator="\n")
            w.writerow((["voter_id"] if register_csv else []) + ["serial", "short_code", "token"])
            serials: list[str] = []
            for vid in voter_ids:
                tok = verifier.verify(issue_token(key, e.id))
                w.writerow(([vid] if register_csv else []) + [tok.serial_text, tok.short_code, tok.text])
                serials.append(tok.serial_text)
                adv(1)
        if groups_out is not None:  # group labels only: no voter id, no token (docs/results-csv.md)
            from engine.formats.group_turnout import groups_csv_text  # lazy: keeps `tokens --help` light

            groups_out.write_text(groups_csv_text(attrs, zip(serials, labels, strict=True)), encoding="utf-8")
            console.print(f"wrote the group labels of {len(serials)} serials to {groups_out}")
    console.print(f"wrote {len(voter_ids)} tokens for election {e.id!r} to {out}")


@tokens_app.command("verify")
def tokens_verify(
    token: Annotated[str, typer.Argument(help="Token text (PB1-…)")],
    election: ElectionOption,
    keys: KeysOption = default_keys_dir(),
) -> None:
    """Check one token with the authority's public key."""
    with errors_as_messages():
        e = load_election(election)
        verifier = TokenVerifier(load_public_key(keys), e.id)
        try:
            tok = verifier.verify(token)
        except TokenError as exc:
            fail(f"token rejected: {exc.reason}: {exc}", code=1)
    console.print(f"valid token for {e.id!r}: serial {tok.serial_text}, short code {tok.short_code}")


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/tokens.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.add_typer(tokens_app, name="tokens")

"""``pbcount publish``, ``pbcount verify`` and ``pbcount receipt proof|check|from-stub``.

All of them call the engine: :func:`engine.formats.bundle.publish_store` writes the bundle,
:func:`engine.verifier.verify.verify_bundle` (the standalone verifier, also ``python -m
engine.verifier.verify``) checks it, :func:`engine.formats.bundle.receipt_proof` /
:func:`engine.formats.bundle.check_receipt_proof` serve voters.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from engine.model.receipts import paper_receipt_id
from engine.storage.keyfiles import load_private_key
from engine.verifier.verify import VerificationFailure, verify_bundle
from pbcount.console import (
    DbOption,
    KeysOption,
    console,
    default_keys_dir,
    err_console,
    errors_as_messages,
    fail,
    open_existing_store,
)

receipt_app = typer.Typer(help="Voter receipts: find a ballot in a bundle and prove it is in the tree.",
                          no_args_is_help=True)


def publish(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory of the results bundle")] = Path("bundle"),
    db: DbOption = None,
    keys: KeysOption = default_keys_dir(),
    actor: Annotated[str, typer.Option("--actor", help="Who publishes (audit log)")] = "pbcount publish",
) -> None:
    """Count the store and write the signed results bundle (a new publication if anything changed)."""
    from engine.formats.bundle import publish_store  # numpy, SQLAlchemy: not for `pbcount verify`

    with errors_as_messages():
        key = load_private_key(keys, "results")
        store = open_existing_store(db)
        t0 = time.perf_counter()
        with console.status("counting and building the bundle…"):
            report = publish_store(store, key, out, actor=actor)
        dt = time.perf_counter() - t0
    h = report.head
    if report.new_publication:
        console.print(f"publication {h.publication}: {report.appended:,} log lines appended "
                      f"({report.withdrawn:,} withdrawals), {report.counted:,} ballots counted")
    else:
        console.print(f"nothing changed since publication {h.publication}: bundle re-emitted identically")
    console.print(f"tree head: size {h.tree_size:,} root {h.root_hash}")
    console.print(f"wrote {len(report.files)} files to {out}/ in {dt:.1f} s")


def verify(
    bundle: Annotated[Path, typer.Argument(help="Directory of the results bundle")],
    key: Annotated[Path | None, typer.Option("--key", help="The separately published results.pub")] = None,
    previous: Annotated[Path | None, typer.Option("--previous", help="An earlier bundle of this election")] = None,
) -> None:
    """Check a bundle from its files alone; prints VERIFIED or names the first failing check."""
    pem = None
    if key is not None:
        if not key.is_file():
            fail(f"{key}: file not found")
        pem = key.read_bytes()
    try:
        v = verify_bundle(bundle, key_pem=pem, previous=previous,
                          progress=lambda m: err_console.print(f"checking {m}…", highlight=False))
    except VerificationFailure as exc:
        console.print(f"[bold red]FAILED[/]: {exc}", highlight=False)
        raise typer.Exit(1) from None
    for n in v.notes:
        err_console.print(f"note: {n}", highlight=False)
    console.print(f"[bold green]VERIFIED[/] publication {v.publication}: {v.counted:,} counted ballots, "
                  f"tree size {v.tree_size:,}, root {v.root_hash}", highlight=False)


@receipt_app.command("proof")
def receipt_proof_cmd(
    receipt: Annotated[str | None, typer.Argument(help="Receipt id (R… online, P… paper)")] = None,
    bundle: Annotated[Path, typer.Option("--bundle", "-b", help="Directory of the results bundle")] = Path("bundle"),
    stub: Annotated[str | None, typer.Option("--stub", help="Paper ballot: the serial on the tear-off stub")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the proof (JSON) here")] = None,
) -> None:
    """Print a ballot's line and its RFC 6962 inclusion proof."""
    from engine.formats.bundle import bundle_lines, receipt_proof

    if (receipt is None) == (stub is None):
        fail("give either a RECEIPT or --stub SERIAL")
    if stub is not None:
        try:
            receipt = paper_receipt_id(stub)
        except ValueError as exc:
            fail(f"--stub {stub!r}: {exc}")
    assert receipt is not None
    receipt = receipt.strip().upper()
    with errors_as_messages():
        lines = bundle_lines(bundle)
    try:
        proof = receipt_proof(lines, receipt)
    except KeyError:
        fail(f"receipt {receipt} is not in {bundle}/ballots.jsonl")
    merkle_doc = json.loads((bundle / "merkle.json").read_text(encoding="utf-8"))
    if merkle_doc.get("root_hash") != proof["root_hash"]:
        fail(f"{bundle}: ballots.jsonl does not hash to the root in merkle.json; run `pbcount verify {bundle}`")
    text = json.dumps(proof, indent=1, ensure_ascii=False)
    console.print_json(text)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        err_console.print(f"wrote {out}")
    err_console.print(f"status: {proof['status']}")


@receipt_app.command("check")
def receipt_check_cmd(
    proof_file: Annotated[Path, typer.Argument(help="A proof written by `pbcount receipt proof --out`")],
    root: Annotated[str | None, typer.Option("--root", help="The published root hash (hex)")] = None,
    size: Annotated[int | None, typer.Option("--size", help="The published tree size")] = None,
    bundle: Annotated[Path | None, typer.Option("--bundle", help="Take root and size from this bundle")] = None,
    receipt: Annotated[str | None, typer.Option("--receipt", help="The receipt you were given")] = None,
) -> None:
    """Verify an inclusion proof against a published tree head; exit 0 if the ballot is in it."""
    from engine.formats.bundle import check_receipt_proof

    with errors_as_messages():
        proof = json.loads(proof_file.read_text(encoding="utf-8"))
    if bundle is not None:
        head = json.loads((bundle / "merkle.json").read_text(encoding="utf-8"))
        root, size = head["root_hash"], head["tree_size"]
    if root is None:
        fail("give the published root (--root HEX, with --size N) or --bundle DIR")
    if receipt is not None and proof.get("receipt") != receipt.strip().upper():
        fail(f"the proof is for receipt {proof.get('receipt')}, not {receipt}")
    problem = check_receipt_proof(proof, root, size)
    if problem:
        console.print(f"[bold red]NOT VERIFIED[/]: {problem}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[bold green]OK[/]: receipt {proof['receipt']} is leaf {proof['leaf_index']} of the tree "
                  f"of size {proof['tree_size']} with root {root}", highlight=False)
    console.print(f"ballot: {proof['line']}", highlight=False)


@receipt_app.command("from-stub")
def receipt_from_stub(serial: Annotated[str, typer.Argument(help="Serial printed on the paper ballot's stub")]) -> None:
    """Print the receipt id of a paper ballot from the serial on its tear-off stub."""
    try:
        console.print(paper_receipt_id(serial))
    except ValueError as exc:
        fail(f"{serial!r}: {exc}")


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)
    app.command("verify")(verify)
    app.add_typer(receipt_app, name="receipt")

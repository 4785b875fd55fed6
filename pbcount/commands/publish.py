"""``pbcount publish``, ``pbcount verify`` and ``pbcount receipt proof|check|from-stub``.

All of them call the engine: :func:`engine.services.publish.publish_store` writes the bundle,
:func:`engine.verifier.verify_bundle` (the standalone verifier, also ``python -m
engine.verifier`` and ``python pbcount-verifier.zip``) checks it, and
:mod:`engine.services.receipts` (the same service as the API's receipt routes) serves voters.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import ReceiptInputError
from engine.model.receipts import parse_receipt_or_stub, receipt_from_stub
from engine.storage.keyfiles import load_private_key
from engine.verifier import VerificationFailure, verify_bundle
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


def pending_text(n: int) -> str:
    """``"2 paper pages pending review"`` (publish, results)."""
    return f"{n:,} paper page{'s' if n != 1 else ''} pending review"


receipt_app = typer.Typer(help="Voter receipts: find a ballot in a bundle and prove it is in the tree.",
                          no_args_is_help=True)


def publish(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory of the results bundle")] = Path("bundle"),
    db: DbOption = None,
    keys: KeysOption = default_keys_dir(),
    actor: Annotated[str, typer.Option("--actor", help="Who publishes (audit log)")] = "pbcount publish",
    allow_pending: Annotated[bool, typer.Option(
        "--allow-pending", help="Publish even though paper pages are still in review (they are not counted)")] = False,
) -> None:
    """Count the store and write the signed results bundle (a new publication if anything changed)."""
    from engine.services.publish import publish_store  # numpy, SQLAlchemy: not for `pbcount verify`

    with errors_as_messages():
        key = load_private_key(keys, "results")
        store = open_existing_store(db)
        t0 = time.perf_counter()
        with console.status("counting and building the bundle…"):
            report = publish_store(store, key, out, actor=actor, allow_pending=allow_pending)
        dt = time.perf_counter() - t0
    h = report.head
    if report.new_publication:
        console.print(f"publication {h.publication}: {report.appended:,} log lines appended "
                      f"({report.withdrawn:,} withdrawals), {report.counted:,} ballots counted")
    else:
        console.print(f"nothing changed since publication {h.publication}: bundle re-emitted identically")
    if report.pending_review:
        console.print(f"[bold yellow]warning[/]: {pending_text(report.pending_review)} (not counted; "
                      "the count is signed in the bundle)", highlight=False)
    console.print(f"tree head: size {h.tree_size:,} root {h.root_hash}")
    if report.unexpected_files:
        console.print(f"[bold yellow]warning[/]: {out}/ also holds {', '.join(report.unexpected_files)}: not covered "
                      "by the signature, so the verifier refuses the directory; remove them", highlight=False)
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
    stub: Annotated[str | None, typer.Option("--stub", help="Paper ballot: the stub number, as printed")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the proof (JSON) here")] = None,
) -> None:
    """Print a ballot's line and its RFC 6962 inclusion proof."""
    from engine.services.receipts import PublishedLog, receipt_proof

    if (receipt is None) == (stub is None):
        fail("give either a RECEIPT or --stub SERIAL")
    try:
        receipt = receipt_from_stub(stub) if stub is not None else parse_receipt_or_stub(receipt or "")
    except ReceiptInputError as exc:
        fail(str(exc))
    with errors_as_messages():
        log = PublishedLog.from_bundle(bundle)
    try:
        proof = receipt_proof(log, receipt)
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
    from engine.services.receipts import check_receipt_proof

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
def receipt_from_stub_cmd(
    serial: Annotated[str, typer.Argument(help="The number on the stub, as printed: N° XXXX-XXXX-XXXX-XXXX-C")],
) -> None:
    """Print the receipt id of a paper ballot from the number on its tear-off stub.

    Type it as printed (the ``N°``, dashes, spaces and case do not matter); a typo is
    caught by the check symbol (exit 2)."""
    try:
        console.print(receipt_from_stub(serial), highlight=False)
    except ReceiptInputError as exc:
        fail(str(exc))


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/publish.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.command("publish")(publish)
    app.command("verify")(verify)
    app.add_typer(receipt_app, name="receipt")

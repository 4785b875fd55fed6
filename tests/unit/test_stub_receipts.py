"""Issue 13.10: a paper voter types the number printed on the stub, exactly as printed.

Before: ``receipt from-stub "N° G2Q2-CARW-3ESB-T52V-5"`` hashed the check symbol into the
serial and printed a receipt that is in no bundle; ``HELLO`` gave a receipt with exit 0;
the results page refused stub numbers.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ballot_scan.payload import serial_with_check
from engine.errors import ReceiptInputError
from engine.model import crockford
from engine.model.receipts import (
    RECEIPT_RE,
    paper_receipt_id,
    parse_receipt_or_stub,
    parse_stub,
    receipt_from_stub,
)
from pbcount.cli import app

SERIAL = crockford.encode_bytes(bytes(range(7, 17)))  # 16 symbols, as in the QR code
PRINTED = f"N° {serial_with_check(SERIAL)}"  # what render.py prints on the stub


@pytest.mark.parametrize("typed", [
    PRINTED,
    PRINTED.replace("N° ", ""),
    PRINTED.lower(),
    PRINTED.replace("-", ""),
    PRINTED.replace("-", " "),
    "  " + PRINTED.replace("N°", "No") + " ",
    PRINTED.replace("N°", "Nº"),
    PRINTED.replace("N°", "#"),
])
def test_the_printed_stub_number_in_every_usual_spelling(typed: str) -> None:
    assert parse_stub(typed) == SERIAL
    assert receipt_from_stub(typed) == paper_receipt_id(SERIAL)
    assert parse_receipt_or_stub(typed) == paper_receipt_id(SERIAL)


def test_crockford_confusables_fold() -> None:
    serial = "0123456789ABCDEF"
    printed = serial_with_check(serial)
    typed = printed.replace("0", "o").replace("1", "l")
    assert parse_stub(typed) == serial
    assert parse_stub(printed.replace("1", "I")) == serial


def test_a_typo_is_caught_by_the_check_symbol() -> None:
    body = serial_with_check(SERIAL)
    typo = ("Z" if body[0] != "Z" else "Y") + body[1:]
    with pytest.raises(ReceiptInputError, match="check symbol") as err:
        parse_stub(typo)
    assert err.value.code == "check_mismatch"


@pytest.mark.parametrize(("typed", "code"), [
    ("HELLO", "length"), ("", "length"), ("N° " + "U" * 17, "symbol"), (SERIAL[:-1] + "!", "symbol"),
])
def test_garbage_is_refused_with_a_reason(typed: str, code: str) -> None:
    with pytest.raises(ReceiptInputError) as err:
        parse_stub(typed)
    assert err.value.code == code
    with pytest.raises(ReceiptInputError):
        paper_receipt_id(typed)


def test_the_serial_without_its_check_symbol_still_works() -> None:
    assert receipt_from_stub(SERIAL) == paper_receipt_id(SERIAL)


def test_receipt_ids_are_recognised_and_normalised() -> None:
    rid = paper_receipt_id(SERIAL)
    assert RECEIPT_RE.fullmatch(rid)
    assert parse_receipt_or_stub(rid.lower()) == rid
    spaced = " ".join(rid[i:i + 4] for i in range(0, 16, 4))
    assert parse_receipt_or_stub(spaced) == rid
    with pytest.raises(ReceiptInputError):
        parse_receipt_or_stub("R123")


def test_cli_from_stub_takes_the_printed_text_and_refuses_garbage() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["receipt", "from-stub", PRINTED])
    assert r.exit_code == 0 and r.output.strip() == paper_receipt_id(SERIAL)
    r = runner.invoke(app, ["receipt", "from-stub", "HELLO"])
    assert r.exit_code == 2 and "17 symbols" in r.output
    body = serial_with_check(SERIAL)
    r = runner.invoke(app, ["receipt", "from-stub", ("Z" if body[0] != "Z" else "Y") + body[1:]])
    assert r.exit_code == 2 and "check symbol" in r.output


def test_a_qr_serial_outside_crockford_is_not_a_ballot_payload() -> None:
    """A forged QR serial with U (not Crockford) used to reach the receipt hash unchecked."""
    from ballot_scan.payload import parse_payload

    assert parse_payload(f"PBB1/NORTH/1/1/{SERIAL}/SPECIMEN") is not None
    assert parse_payload(f"PBB1/NORTH/1/1/{'U' * 16}/SPECIMEN") is None

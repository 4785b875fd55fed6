"""Receipt ids: what a voter keeps to find their ballot in the published bundle.

* Online ballot: ``receipt = base32(HMAC-SHA256(receipt_secret, ballot_key))[:16]``. Only
  the authority (holder of ``receipt.key``) can link a receipt to a ballot key; the
  public sees an opaque id. The same vote sent twice gives the same receipt.
* Paper ballot: the ballot carries a random *ballot serial* printed on a tear-off stub the
  voter keeps; ``receipt = base32(SHA-256("pbcount-paper-receipt-v1" || serial))[:16]``.
  It derives from the stub, not from the voter token, so a voter can compute it and the
  public cannot link it to a voter.

A receipt id is ``R`` or ``P`` followed by 15 Crockford base32 symbols (:data:`RECEIPT_RE`).
The stub prints the serial as ``N° XXXX-XXXX-XXXX-XXXX-C`` (``C``: Crockford's mod-37 check
symbol). :func:`parse_stub` accepts exactly what is printed, or any usual retyping of it
(without ``N°``, dashes or spaces, lower case, ``O``/``I``/``L`` for ``0``/``1``) and refuses
a typo by the check symbol; :func:`parse_receipt_or_stub` takes either kind of number
(the CLI and the results page use it).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from engine.errors import ReceiptInputError
from engine.model import crockford
from engine.model.ids import ReceiptId

RECEIPT_LEN = 16
SERIAL_BYTES = 10  # a ballot serial: 80 random bits (ballot_scan/payload.py), 16 symbols
SERIAL_SYMBOLS = (SERIAL_BYTES * 8 + 4) // 5
RECEIPT_PATTERN = r"[RP][0-9A-HJKMNP-TV-Z]{15}"
RECEIPT_RE = re.compile(RECEIPT_PATTERN)
# "N°", "Nº", "No", "N.", "#" before the number, as printed or as people retype it
_STUB_PREFIX = re.compile(r"^\s*(?:N\s*[°º.:]|NO(?=[\s.:])\.?|#)\s*", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-‐‑–—_.]+")


def online_receipt_id(receipt_secret: bytes, ballot_key: str) -> ReceiptId:
    """Receipt of an online ballot: ``R`` + 15 symbols of HMAC-SHA256(secret, ballot key)."""
    digest = hmac.new(receipt_secret, ballot_key.encode(), hashlib.sha256).digest()
    return ReceiptId("R" + crockford.encode_bytes(digest[:10])[: RECEIPT_LEN - 1])


def paper_receipt_id(ballot_serial: str) -> ReceiptId:
    """Receipt of a paper ballot from its ballot serial (16 symbols, as in the QR code; a
    printed stub number is accepted too, see :func:`parse_stub`). Raises ReceiptInputError."""
    serial = parse_stub(ballot_serial)
    digest = hashlib.sha256(b"pbcount-paper-receipt-v1" + serial.encode())
    return ReceiptId("P" + crockford.encode_bytes(digest.digest()[:10])[: RECEIPT_LEN - 1])


def _clean(text: str) -> tuple[str, bool]:
    """(symbols upper-cased without separators, whether a ``N°``-like prefix was there)."""
    m = _STUB_PREFIX.match(text)
    rest = text[m.end():] if m else text
    return _SEPARATORS.sub("", rest).upper(), m is not None


def parse_stub(text: str) -> str:
    """The canonical ballot serial (16 symbols) from a stub number as printed or retyped.

    17 symbols: the serial and its check symbol, which must match (a typo is refused with
    ``code == "check_mismatch"``); 16 symbols: the bare serial (as in ``ballots.csv``),
    which no check protects. Raises :class:`~engine.errors.ReceiptInputError`. O(len).
    """
    cleaned, _ = _clean(text)
    if len(cleaned) not in (SERIAL_SYMBOLS, SERIAL_SYMBOLS + 1):
        raise ReceiptInputError(
            "length", f"{text.strip()[:40]!r}: a stub number has 17 symbols (16 and a check symbol, "
            f"as printed: N° XXXX-XXXX-XXXX-XXXX-C); got {len(cleaned)}")
    body, check = cleaned[:SERIAL_SYMBOLS], cleaned[SERIAL_SYMBOLS:]
    try:
        raw = crockford.decode_bytes(body, SERIAL_BYTES)
    except ValueError as exc:
        raise ReceiptInputError("symbol", f"{text.strip()[:40]!r}: {exc} (not a stub number)") from None
    if check and crockford.check_symbol(raw) != crockford.fold_symbol(check):
        raise ReceiptInputError(
            "check_mismatch", f"{text.strip()[:40]!r}: the check symbol (last character) does not match: "
            "a character is mistyped; compare with the stub")
    return crockford.encode_bytes(raw)


def receipt_from_stub(text: str) -> ReceiptId:
    """The paper receipt id from the number printed on the stub (:func:`parse_stub`)."""
    return paper_receipt_id(parse_stub(text))


def parse_receipt_or_stub(text: str) -> ReceiptId:
    """A receipt id from what a voter typed: a receipt id (``R``/``P`` + 15 symbols, any case,
    with or without dashes or spaces, ``O``/``I``/``L`` folded) or a stub number.

    16 symbols starting with R or P without a ``N°`` prefix are a receipt id; anything else is
    read as a stub number. Raises :class:`~engine.errors.ReceiptInputError`.
    """
    cleaned, prefixed = _clean(text)
    if not prefixed and len(cleaned) == RECEIPT_LEN and cleaned[0] in "RP":
        rid = cleaned[0] + "".join(crockford.fold_symbol(c) for c in cleaned[1:])
        if RECEIPT_RE.fullmatch(rid):
            return ReceiptId(rid)
        raise ReceiptInputError("symbol", f"{text.strip()[:40]!r}: a receipt id is R or P and 15 base32 symbols")
    if len(cleaned) not in (SERIAL_SYMBOLS, SERIAL_SYMBOLS + 1):
        raise ReceiptInputError(
            "length", f"{text.strip()[:40]!r}: a receipt id has 16 characters (R… or P…) and a stub number "
            "17 (N° XXXX-XXXX-XXXX-XXXX-C)")
    return receipt_from_stub(text)

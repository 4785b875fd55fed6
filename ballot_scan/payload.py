"""The QR payload of a paper ballot page, and ballot serials.

Format (QR alphanumeric-mode characters only, so the symbol stays small)::

    PBB1/<ENVELOPE CODE>/<page>/<pages>/<BALLOT SERIAL>/<VOTER TOKEN | SPECIMEN>

* ``BALLOT SERIAL``: 16 Crockford base32 symbols (80 random bits) — the same serial is
  printed with its check symbol on the tear-off stub the voter keeps; the paper receipt
  id derives from it (:func:`engine.model.receipts.paper_receipt_id`).
* ``VOTER TOKEN``: the signed token text (``PB1-…``, :mod:`engine.model.tokens`); a template
  ballot printed without tokens carries ``SPECIMEN`` and is never counted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from engine.model import crockford
from engine.model.tokens import SERIAL_BYTES, short_code

PAYLOAD_PREFIX = "PBB1"
SPECIMEN = "SPECIMEN"
_PAYLOAD = re.compile(r"PBB1/([A-Z0-9]{1,16})/(\d{1,3})/(\d{1,3})/([0-9A-HJKMNP-TV-Z]{16})/(\S+)")  # Crockford serial


@dataclass(frozen=True)
class PagePayload:
    """What a page's QR code carries: envelope code, page of pages, the ballot serial and the
    voter token (or ``SPECIMEN``).
    """

    envelope_code: str
    page: int
    pages: int
    ballot_serial: str  # 16 Crockford symbols, no check symbol
    token: str  # token text or SPECIMEN

    def text(self) -> str:
        """The QR text: ``<prefix>/<envelope code>/<page>/<pages>/<serial>/<token>``."""
        return (
            f"{PAYLOAD_PREFIX}/{self.envelope_code}/{self.page}/{self.pages}/"
            f"{self.ballot_serial}/{self.token}"
        )


def parse_payload(text: str) -> PagePayload | None:
    """Parse a decoded QR text; ``None`` when it is not a pbcount ballot payload."""
    m = _PAYLOAD.fullmatch(text.strip())
    if m is None:
        return None
    page, pages = int(m.group(2)), int(m.group(3))
    if not 1 <= page <= pages:
        return None
    return PagePayload(m.group(1), page, pages, m.group(4), m.group(5))


def new_ballot_serial(rng_bytes: bytes | None = None) -> str:
    """A fresh ballot serial: ``SERIAL_BYTES`` random bytes (or ``rng_bytes``) in Crockford base32."""
    raw = rng_bytes if rng_bytes is not None else os.urandom(SERIAL_BYTES)
    return crockford.encode_bytes(raw)


def serial_with_check(ballot_serial: str) -> str:
    """``XXXX-XXXX-XXXX-XXXX-C``: the printed form of a ballot serial (stub and page)."""
    return short_code(crockford.decode_bytes(ballot_serial, SERIAL_BYTES))

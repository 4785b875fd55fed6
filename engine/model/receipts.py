"""Receipt ids: what a voter keeps to find their ballot in the published bundle.

* Online ballot: ``receipt = base32(HMAC-SHA256(receipt_secret, ballot_key))[:16]``. Only
  the authority (holder of ``receipt.key``) can link a receipt to a ballot key; the
  public sees an opaque id. The same vote sent twice gives the same receipt.
* Paper ballot: the ballot carries a random *ballot serial* printed on a tear-off stub the
  voter keeps; ``receipt = base32(SHA-256("pbcount-paper-receipt-v1" || serial))[:16]``.
  It derives from the stub, not from the voter token, so a voter can compute it and the
  public cannot link it to a voter.
"""

from __future__ import annotations

import hashlib
import hmac

from engine.model import crockford

RECEIPT_LEN = 16


def online_receipt_id(receipt_secret: bytes, ballot_key: str) -> str:
    digest = hmac.new(receipt_secret, ballot_key.encode(), hashlib.sha256).digest()
    return "R" + crockford.encode_bytes(digest[:10])[: RECEIPT_LEN - 1]


def paper_receipt_id(ballot_serial: str) -> str:
    digest = hashlib.sha256(b"pbcount-paper-receipt-v1" + crockford.normalise(ballot_serial).encode())
    return "P" + crockford.encode_bytes(digest.digest()[:10])[: RECEIPT_LEN - 1]

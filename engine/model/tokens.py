"""Signed voter tokens.

A token binds an election to a random voter serial, signed by the election
authority's Ed25519 key. Verification needs only the authority's public key.

Binary layout (83 bytes)::

    version  (1 byte, 0x01)
    election tag (8 bytes)  = SHA-256(election_id)[:8]
    serial  (10 bytes)      = 80 random bits, one per voter
    signature (64 bytes)    = Ed25519(authority key, "pbcount-token-v1" || election_id || 0x00 || serial)

Text form: ``PB1-`` followed by the 83 bytes in Crockford base32 (133 symbols). The
alphabet is QR-code alphanumeric, so a QR code carries it compactly.

Short code (printed on paper ballots for humans and OCR): the 16-symbol Crockford
base32 serial plus its mod-37 check symbol, grouped ``XXXX-XXXX-XXXX-XXXX-C``. The short
code identifies a voter serial but carries no signature: it is only accepted against
the authority's register of issued tokens.

Verification uses libsodium (PyNaCl ``crypto_sign_open``, ~2x faster than
``cryptography``'s Ed25519 here); keys are still made, stored and loaded with
``cryptography`` (an Ed25519 public key is the same 32 raw bytes for both), and the
stand-alone verifier keeps ``cryptography`` only. Strictness: a token is accepted only if
*both* libraries would accept it. libsodium is the stricter of the two on every edge case
tested (``tests/unit/test_tokens_libsodium.py``): both reject ``S >= L`` and bit flips;
libsodium also rejects a small-order ``R`` (the identity, with ``S`` solving the
equation), keys of small order (the all-zero key among them) and non-canonical key
encodings (``y + p``, ``x = 0`` with the sign bit), all of which OpenSSL (behind
``cryptography``) accepts when the cofactorless equation holds; keys with a torsion
component are accepted or rejected alike by both. No case was found that libsodium
accepts and ``cryptography`` rejects, so libsodium's answer alone is the strict answer
(the test checks that direction on every run).

Rejection reasons (``TokenError.reason``): ``token_malformed`` (not a token text),
``token_truncated`` (right prefix, wrong length), ``token_bad_version``,
``token_foreign_election`` (made for another election), ``token_bad_signature``
(tampered, or signed by another key).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from engine.errors import TokenError
from engine.model import crockford

TOKEN_PREFIX = "PB1-"
VERSION = 1
SERIAL_BYTES = 10
TAG_BYTES = 8
SIG_BYTES = 64
TOKEN_BYTES = 1 + TAG_BYTES + SERIAL_BYTES + SIG_BYTES
TOKEN_TEXT_LEN = len(TOKEN_PREFIX) + (TOKEN_BYTES * 8 + 4) // 5
SERIAL_TEXT_LEN = (SERIAL_BYTES * 8 + 4) // 5


def election_tag(election_id: str) -> bytes:
    """The first ``TAG_BYTES`` of SHA-256 of the election id, carried in every token so that a
    token of another election is recognised as such.
    """
    return hashlib.sha256(election_id.encode()).digest()[:TAG_BYTES]


def _signed_message(election_id: str, serial: bytes) -> bytes:
    return b"pbcount-token-v1" + election_id.encode() + b"\x00" + serial


@dataclass(frozen=True)
class VoterToken:
    """A decoded, verified token."""

    election_id: str
    serial: bytes
    text: str

    @property
    def serial_text(self) -> str:
        """The serial in Crockford base32 (16 symbols): the voter's stable identifier."""
        return crockford.encode_bytes(self.serial)

    @property
    def short_code(self) -> str:
        """The printable short code of this token's serial (:func:`short_code`)."""
        return short_code(self.serial)


def short_code(serial: bytes) -> str:
    """Printable ``XXXX-XXXX-XXXX-XXXX-C`` code for a serial (check symbol last)."""
    return crockford.group(crockford.encode_bytes(serial)) + "-" + crockford.check_symbol(serial)


def parse_short_code(code: str) -> bytes:
    """Decode a short code and validate its check symbol; returns the serial bytes.

    Raises ``TokenError('short_code_invalid', ...)`` on a bad symbol, length or check.
    """
    cleaned = crockford.normalise(code)
    if len(cleaned) != SERIAL_TEXT_LEN + 1:
        raise TokenError(
            "short_code_invalid",
            f"short code must have {SERIAL_TEXT_LEN} symbols and a check symbol",
        )
    body, check = cleaned[:-1], crockford.fold_symbol(cleaned[-1])
    try:
        serial = crockford.decode_bytes(body, SERIAL_BYTES)
    except ValueError as exc:
        raise TokenError("short_code_invalid", f"short code: {exc}") from exc
    if crockford.check_symbol(serial) != check:
        raise TokenError("short_code_invalid", "short code check symbol does not match")
    return serial


def issue_token(private_key: Ed25519PrivateKey, election_id: str, serial: bytes | None = None) -> str:
    """Make a token text for ``election_id``; a random serial unless one is given."""
    if serial is None:
        serial = os.urandom(SERIAL_BYTES)
    if len(serial) != SERIAL_BYTES:
        raise ValueError(f"serial must be {SERIAL_BYTES} bytes")
    sig = private_key.sign(_signed_message(election_id, serial))
    raw = bytes([VERSION]) + election_tag(election_id) + serial + sig
    return TOKEN_PREFIX + crockford.encode_bytes(raw)


class TokenVerifier:
    """Verifies token texts for one election with the authority's public key.

    The signature check is libsodium's (see the module docstring): O(1), ~50-80 µs here.
    """

    def __init__(self, public_key: Ed25519PublicKey, election_id: str) -> None:
        self.public_key = public_key
        self._raw_key = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.election_id = election_id
        self._tag = election_tag(election_id)
        self._message_prefix = _signed_message(election_id, b"")  # + serial = the signed message

    def verify(self, text: object) -> VoterToken:
        """Return the verified token or raise :class:`TokenError` with its reason."""
        if not isinstance(text, str) or not text.upper().startswith(TOKEN_PREFIX):
            raise TokenError("token_malformed", f"a token starts with {TOKEN_PREFIX!r}")
        body = crockford.normalise(text.strip()[len(TOKEN_PREFIX) :])
        expected = TOKEN_TEXT_LEN - len(TOKEN_PREFIX)
        if len(body) != expected:
            raise TokenError("token_truncated", f"token has {len(body)} symbols, expected {expected}")
        try:
            raw = crockford.decode_bytes(body, TOKEN_BYTES)
        except ValueError as exc:
            raise TokenError("token_malformed", f"token text: {exc}") from exc
        if raw[0] != VERSION:
            raise TokenError("token_bad_version", f"unknown token version {raw[0]}")
        tag = raw[1 : 1 + TAG_BYTES]
        serial = raw[1 + TAG_BYTES : 1 + TAG_BYTES + SERIAL_BYTES]
        sig = raw[1 + TAG_BYTES + SERIAL_BYTES :]
        if tag != self._tag:
            raise TokenError("token_foreign_election", "token was made for another election")
        try:
            crypto_sign_open(sig + self._message_prefix + serial, self._raw_key)
        except BadSignatureError as exc:
            raise TokenError(
                "token_bad_signature", "token signature invalid (tampered or another key)"
            ) from exc
        return VoterToken(self.election_id, serial, TOKEN_PREFIX + body)

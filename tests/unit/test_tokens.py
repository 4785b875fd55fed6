"""Voter tokens: round trip, every rejection reason, short codes, Crockford base32."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import TokenError
from engine.model import crockford
from engine.model.tokens import (
    TOKEN_PREFIX,
    TOKEN_TEXT_LEN,
    TokenVerifier,
    issue_token,
    parse_short_code,
    short_code,
)

KEY = Ed25519PrivateKey.generate()
VERIFIER = TokenVerifier(KEY.public_key(), "paris-2026")


def reason_of(text: object, verifier: TokenVerifier = VERIFIER) -> str:
    with pytest.raises(TokenError) as exc:
        verifier.verify(text)
    return exc.value.reason


def test_round_trip_gives_serial_and_short_code() -> None:
    serial = bytes(range(10))
    text = issue_token(KEY, "paris-2026", serial)
    assert text.startswith(TOKEN_PREFIX) and len(text) == TOKEN_TEXT_LEN
    tok = VERIFIER.verify(text)
    assert tok.serial == serial
    assert tok.election_id == "paris-2026"
    assert parse_short_code(tok.short_code) == serial
    assert tok.serial_text == crockford.encode_bytes(serial)


def test_token_is_qr_alphanumeric() -> None:
    text = issue_token(KEY, "paris-2026")
    allowed = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert set(text) <= allowed


def test_lowercase_token_still_verifies() -> None:
    text = issue_token(KEY, "paris-2026")
    assert VERIFIER.verify(text.lower()).serial == VERIFIER.verify(text).serial


def test_tampered_signature_symbol_rejected() -> None:
    text = issue_token(KEY, "paris-2026")
    pos = len(text) - 5
    tampered = text[:pos] + ("A" if text[pos] != "A" else "B") + text[pos + 1 :]
    assert reason_of(tampered) == "token_bad_signature"


def test_tampered_serial_rejected() -> None:
    text = issue_token(KEY, "paris-2026", bytes(10))
    pos = len(TOKEN_PREFIX) + 20  # inside the serial
    tampered = text[:pos] + ("1" if text[pos] != "1" else "2") + text[pos + 1 :]
    assert reason_of(tampered) == "token_bad_signature"


def test_other_key_rejected() -> None:
    other = Ed25519PrivateKey.generate()
    assert reason_of(issue_token(other, "paris-2026")) == "token_bad_signature"


def test_foreign_election_rejected() -> None:
    assert reason_of(issue_token(KEY, "lyon-2026")) == "token_foreign_election"


@pytest.mark.parametrize("cut", [1, 10, 60, 132])
def test_truncated_rejected(cut: int) -> None:
    text = issue_token(KEY, "paris-2026")
    assert reason_of(text[: len(TOKEN_PREFIX) + cut]) == "token_truncated"


@pytest.mark.parametrize("bad", [None, 42, "", "hello", "PB2-ABC"])
def test_not_a_token(bad: object) -> None:
    assert reason_of(bad) == "token_malformed"


def test_invalid_symbol_is_malformed() -> None:
    text = issue_token(KEY, "paris-2026")
    assert reason_of(text[:-1] + "U") == "token_malformed"


def test_wrong_version_rejected() -> None:
    text = issue_token(KEY, "paris-2026")
    raw = bytearray(crockford.decode_bytes(text[len(TOKEN_PREFIX) :], 83))
    raw[0] = 2
    assert reason_of(TOKEN_PREFIX + crockford.encode_bytes(bytes(raw))) == "token_bad_version"


def test_short_code_check_symbol_catches_a_typo() -> None:
    code = short_code(bytes(range(10)))
    assert len(code) == 16 + 3 + 2
    i = 2
    typo = code[:i] + ("7" if code[i] != "7" else "8") + code[i + 1 :]
    with pytest.raises(TokenError) as exc:
        parse_short_code(typo)
    assert exc.value.reason == "short_code_invalid"


def test_short_code_accepts_ocr_confusions() -> None:
    serial = bytes(10)  # all zeros -> "0000-..." ; O and o read as 0
    code = short_code(serial)
    assert parse_short_code(code.replace("0", "O")) == serial


@given(st.binary(min_size=0, max_size=100))
def test_crockford_round_trip(data: bytes) -> None:
    assert crockford.decode_bytes(crockford.encode_bytes(data), len(data)) == data


@given(st.binary(min_size=10, max_size=10))
def test_check_symbol_detects_single_substitution(serial: bytes) -> None:
    code = short_code(serial)
    body = code.replace("-", "")
    i = int.from_bytes(os.urandom(1), "big") % 16
    repl = "X" if body[i] != "X" else "Y"
    typo = body[:i] + repl + body[i + 1 :]
    with pytest.raises(TokenError):
        parse_short_code(typo)


def test_padding_bits_must_be_zero() -> None:
    """The last symbol carries one padding bit: flipping it must not give a second valid text."""
    text = issue_token(KEY, "paris-2026")
    last = crockford.ALPHABET.index(text[-1])
    twin = text[:-1] + crockford.ALPHABET[last ^ 1]
    assert reason_of(twin) == "token_malformed"

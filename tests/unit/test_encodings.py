"""The fast encoders of the ingest hot path equal their standard-library definitions."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model.ballots import normalise_cast_time
from engine.model.crockford import ALPHABET, decode_bytes, encode_bytes

RFC_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64))
def test_crockford_encode_equals_base32_reference(data: bytes) -> None:
    text = encode_bytes(data)
    assert text == base64.b32encode(data).decode("ascii").rstrip("=").translate(RFC_TO_CROCKFORD)
    assert decode_bytes(text, len(data)) == data


def test_crockford_known_vectors() -> None:
    assert encode_bytes(b"") == ""
    assert encode_bytes(b"\x00" * 10) == "0" * 16
    assert encode_bytes(b"\xff" * 10) == "Z" * 16
    assert encode_bytes(b"f") == "CR"  # RFC 4648: BASE32("f") = "MY======"; M, Y are symbols 12, 24
    # RFC 4648 §10: BASE32("foobar") = "MZXW6YTBOI======"; in Crockford's alphabet:
    assert encode_bytes(b"foobar") == "CSQPYRK1E8"


@settings(max_examples=500, deadline=None)
@given(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30)),
       st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_cast_time_equals_strftime_form(moment: datetime, offset_minutes: int) -> None:
    tz = timezone(timedelta(minutes=offset_minutes))
    text = moment.replace(tzinfo=tz).isoformat()
    expected = moment.replace(tzinfo=tz).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert normalise_cast_time(text) == expected
    assert normalise_cast_time(text.replace("+00:00", "Z")) == expected

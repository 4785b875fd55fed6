"""The msgspec fast path of the e-vote grammar agrees with the reference parser (issue 14.2).

``fast_parse`` may only answer for lines the reference parser accepts, and must then give
the very same Submission; on anything else it must hand over (``None``), so that
``parse_evote_line`` keeps every rejection reason of ``parse_evote_line_reference``.
Checked on generated well-formed lines, on byte-level mutations of them (duplicated keys,
unknown keys, escapes, cut lines, bounds one past the limit, non-ASCII ids) and on
hand-picked lines that defeat a naive duplicate check.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.formats.evote import (
    MAX_ENVELOPES,
    MAX_ID_CHARS,
    MAX_PROJECTS_PER_ENVELOPE,
    fast_parse,
    parse_evote_line,
    parse_evote_line_reference,
)
from engine.model.ballots import SourceRef, Submission

SRC = SourceRef("votes.jsonl", 7)

_chars = st.sampled_from(list("abcXYZ019-_: é€\u00a0\\\"{}[],") + ["\U0001f600"])
ids = st.text(_chars, min_size=0, max_size=6) | st.text(st.just("a"), min_size=MAX_ID_CHARS,
                                                        max_size=MAX_ID_CHARS + 1)
docs = st.fixed_dictionaries({
    "token": st.sampled_from(["PB1-ABC", " PB1-ABC ", "", "x" * 300, "x" * 301, "a:b"]),
    "cast_at": st.sampled_from(["2026-05-03T10:15:00Z", "2026-05-03T10:15:00+02:00", "", "x" * 65, "::"]),
    "selections": st.dictionaries(ids, st.lists(ids, max_size=4), max_size=4),
})


def _check(raw: str | bytes) -> None:
    ref = parse_evote_line_reference(raw, SRC)
    fast = fast_parse(raw, SRC)
    if fast is not None:
        assert isinstance(ref, Submission), (raw, ref)
        assert fast == ref
        assert list(fast.selections) == list(ref.selections)  # same envelope order
    assert parse_evote_line(raw, SRC) == ref


@settings(max_examples=400, deadline=None)
@given(docs, st.booleans())
def test_generated_lines_agree(doc: dict[str, object], ascii_only: bool) -> None:
    text = json.dumps(doc, ensure_ascii=ascii_only)
    _check(text)
    _check(text.encode())


@settings(max_examples=600, deadline=None)
@given(docs, st.data())
def test_mutated_lines_agree(doc: dict[str, object], data: st.DataObject) -> None:
    raw = bytearray(json.dumps(doc, ensure_ascii=False).encode())
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["insert", "delete", "replace", "dup_key"]))
        i = data.draw(st.integers(0, len(raw)))
        if op == "insert":
            raw[i:i] = data.draw(st.sampled_from([b":", b",", b'"', b"\\", b'"token":"x",', b'"a":[],',
                                                  b"\xff", b"\xef\xbb\xbf", b"{", b"}", b" ", b"\r"]))
        elif op == "delete":
            del raw[i:i + data.draw(st.integers(1, 4))]
        elif op == "replace" and i < len(raw):
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "dup_key":
            j = raw.find(b"{", 1)
            if j > 0:
                raw[j + 1:j + 1] = b'"dup":["p"],"dup":["q"],'
    _check(bytes(raw))


def test_duplicates_that_a_naive_check_would_miss() -> None:
    base = {"token": "PB1-A", "cast_at": "2026-05-03T10:15:00Z", "selections": {"e": ["p"]}}
    good = json.dumps(base)
    assert isinstance(fast_parse(good, SRC), Submission)
    cases = [
        good[:-1] + ', "cast_at": "2026-05-03T10:15:00Z"}',  # a top-level key twice
        good.replace('{"e": ["p"]}', '{"e": ["p"], "e": ["q"]}'),  # an envelope twice
        # the dropped pair's colon hidden by an escaped colon in the kept value:
        good.replace('"selections"', '"cast_at": "x", "selections"').replace("10:15:00Z", "10\\u003a15:00Z"),
        good.replace('"e"', '"e\\u003a"'),  # an escaped colon in an envelope id
    ]
    for raw in cases:
        assert fast_parse(raw, SRC) is None, raw
        _check(raw)
    assert parse_evote_line(cases[0], SRC).reason == "duplicate_key"  # type: ignore[union-attr]
    assert parse_evote_line(cases[1], SRC).reason == "duplicate_key"  # type: ignore[union-attr]


def test_bounds_fall_back_to_the_reference_reasons() -> None:
    def doc(sel: object) -> str:
        return json.dumps({"token": "PB1-A", "cast_at": "2026-05-03T10:15:00Z", "selections": sel}, ensure_ascii=False)

    over = [doc({f"e{i}": ["p"] for i in range(MAX_ENVELOPES + 1)}),
            doc({"e": ["p"] * (MAX_PROJECTS_PER_ENVELOPE + 1)}),
            doc({"e": ["é" * (MAX_ID_CHARS + 1)]}), doc({"": ["p"]}), doc({"e": [""]}), doc({"e": [1]})]
    for raw in over:
        assert fast_parse(raw, SRC) is None
        res = parse_evote_line(raw, SRC)
        assert res == parse_evote_line_reference(raw, SRC)
        assert res.reason == "missing_field"  # type: ignore[union-attr]
    at_limit = doc({"e": ["é" * MAX_ID_CHARS] * MAX_PROJECTS_PER_ENVELOPE})
    assert fast_parse(at_limit, SRC) == parse_evote_line_reference(at_limit, SRC)


def test_each_distinct_token_is_verified_once_per_batch() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from engine.errors import TokenError
    from engine.model.tokens import TokenVerifier, issue_token
    from engine.services.ingest import BatchVerifier

    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    inner = TokenVerifier(key.public_key(), "e1")
    calls: list[object] = []
    real = inner.verify
    bv = BatchVerifier(inner)
    inner.verify = lambda t: (calls.append(t), real(t))[1]  # type: ignore[method-assign]
    good = issue_token(key, "e1", bytes(10))
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    for _ in range(3):
        assert bv.verify(good) == real(good)
        try:
            bv.verify(bad)
            raise AssertionError("a forged token passed")
        except TokenError as exc:
            assert exc.reason == "token_bad_signature"
    assert calls == [good, bad]

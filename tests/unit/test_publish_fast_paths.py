"""The fast paths of publishing agree with their references (issue 14 item 5).

* ``decode_selections`` (msgspec into nested tuples) == ``decode_selections_reference``
  (``json.loads``) on every text ``encode_selections`` writes, and on stored texts that use
  escapes msgspec refuses (lone surrogates);
* ``count_line`` (selections encoded by msgspec) == the canonical JSON of ``count_entry``
  and ``selections_json`` == ``selections_json_reference``, for generated ids with quotes,
  backslashes, control characters, non-ASCII, U+2028, unsorted and repeated envelopes;
* ``check_ballot_keys`` refuses a ballot whose content was changed;
* publishing and verifying pause the cyclic garbage collector and restore it as it was.
"""

from __future__ import annotations

import gc
import json
import re
import typing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import PublishError
from engine.formats.ballot_log import count_entry, count_line, is_plain, selections_json, selections_json_reference
from engine.formats.election_canonical import canonical_json
from engine.model.ballots import Ballot, Channel, Selections, SourceRef, ballot_key
from engine.model.ids import ReceiptId
from engine.services.publish import check_ballot_keys, gc_paused
from engine.storage.ballot_store import decode_selections, decode_selections_reference, encode_selections

_chars = st.sampled_from(
    list("abcXYZ019-_: é€\u00a0\\\"{}[],/\x00\x1f\x7f\n\t\b\f\u2028\u2029") + ["\U0001f600", "\ufeff"])
_ids = st.text(_chars, min_size=1, max_size=8)
_selections = st.lists(st.tuples(_ids, st.lists(_ids, max_size=4).map(tuple)), max_size=4).map(tuple)


def _ballot(selections: Selections, channel: Channel = Channel.ONLINE, receipt: str = "R1") -> Ballot:
    image = "ab" * 32 if channel is Channel.PAPER else None
    key = ballot_key(channel, "V1", "2026-09-07T10:00:00.000000Z", selections, image)
    return Ballot(key, "V1", channel, "2026-09-07T10:00:00.000000Z", selections, SourceRef("t", 1), image,
                  None, ReceiptId(receipt))


@settings(max_examples=400, deadline=None)
@given(_selections)
def test_fast_decode_equals_reference_decode(sel: Selections) -> None:
    text = encode_selections(sel)
    decoded = decode_selections(text)
    assert decoded == decode_selections_reference(text) == sel
    assert all(type(p) is tuple for _, p in decoded) and type(decoded) is tuple


def test_decode_falls_back_on_text_msgspec_refuses() -> None:
    text = '[["e\\ud800",["p"]]]'  # escaped lone surrogate: json.loads takes it
    assert decode_selections(text) == decode_selections_reference(text) == (("e\ud800", ("p",)),)
    with pytest.raises(json.JSONDecodeError):
        decode_selections("[[")


@settings(max_examples=400, deadline=None)
@given(_selections, st.sampled_from([Channel.ONLINE, Channel.PAPER]))
def test_fast_selections_json_equals_reference(sel: Selections, channel: Channel) -> None:
    b = _ballot(sel, channel)
    assert selections_json(b) == selections_json_reference(b)
    entry_sel = json.loads(count_line(b, 2))["selections"]
    assert entry_sel == {e: list(p) for e, p in sel}  # json.loads keeps the last of a repeated key, like this


@settings(max_examples=200, deadline=None)
@given(_selections.map(lambda s: tuple(sorted(dict(s).items()))), st.sampled_from([Channel.ONLINE, Channel.PAPER]))
def test_count_line_is_canonical_json_of_the_entry_for_unusual_ids(sel: Selections, channel: Channel) -> None:
    b = _ballot(sel, channel)
    assert count_line(b, 5) == canonical_json(count_entry(b, 5))


def test_selections_json_keeps_a_repeated_envelope_and_a_lone_surrogate_like_the_reference() -> None:
    repeated = typing.cast(Selections, (("e", ("a",)), ("e", ("b",))))
    assert selections_json(_ballot(repeated)) == '{"e":["a"],"e":["b"]}'
    surrogate = Ballot("k", "V1", Channel.ONLINE, "", typing.cast(Selections, (("e\ud800", ("a",)),)),
                       SourceRef("t", 1), receipt_id=ReceiptId("R1"))  # no ballot key: it cannot be UTF-8 encoded
    assert selections_json(surrogate) == selections_json_reference(surrogate) == '{"e\ud800":["a"]}'


def test_check_ballot_keys_refuses_changed_content() -> None:
    sel = typing.cast(Selections, (("paris", ("p1", "p2")),))
    good = _ballot(sel)
    check_ballot_keys([good, _ballot(sel, Channel.PAPER)])
    changed = Ballot(good.ballot_key, good.voter_serial, good.channel, good.cast_at,
                     typing.cast(Selections, (("paris", ("p1",)),)), good.source, None, None, good.receipt_id)
    with pytest.raises(PublishError, match="does not match its ballot key"):
        check_ballot_keys([good, changed])


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("aZ09_-é ²\u0660\uff10\"") + ["\U0001d7ce"]), max_size=5))
def test_is_plain_is_the_ascii_alphanumeric_regex(text: str) -> None:
    assert is_plain(text) == (re.fullmatch(r"[0-9A-Za-z]+", text) is not None)


def test_gc_paused_restores_the_collector_as_it_was() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # was off: stays off
    finally:
        gc.enable()


def test_verify_bundle_restores_the_collector_even_when_it_fails(tmp_path: Path) -> None:
    from engine.verifier import VerificationFailure, verify_bundle

    assert gc.isenabled()
    with pytest.raises(VerificationFailure):
        verify_bundle(tmp_path / "missing")
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(VerificationFailure):
            verify_bundle(tmp_path / "missing")
        assert not gc.isenabled()
    finally:
        gc.enable()

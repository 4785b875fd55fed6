"""Store.commit_chunk reports exactly what it inserted, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from engine.model.ballots import Ballot, Channel, SourceRef, ballot_key
from engine.storage import Store


def paper(serial: str, image: str, receipt: str) -> Ballot:
    sel = (("env", ("P1",)),)
    return Ballot(ballot_key(Channel.PAPER, serial, "", sel, image), serial, Channel.PAPER, "", sel,
                  SourceRef(f"{image}.png", 1), image, "S" * 16, receipt)


def test_receipt_conflict_is_not_reported_as_inserted(store_url: str) -> None:
    store = Store.open(store_url)
    first = paper("VOTER0000000000A", "a" * 64, "PRECEIPT000000001")
    again_other_image = paper("VOTER0000000000A", "b" * 64, "PRECEIPT000000001")
    assert first.ballot_key != again_other_image.ballot_key
    out1 = store.commit_chunk(None, "x" * 64, [first])
    assert (out1.inserted, out1.inserted_keys) == (1, frozenset({first.ballot_key}))
    out2 = store.commit_chunk(None, "y" * 64, [again_other_image, replace(first)])
    assert out2.inserted == 0 and out2.inserted_keys == frozenset()
    assert out2.already_known == 2
    assert store.ballot_count() == 1

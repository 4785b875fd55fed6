"""A stored ballot cannot be rewritten silently (issue 13.6).

Publication recomputes each ballot's key from its content and refuses a mismatch; a
``corrected`` withdrawal (same receipt, other content) needs a recorded adjudication
decision naming that receipt, which the ``publish`` audit entry names and the verifier
checks.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from helpers.bundle_world import World, add_paper_ballots, canonical, make_world, resign
from sqlalchemy import update

from engine.errors import PublishError
from engine.model.ballots import Ballot, Channel, ballot_key
from engine.storage.schema import ballots
from engine.storage.store import encode_selections
from engine.verifier import VerificationFailure, verify_bundle


@pytest.fixture
def world(small_paris: Path, tmp_path: Path) -> World:
    w = make_world(small_paris, tmp_path / "world")
    add_paper_ballots(w, 5)
    w.publish("pub1")
    return w


def _counted_paper(world: World) -> Ballot:
    store = world.store()
    try:
        return next(b for b in store.iter_ballots() if b.channel is Channel.PAPER)
    finally:
        store.close()


def _other_selections(world: World, b: Ballot) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Another valid choice in the ballot's first envelope: its projects shifted by one."""
    env, chosen = b.selections[0]
    ids = sorted(p.id for p in world.election.projects_in(env))
    others = [p for p in ids if p not in chosen][: len(chosen)]
    return ((env, tuple(sorted(others))), *b.selections[1:])


def _rewrite(world: World, b: Ballot, *, with_key: bool) -> None:
    sel = _other_selections(world, b)
    values: dict[str, str] = {"selections": encode_selections(sel)}
    if with_key:  # a careful forger recomputes the (unkeyed) ballot key too
        values["ballot_key"] = ballot_key(b.channel, b.voter_serial, b.cast_at, sel, b.image_sha256)
    store = world.store()
    try:
        with store.engine.begin() as conn:
            conn.execute(update(ballots).where(ballots.c.ballot_key == b.ballot_key).values(**values))
    finally:
        store.close()


@pytest.mark.parametrize(("with_key", "refusal"), [
    (False, "receipt {receipt}.*does not match its ballot key"),  # selections edited in the store
    (True, "{receipt}.*no adjudication decision"),  # a correction without an adjudication decision
])
def test_edited_selections_in_the_store_are_refused_at_publication(world: World, with_key: bool,
                                                                   refusal: str) -> None:
    b = _counted_paper(world)
    _rewrite(world, b, with_key=with_key)
    with pytest.raises(PublishError, match=refusal.format(receipt=b.receipt_id)):
        world.publish("pub2")
    store = world.store()
    try:
        assert len(store.publications()) == 1  # nothing recorded
    finally:
        store.close()


def test_a_correction_named_by_an_adjudication_decision_is_published_and_verified(world: World) -> None:
    b = _counted_paper(world)
    _rewrite(world, b, with_key=True)
    store = world.store()
    try:
        decision = store.append_audit("reviewer A", "review_resolved", {
            "review_id": 1, "image_sha256": b.image_sha256, "receipt_id": b.receipt_id, "note": "re-read"})
    finally:
        store.close()
    report, out = world.publish("pub2")
    assert report.new_publication and report.withdrawn == 1
    lines = [json.loads(x) for x in (out / "ballots.jsonl").read_text().splitlines()]
    assert {"op": "withdraw", "pub": 2, "receipt": b.receipt_id, "reason": "corrected"} in lines
    publish = [json.loads(x) for x in (out / "audit.jsonl").read_text().splitlines()][-1]
    assert publish["details"]["corrections"] == [{"receipt": b.receipt_id, "decision": decision.seq}]
    pem = (world.keys / "results.pub").read_bytes()
    verify_bundle(out, key_pem=pem, previous=world.root / "pub1")

    # the verifier: a correction whose decision names another receipt is unexplained
    audit = out / "audit.jsonl"
    entries = [json.loads(x) for x in audit.read_text().splitlines()]
    i = next(k for k, e in enumerate(entries) if e["seq"] == decision.seq)
    entries[i]["details"]["receipt_id"] = "P" + "0" * 15
    prev = entries[i - 1]["entry_hash"]
    for e in entries[i:]:  # a consistent chain again, from the edited entry on
        e["prev_hash"] = prev
        body = {k: e[k] for k in ("seq", "at", "actor", "action", "details", "prev_hash")}
        e["entry_hash"] = prev = hashlib.sha256(canonical(body).encode()).hexdigest()
    audit.write_text("".join(canonical(e) + "\n" for e in entries), encoding="utf-8")
    resign(out, world.results_key())
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(out, key_pem=pem)
    assert (exc.value.file, exc.value.check) == ("audit.jsonl", "correction_unexplained")
    assert b.receipt_id in exc.value.detail


def test_publish_names_unsigned_files_in_the_bundle_directory(world: World) -> None:
    """The verifier refuses a bundle directory holding unsigned files (issue 13.12), so
    publishing into one says which files are in the way."""
    (world.root / "pub1" / "notes.txt").write_text("mine", encoding="utf-8")
    report, _ = world.publish("pub1")
    assert report.unexpected_files == ("notes.txt",)

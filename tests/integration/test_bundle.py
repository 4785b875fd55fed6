"""Publishing the results bundle: contents, determinism, privacy, later publications.

Expected figures come from the fixture's own manifest (what the generator injected), not
from our output; every bundle is also checked by the standalone verifier.
"""

from __future__ import annotations

import contextlib
import csv
import json
from pathlib import Path

import pytest
from helpers.bundle_world import (
    World,
    add_paper_ballots,
    ballot_lines,
    make_world,
    paper_tokens,
    read_json,
)
from sqlalchemy import update

from engine.formats.bundle import (
    BUNDLE_FILES,
    BundleInputs,
    PublishError,
    TreeHead,
    build_bundle,
    check_receipt_proof,
    content_files,
    plan_log_update,
    receipt_proof,
)
from engine.model import merkle
from engine.model.ballots import normalise_cast_time
from engine.model.receipts import paper_receipt_id
from engine.services.count import count_store
from engine.storage.schema import published_log
from engine.verifier import VerificationFailure, verify_bundle
from engine.verifier.archive import ARCHIVE_NAME


@pytest.fixture
def world(small_paris: Path, tmp_path: Path) -> World:
    return make_world(small_paris, tmp_path / "world")


def pinned(world: World) -> bytes:
    return (world.keys / "results.pub").read_bytes()


def test_publish_writes_every_file_and_the_verifier_accepts_it(world: World, small_paris: Path) -> None:
    report, out = world.publish("bundle")
    assert sorted(p.name for p in out.iterdir()) == sorted(BUNDLE_FILES)
    expected = read_json(small_paris / "manifest.json")["expected"]
    assert report.counted == expected["counted"]
    v = verify_bundle(out, key_pem=pinned(world))
    assert (v.publication, v.counted, v.tree_size) == (1, expected["counted"], expected["counted"])
    tally = read_json(out / "tally.json")
    assert tally["ballots"]["total"] == expected["counted"]
    assert tally["superseded"]["by_reason"] == {"superseded_by_later_online": expected["superseded_by_later_online"]}
    assert tally["rejected_total"] == expected["rejected_total"]
    rejected = {json.loads(x)["reason"]: json.loads(x)["count"]
                for x in (out / "rejected.jsonl").read_text().splitlines()}
    assert rejected == expected["rejected"]
    head = read_json(out / "merkle.json")
    assert head["root_hash"] == merkle.root([merkle.leaf_hash(x.encode()) for x in ballot_lines(out)]).hex()


def test_ballot_lines_carry_no_voter_data_and_are_sorted_by_receipt(world: World) -> None:
    _, out = world.publish("bundle")
    lines = ballot_lines(out)
    entries = [json.loads(x) for x in lines]
    assert {frozenset(e) for e in entries} == {frozenset({"op", "pub", "receipt", "channel", "selections"})}
    receipts = [e["receipt"] for e in entries]
    assert receipts == sorted(receipts)
    store = world.store()
    try:
        with store.engine.connect() as conn:
            by_ingestion = list(conn.exec_driver_sql(
                "SELECT receipt_id FROM ballots WHERE status = 'counted' ORDER BY id").scalars())
    finally:
        store.close()
    assert sorted(by_ingestion) == receipts
    assert by_ingestion != receipts  # the published order is not the order of arrival


def test_bundle_contains_no_token_serial_short_code_stub_or_cast_time(world: World, small_paris: Path) -> None:
    paper = add_paper_ballots(world, 30)
    _, out = world.publish("bundle")
    # every file but the verifier archive, which is the verifier's sources (test_verifier_archive.py)
    text = "\n".join((out / name).read_text(encoding="utf-8") for name in BUNDLE_FILES if name != ARCHIVE_NAME)
    needles: set[str] = set()
    for path in (small_paris / "tokens.csv", small_paris / "paper_tokens.csv"):
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                needles |= {row["token"], row["serial"], row["short_code"], row["short_code"].replace("-", "")}
    for line in (small_paris / "evotes.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            cast = json.loads(line).get("cast_at")
        except (json.JSONDecodeError, AttributeError):
            continue
        if isinstance(cast, str) and cast[:4] == "2026":
            needles.add(cast)
            with contextlib.suppress(ValueError):
                needles.add(normalise_cast_time(cast))
    needles |= {stub for _, stub in paper}
    assert len(needles) > 4000
    found = sorted(n for n in needles if n and n in text)
    assert found == []
    voting = world.election.voting  # the declared voting period is public (election.json); no other date
    public = text.replace(voting.opens or "\0", "").replace(voting.closes or "\0", "")
    assert "2026-09" not in public and "2026-10" not in public  # no date of the voting period at all
    # paper ballots are there, with their image hash and the stub-derived receipt
    entries = {json.loads(x)["receipt"]: json.loads(x) for x in ballot_lines(out)}
    for b, stub in paper:
        assert entries[paper_receipt_id(stub)]["image_sha256"] == b.image_sha256


def test_publishing_again_without_changes_gives_a_byte_identical_bundle(world: World) -> None:
    r1, a = world.publish("a")
    r2, b = world.publish("b")
    assert r1.new_publication and not r2.new_publication
    for name in BUNDLE_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    store = world.store()
    try:
        assert len(store.publications()) == 1
    finally:
        store.close()


def test_build_bundle_is_a_pure_function_of_its_inputs(world: World) -> None:
    store = world.store()
    try:
        result = count_store(store, persist=False)
        row = store.election_row()
        assert row is not None
        lines = plan_log_update([], result.dedup.counted, {}, 1)
        head = TreeHead(1, len(lines), merkle.root([merkle.leaf_hash(x.encode()) for x in lines]).hex())
        audit = store.audit_entries()
    finally:
        store.close()
    inputs = BundleInputs(result, row.definition_hash, [], lines, [head], audit)
    one = build_bundle(inputs, world.results_key())
    two = build_bundle(inputs, world.results_key())
    assert one == two
    assert set(one) == set(BUNDLE_FILES)


def test_second_publication_appends_withdrawals_and_paper_ballots(world: World) -> None:
    _, first = world.publish("first")
    n_first = len(ballot_lines(first))
    paper = add_paper_ballots(world, 40)
    overlap = {r["serial"] for r in paper_tokens(world.fixture) if r["also_online"] == "1"}
    also_online = {b.voter_serial for b, _ in paper} & overlap
    assert also_online  # the fixture makes some paper voters vote online too
    report, second = world.publish("second")
    assert report.new_publication and report.head.publication == 2
    lines = ballot_lines(second)
    assert lines[:n_first] == ballot_lines(first)  # append-only
    segment = [json.loads(x) for x in lines[n_first:]]
    withdrawn = [e for e in segment if e["op"] == "withdraw"]
    counted = [e for e in segment if e["op"] == "count"]
    assert len(withdrawn) == len(also_online)
    assert {e["reason"] for e in withdrawn} == {"superseded_by_paper"}
    assert {e["receipt"] for e in counted} == {paper_receipt_id(stub) for _, stub in paper}
    assert all(e["pub"] == 2 for e in segment)
    v = verify_bundle(second, key_pem=pinned(world), previous=first)
    assert v.counted == n_first - len(also_online) + 40
    assert any("earlier publication 1" in n for n in v.notes)
    head = read_json(second / "merkle.json")
    assert head["previous"] == {"publication": 1, "tree_size": n_first,
                                "root_hash": read_json(first / "merkle.json")["root_hash"]}
    proof = [bytes.fromhex(p) for p in head["consistency_proof"]]
    assert merkle.verify_consistency(n_first, len(lines), bytes.fromhex(head["previous"]["root_hash"]),
                                     bytes.fromhex(head["root_hash"]), proof)
    # a paper voter finds their ballot from the stub; an online voter whose vote was
    # superseded sees it withdrawn
    b, stub = paper[0]
    p = receipt_proof(lines, paper_receipt_id(stub))
    assert p["status"] == "counted" and json.loads(p["line"])["image_sha256"] == b.image_sha256
    assert check_receipt_proof(p, head["root_hash"], head["tree_size"]) is None
    w = receipt_proof(lines, withdrawn[0]["receipt"])
    assert w["status"] == "withdrawn in publication 2 (superseded_by_paper)"


def test_publish_refuses_a_store_whose_published_lines_were_rewritten(world: World) -> None:
    world.publish("first")
    store = world.store()
    try:
        with store.engine.begin() as conn:
            line = conn.execute(published_log.select().where(published_log.c.leaf_index == 5)).one().line
            forged = line.replace('"channel":"online"', '"channel":"online" ')
            conn.execute(update(published_log).where(published_log.c.leaf_index == 5).values(line=forged))
    finally:
        store.close()
    add_paper_ballots(world, 5)
    with pytest.raises(PublishError, match="publication 1"):
        world.publish("second")


def test_rewritten_history_fails_verification(world: World) -> None:
    """A forged second publication that changes a ballot of the first one."""
    _, first = world.publish("first")
    add_paper_ballots(world, 10)
    store = world.store()
    try:
        result = count_store(store, persist=False)
        row = store.election_row()
        assert row is not None
        old = store.published_log_lines()
        audit = store.audit_entries()
    finally:
        store.close()
    rewritten = list(old)
    e = json.loads(rewritten[3])
    e2 = json.loads(rewritten[4])
    e["selections"], e2["selections"] = e2["selections"], e["selections"]  # same tally, new history
    rewritten[3], rewritten[4] = (json.dumps(x, sort_keys=True, separators=(",", ":")) for x in (e, e2))
    segment = plan_log_update(rewritten, result.dedup.counted, {}, 2)
    log = rewritten + segment

    def head(pub: int, lines: list[str]) -> TreeHead:
        return TreeHead(pub, len(lines), merkle.root([merkle.leaf_hash(x.encode()) for x in lines]).hex())

    first_head = TreeHead(1, len(old), read_json(first / "merkle.json")["root_hash"])

    def write(name: str, history: list[TreeHead]) -> Path:
        files = build_bundle(BundleInputs(result, row.definition_hash, [], log, history, audit),
                             world.results_key())
        out = world.root / name
        out.mkdir()
        for fname, data in files.items():
            (out / fname).write_bytes(data)
        return out

    # (a) keeping the true first head: the rewritten prefix no longer hashes to it
    a = write("forged-a", [first_head, head(2, log)])
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(a, key_pem=pinned(world))
    assert (exc.value.file, exc.value.check) == ("merkle.json", "history_rewritten")
    # (b) claiming a rewritten first head too: the earlier bundle's signed head exposes it
    b = write("forged-b", [head(1, rewritten), head(2, log)])
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(b, key_pem=pinned(world), previous=first)
    assert (exc.value.file, exc.value.check) == ("merkle.json", "previous_bundle")
    # ... and without the earlier bundle, the audit log's publish entry still names the old head
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(b, key_pem=pinned(world))
    assert (exc.value.file, exc.value.check) == ("audit.jsonl", "publish_entry")


def test_content_files_change_when_a_figure_changes(world: World) -> None:
    store = world.store()
    try:
        result = count_store(store, persist=False)
        row = store.election_row()
    finally:
        store.close()
    assert row is not None
    base = content_files(result, row.definition_hash, [])
    result.rejected_by_reason["token_bad_signature"] = result.rejected_by_reason.get("token_bad_signature", 0) + 1
    changed = content_files(result, row.definition_hash, [])
    # envelopes.csv has no TOTAL row any more: the rejected count lives in tally.json/rejected.jsonl
    # and in summary.csv (in the bundle since issue 17)
    assert {n for n in base if base[n] != changed[n]} == {"tally.json", "rejected.jsonl", "summary.csv"}
    with pytest.raises(PublishError, match="definition hash"):
        content_files(result, "0" * 64, [])


def test_fast_count_line_is_the_canonical_json_of_the_entry(world: World) -> None:
    from engine.formats.bundle import count_entry, count_line
    from engine.formats.election_canonical import canonical_json

    add_paper_ballots(world, 10)
    store = world.store()
    try:
        ballots = list(store.iter_ballots())
    finally:
        store.close()
    assert {b.channel.value for b in ballots} == {"online", "paper"}
    for b in ballots:
        assert count_line(b, 3) == canonical_json(count_entry(b, 3))


def test_publish_and_verify_on_each_store_backend(store_url: str, small_paris: Path, tmp_path: Path) -> None:
    """Same service on SQLite and PostgreSQL (the log insert uses each driver's paramstyle)."""
    from engine.formats.bundle import publish_store
    from engine.formats.election_definition import load_election
    from engine.services.ingest import ingest_evote_file
    from engine.storage.keyfiles import load_private_key, load_public_key, load_receipt_secret
    from engine.storage.store import Store

    keys = small_paris / "keys"
    store = Store.open(store_url)
    try:
        ingest_evote_file(store, small_paris / "evotes.jsonl", load_election(small_paris / "election.toml"),
                          load_public_key(keys), load_receipt_secret(keys), workers=1)
        key = load_private_key(keys, "results")
        first = publish_store(store, key, tmp_path / "a", actor="test")
        again = publish_store(store, key, tmp_path / "b", actor="test")
        assert store.published_log_lines() == ballot_lines(tmp_path / "a")
    finally:
        store.close()
    assert first.new_publication and not again.new_publication
    expected = read_json(small_paris / "manifest.json")["expected"]
    v = verify_bundle(tmp_path / "a", key_pem=(keys / "results.pub").read_bytes())
    assert v.counted == expected["counted"]
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()


def test_plan_log_update_withdraws_corrects_and_recounts() -> None:
    from engine.formats.bundle import live_entries, live_receipts
    from engine.model.ballots import Ballot, Channel, SourceRef

    def ballot(receipt: str, projects: tuple[str, ...]) -> Ballot:
        return Ballot("k" + receipt, "serial", Channel.ONLINE, "2026-09-07T08:00:00.000000Z",
                      (("paris", projects),), SourceRef("f", 1), receipt_id=receipt)

    a, b, c = ballot("RA", ("P1",)), ballot("RB", ("P2",)), ballot("RC", ("P3",))
    b2 = ballot("RB", ("P2", "P4"))
    pub1 = plan_log_update([], [b, a], {}, 1)
    assert [json.loads(x)["receipt"] for x in pub1] == ["RA", "RB"]
    pub2 = plan_log_update(pub1, [b2, c], {"RA": "superseded_by_paper"}, 2)
    assert [(json.loads(x)["op"], json.loads(x)["receipt"], json.loads(x).get("reason")) for x in pub2] == [
        ("withdraw", "RA", "superseded_by_paper"), ("withdraw", "RB", "corrected"),
        ("count", "RB", None), ("count", "RC", None)]
    pub3 = plan_log_update(pub1 + pub2, [a, b2, c], {}, 3)
    assert [(json.loads(x)["op"], json.loads(x)["receipt"]) for x in pub3] == [("count", "RA")]
    log = pub1 + pub2 + pub3
    assert live_receipts(log) == set(live_entries(log)) == {"RA", "RB", "RC"}
    assert live_entries(log)["RB"]["selections"] == {"paris": ["P2", "P4"]}
    assert plan_log_update(log, [a, b2, c], {}, 4) == []


def test_two_stores_fed_the_same_files_publish_the_same_results(small_paris: Path, tmp_path: Path) -> None:
    """Only audit.jsonl (operator actions carry their time) and the manifest signing it differ."""
    from engine.formats.bundle import publish_store
    from engine.formats.election_definition import load_election
    from engine.services.ingest import ingest_evote_file
    from engine.storage.keyfiles import load_private_key, load_public_key, load_receipt_secret
    from engine.storage.store import Store

    keys = small_paris / "keys"
    outs = []
    for name, workers in (("one", 1), ("two", 2)):
        store = Store.open(f"sqlite:///{tmp_path / name}.sqlite")
        try:
            ingest_evote_file(store, small_paris / "evotes.jsonl", load_election(small_paris / "election.toml"),
                              load_public_key(keys), load_receipt_secret(keys), workers=workers, chunk_lines=500)
            publish_store(store, load_private_key(keys, "results"), tmp_path / name, actor="test")
        finally:
            store.close()
        outs.append(tmp_path / name)
    differ = {n for n in BUNDLE_FILES if (outs[0] / n).read_bytes() != (outs[1] / n).read_bytes()}
    assert differ == {"audit.jsonl", "manifest.json"}


def test_two_publishers_racing_for_the_same_publication(world: World) -> None:
    """The loser of the race gets a clear error, and nothing of its publication is kept."""
    from engine.errors import StoreError

    store = world.store()
    try:
        store.record_publication(1, 1, "ab" * 32, "cd" * 32, ['{"x":1}'], actor="a", audit_details={})
        with pytest.raises(StoreError, match="publish again"):  # its view of the log is stale
            store.record_publication(1, 1, "ab" * 32, "cd" * 32, ['{"x":1}'], actor="b", audit_details={})
        with pytest.raises(StoreError, match="same time"):  # same head number, nothing to append
            store.record_publication(1, 1, "ab" * 32, "cd" * 32, [], actor="b", audit_details={})
        assert [p.seq for p in store.publications()] == [1]
        assert store.published_log_lines() == ['{"x":1}']
        assert [e.actor for e in store.audit_entries() if e.action == "publish"] == ["a"]
    finally:
        store.close()

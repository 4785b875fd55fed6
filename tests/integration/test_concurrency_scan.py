"""Two scanning stations reading overlapping folders into one store at the same time,
while the online intake ingests e-votes; and a scan killed with SIGKILL, then rerun.

The same image file lying in both folders is the same page (its SHA-256): afterwards
every page is stored once — as a ballot, a rejection or a review item — and the count
equals a single process scanning the union. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from ballot_scan.pipeline import scan_paths
from ballot_scan.render import read_token_register
from ballot_scan.testdeck import DeckOptions, make_testdeck
from engine.formats.election_definition import load_election
from engine.formats.results_csv import projects_csv
from engine.services.count import count_store
from engine.services.ingest import ingest_evote_file
from engine.storage.keyfiles import load_public_key, load_receipt_secret
from engine.storage.schema import ballots, rejections, review_items
from engine.storage.store import Store

REPO = Path(__file__).resolve().parents[2]
# a deck where most pages are accepted, some go to review and some are rejected
DECK = DeckOptions(p_blank_page=0.1, p_foreign=0.1, p_blank_ballot=0.1, p_overvote=0.0, p_ambiguous=0.2,
                   p_damaged_qr=0.0, p_upside_down=0.2)


@pytest.fixture(scope="module")
def deck(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deck")
    e = load_election(small_paris / "election.toml")
    tokens = read_token_register(small_paris / "paper_tokens.csv")
    make_testdeck(e, ["ar11", "ar12"], tokens[:8], out / "all", count=8, seed=17, opts=DECK)
    images = sorted(p for p in (out / "all").iterdir() if p.suffix in (".png", ".jpg"))
    assert len(images) == 8
    for name, part in (("station-a", images[:5]), ("station-b", images[3:])):  # 2 pages in both
        (out / name).mkdir()
        for p in part:
            shutil.copy(p, out / name / p.name)
    return out


def station_scan(fixture: str, folder: str, url: str, barrier: Any) -> None:
    fx = Path(fixture)
    store = Store.open(url)
    election = load_election(fx / "election.toml")
    barrier.wait(timeout=120)
    scan_paths(store, election, load_public_key(fx / "keys"), [Path(folder)], workers=1, commit_every=2,
               actor=Path(folder).name)
    store.close()


def station_ingest(fixture: str, url: str, barrier: Any) -> None:
    fx = Path(fixture)
    store = Store.open(url)
    election = load_election(fx / "election.toml")
    barrier.wait(timeout=120)
    ingest_evote_file(store, fx / "evotes.jsonl", election, load_public_key(fx / "keys"),
                      load_receipt_secret(fx / "keys"), workers=1, chunk_lines=100)
    store.close()


def snapshot(store: Store) -> dict[str, Any]:
    with store.engine.connect() as conn:
        keys = sorted(conn.execute(select(ballots.c.ballot_key)).scalars())
        reviews = sorted(conn.execute(select(review_items.c.review_key)).scalars())
    result = count_store(store, persist=False)
    return {
        "ballots": keys,
        "reviews": reviews,
        "rejections": store.rejection_counts(),
        "counted": sorted(b.ballot_key for b in result.dedup.counted),
        "projects_csv": projects_csv(result),
    }


@pytest.fixture(scope="module")
def references(small_paris: Path, deck: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Single-process runs (computed once): scan of the union alone, and with the e-votes."""
    e = load_election(small_paris / "election.toml")
    keys = small_paris / "keys"
    out: dict[str, Any] = {}
    for name, with_evotes in (("scan", False), ("scan+evotes", True)):
        store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'single.sqlite'}")
        if with_evotes:
            ingest_evote_file(store, small_paris / "evotes.jsonl", e, load_public_key(keys),
                              load_receipt_secret(keys), workers=1)
        scan_paths(store, e, load_public_key(keys), [deck / "all"], workers=1)
        out[name] = snapshot(store)
        store.close()
    return out


def test_two_scanners_and_the_online_intake_at_once_equal_one_process(
    store_url: str, small_paris: Path, deck: Path, references: dict[str, Any]
) -> None:
    import multiprocessing

    Store.open(store_url).close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    procs = [
        ctx.Process(target=station_scan, args=(str(small_paris), str(deck / "station-a"), store_url, barrier)),
        ctx.Process(target=station_scan, args=(str(small_paris), str(deck / "station-b"), store_url, barrier)),
        ctx.Process(target=station_ingest, args=(str(small_paris), store_url, barrier)),
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    store = Store.open(store_url)
    got = snapshot(store)
    store.close()
    want = references["scan+evotes"]
    assert want["ballots"] and want["reviews"]  # the deck exercises both outcomes
    assert got == want


def test_scan_killed_then_rerun_equals_an_uninterrupted_scan(
    store_url: str, small_paris: Path, deck: Path, references: dict[str, Any]
) -> None:
    cmd = [sys.executable, "-m", "pbcount", "scan", str(deck / "all"), "-e", str(small_paris / "election.toml"),
           "--keys", str(small_paris / "keys"), "--db", store_url, "-j", "1"]
    env = {**os.environ, "PBCOUNT_PROGRESS": "0"}
    Store.open(store_url).close()
    # the scan commits ballots, then rejections, then review items: kill right after the
    # first or the second (chosen at random, seed printed) has landed, mid-flush
    seed = random.randrange(1 << 30)
    print(f"scan crash test seed {seed}")
    landed = [t for t, key in ((ballots, "ballots"), (rejections, "rejections")) if references["scan"][key]]
    table = random.Random(seed).choice(landed)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    engine = create_engine(store_url)
    killed = False
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if stored:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    proc.wait()
    engine.dispose()
    assert killed, "the scan finished before the kill: the test proved nothing"
    rerun = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr

    store = Store.open(store_url)
    got = snapshot(store)
    store.close()
    assert got == references["scan"]


class _Crash(Exception):
    pass


def test_interrupted_scan_resumes_after_the_stored_pages(
    store_url: str, small_paris: Path, deck: Path, references: dict[str, Any]
) -> None:
    e = load_election(small_paris / "election.toml")
    pub = load_public_key(small_paris / "keys")
    store = Store.open(store_url)
    calls = 0

    def crash_on_fifth_page(n: int) -> None:
        nonlocal calls
        calls += n
        if calls == 5:  # pages 1-4 were flushed (every 2 pages); page 5 is decided, not stored
            raise _Crash

    with pytest.raises(_Crash):
        scan_paths(store, e, pub, [deck / "all"], workers=1, commit_every=2, progress=crash_on_fifth_page)
    [batch] = [b for b in store.list_batches() if b.kind == "paper"]
    assert batch.status == "open" and batch.lines_committed == 4
    seen: list[int] = []
    summary = scan_paths(store, e, pub, [deck / "all"], workers=1, commit_every=2, progress=seen.append)
    assert summary.resumed_from_page == 4 and summary.pages == 8 - 4  # only the rest was read
    assert seen[0] == 4 and sum(seen) == 8  # the progress bar starts at the resume point
    assert "resumed" in summary.line()
    assert snapshot(store) == references["scan"]  # the same store as one uninterrupted run
    # a finished run is read again in full, and changes nothing
    again = scan_paths(store, e, pub, [deck / "all"], workers=1)
    assert again.resumed_from_page == 0 and again.pages == 8 and again.review_new == 0
    assert snapshot(store) == references["scan"]
    store.close()


def test_review_items_carry_the_scanners_details(small_paris: Path, deck: Path, tmp_path: Path) -> None:
    """What the report says about a page in doubt is what the adjudicator sees in the queue."""
    import json

    from engine.storage.review_store import ReviewStore

    e = load_election(small_paris / "election.toml")
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    scan_paths(store, e, load_public_key(small_paris / "keys"), [deck / "all"], workers=1,
               report_path=tmp_path / "report.json")
    report = {(p["image"], p["page"]): p for p in json.loads((tmp_path / "report.json").read_text())["pages"]}
    items = ReviewStore(store).list()
    assert items  # the deck sends pages to review
    for it in items:
        page = report[(it.source_name, it.source_line)]
        assert it.details and it.details == page["details"], (it.details, page["details"])
    store.close()
    from typer.testing import CliRunner

    from pbcount.cli import app
    from pbcount.console import console

    saved = console._width
    console.width = 400  # one line per item, whatever the terminal
    try:
        out = CliRunner().invoke(app, ["review", "list", "--db", f"sqlite:///{tmp_path / 's.sqlite'}"]).output
    finally:
        console._width = saved
    for it in items:
        assert f"#{it.id} {it.source_name}:{it.source_line} {it.envelope_id or '?'} [pending] reasons:" in out
        assert all(f"    {d}" in out for d in it.details)

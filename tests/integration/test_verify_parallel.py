"""The verifier's ballot-log check over several processes says exactly what one process says.

``check_ballots`` splits the independent per-line checks over worker processes for a large
log and folds the line-linking checks (unique receipts, withdrawals, order) in file order.
Here the threshold is lowered so a small bundle takes that path, with many small chunks,
and every verdict (pass, or the first failure's file, line and check) is compared with the
single-process run on hand-made tamperings placed in different chunks.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.bundle_world import World, add_paper_ballots, ballot_lines, fix_tree_head, make_world, resign, write_lines

from engine.verifier import VerificationFailure, ballot_log, verify_bundle
from engine.verifier.merkle import merkle_root, merkle_roots


@pytest.fixture(scope="module")
def published(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Path]:
    w = make_world(small_paris, tmp_path_factory.mktemp("par") / "world")
    add_paper_ballots(w, 5)
    _, bundle = w.publish("pub1")
    return w, bundle


def _verdict(bundle: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> tuple[object, ...]:
    monkeypatch.setattr(ballot_log, "PARALLEL_MIN_LINES", 0 if parallel else 10**9)
    monkeypatch.setattr(ballot_log, "PARALLEL_CHUNKS", 16)
    monkeypatch.setattr(ballot_log, "default_workers", lambda: 2)
    try:
        v = verify_bundle(bundle)
    except VerificationFailure as exc:
        return ("failed", exc.file, exc.line, exc.check, exc.detail)
    return ("verified", v.tree_size, v.root_hash, v.counted)


def _swap(lines: list[str], i: int, j: int) -> list[str]:
    lines = list(lines)
    lines[i], lines[j] = lines[j], lines[i]
    return lines


def _spaced(lines: list[str], i: int) -> list[str]:
    return [*lines[:i], json.dumps(json.loads(lines[i])), *lines[i + 1:]]  # spaces: not canonical


def _bad_project(lines: list[str], i: int) -> list[str]:
    e = json.loads(lines[i])
    env = next(iter(e["selections"]))
    e["selections"][env] = ["no-such-project"]
    return [*lines[:i], json.dumps(e, sort_keys=True, separators=(",", ":")), *lines[i + 1:]]


TAMPERINGS: dict[str, Callable[[list[str]], list[str]]] = {
    "untouched": lambda x: x,
    "duplicate line in a later chunk": lambda x: [*x[:1500], x[3], *x[1500:]],
    "swapped lines (order)": lambda x: _swap(x, 700, 701),
    "non-canonical line": lambda x: _spaced(x, 1234),
    "unknown project": lambda x: _bad_project(x, 40),
    # two faults in different chunks: the earlier one (the order fault, found by the fold)
    # must win over the later one (found by a worker), as in a single pass
    "two faults": lambda x: _spaced(_swap(x, 300, 301), 1800),
    "fold fault and worker fault in one chunk": lambda x: _spaced(_swap(x, 10, 11), 12),
    "not JSON": lambda x: [*x[:900], "{not json", *x[900:]],
    "withdrawal of an unknown receipt": lambda x: [*x, x[-1].replace('"op":"count"', '"op":"withdraw"')],
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_parallel_and_single_process_verdicts_agree(
    name: str, published: tuple[World, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, original = published
    bundle = tmp_path / "b"
    shutil.copytree(original, bundle)
    lines = ballot_lines(bundle)
    assert len(lines) > 1900  # several chunks of the 2-worker split
    write_lines(bundle, TAMPERINGS[name](lines))
    fix_tree_head(bundle)
    resign(bundle, world.results_key())
    single = _verdict(bundle, monkeypatch, parallel=False)
    multi = _verdict(bundle, monkeypatch, parallel=True)
    assert multi == single
    assert (single[0] == "verified") == (name == "untouched")


def test_prefix_roots_in_one_pass_equal_the_roots_of_each_prefix() -> None:
    leaves = [hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(70)]
    roots = merkle_roots(leaves, set(range(71)))
    assert roots == {k: merkle_root(leaves[:k]) for k in range(71)}

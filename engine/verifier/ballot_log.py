"""``ballots.jsonl`` and ``merkle.json``: the append-only ballot log and its tree heads.

Each line is canonical JSON; ``count`` lines are valid ballots (:class:`BallotRules`),
``withdraw`` lines name a counted receipt; each publication's segment is in the published
order; the RFC 6962 root over the lines is the signed head, every earlier head is the root
of a prefix, and the consistency proof from the previous head verifies.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .definition import BallotRules, Definition
from .errors import VerificationFailure, fail
from .jsonio import canonical, duplicate_key_problem, iter_lines, read_json
from .merkle import merkle_roots, verify_consistency

RECEIPT_RE = re.compile(r"[RP][0-9A-HJKMNP-TV-Z]{15}")


SHA256_RE = re.compile(r"[0-9a-f]{64}")


# Below this many lines the ballot log is checked in this process: starting workers costs
# more than it saves (about 50 ms against ~25 µs a line on one core).
PARALLEL_MIN_LINES = 20_000
PARALLEL_CHUNKS = 8  # per worker-sized share: the parent folds chunk k while workers check k+1..

# A line's independent checks: (op, pub, receipt, entry); ``entry`` is {"channel",
# "selections"} of a count line (shared between identical ballots of a chunk), None for a withdrawal.
LineFact = tuple[str, int, str, "dict[str, Any] | None"]


class _LineRange:
    """The independent per-line checks of ``ballots.jsonl`` lines ``[lo, hi)`` (0-based):
    canonical JSON, fields, receipt format, channel, ballot validity (:class:`BallotRules`),
    and each line's RFC 6962 leaf hash. No line depends on another here, so ranges can run
    in separate processes; what links lines (receipts unique, withdrawals of counted
    receipts, order) is :func:`_fold`, in one process, in file order.

    ``failure`` is the first failing line of the range; ``facts`` and ``leaves`` stop
    before it, so the fold checks every earlier line first and the first failure of the
    whole file is reported, exactly as a single pass would.
    """

    def __init__(self, lines: Sequence[str], lo: int, hi: int, d: Definition) -> None:
        self.lo = lo
        self.facts: list[LineFact] = []
        self.failure: VerificationFailure | None = None
        leaves: list[bytes] = []
        rules = BallotRules(d)
        shared: dict[tuple[Any, ...], dict[str, Any]] = {}
        name = "ballots.jsonl"
        sha256 = hashlib.sha256
        loads = json.loads
        try:
            for i in range(lo, hi):
                line, no = lines[i], i + 1
                try:
                    e = loads(line)
                except json.JSONDecodeError as exc:
                    raise fail(name, "json", f"not valid JSON ({exc.msg})", no) from exc
                if not isinstance(e, dict):
                    raise fail(name, "json", "a line must be a JSON object", no)
                self.facts.append(_line_fact(e, line, no, rules, shared))
                leaves.append(sha256(b"\x00" + line.encode()).digest())
        except VerificationFailure as exc:
            self.failure = exc
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            self.failure = fail(name, "format", f"unexpected content while checking ballots: {exc!r}",
                                lo + len(self.facts) + 1)
        self.leaves = b"".join(leaves)


def _line_fact(e: dict[str, Any], line: str, no: int, rules: BallotRules,
               shared: dict[tuple[Any, ...], dict[str, Any]]) -> LineFact:
    name = "ballots.jsonl"
    if canonical(e) != line:
        dup = duplicate_key_problem(line)
        if dup:
            raise fail(name, "duplicate_key", dup, no)
        raise fail(name, "canonical_json", "line is not in canonical form (sorted keys, no spaces)", no)
    op, pub, receipt = e.get("op"), e.get("pub"), e.get("receipt")
    if not isinstance(pub, int) or isinstance(pub, bool) or pub < 1:
        raise fail(name, "publication", f"pub must be a positive integer, got {pub!r}", no)
    if not isinstance(receipt, str) or not RECEIPT_RE.fullmatch(receipt):
        raise fail(name, "receipt_format", f"receipt {receipt!r} is not R/P + 15 base32 symbols", no)
    if op == "count":
        allowed = {"op", "pub", "receipt", "channel", "selections", "image_sha256"}
        if set(e) - allowed:
            raise fail(name, "fields", f"unexpected fields {sorted(set(e) - allowed)}", no)
        channel = e.get("channel")
        if channel == "paper":
            if not isinstance(e.get("image_sha256"), str) or not SHA256_RE.fullmatch(e["image_sha256"]):
                raise fail(name, "image_sha256", "a paper ballot needs the image's SHA-256 (hex)", no)
        elif channel == "online":
            if "image_sha256" in e:
                raise fail(name, "image_sha256", "an online ballot has no image", no)
        else:
            raise fail(name, "channel", f"channel {channel!r} is neither online nor paper", no)
        selections = e.get("selections")
        problem = rules.problem(selections, paper=channel == "paper")
        if problem:
            raise fail(name, "ballot_valid", f"receipt {receipt}: {problem}", no)
        valid: dict[str, list[str]] = selections  # type: ignore[assignment]  # checked by rules.problem
        key = (channel, *((k, *v) for k, v in valid.items()))
        entry = shared.get(key)
        if entry is None:
            entry = shared[key] = {"channel": channel, "selections": selections}
        return op, pub, receipt, entry
    if op == "withdraw":
        if set(e) != {"op", "pub", "receipt", "reason"} or not isinstance(e["reason"], str):
            raise fail(name, "fields", "a withdraw line has exactly op, pub, receipt, reason", no)
        return op, pub, receipt, None
    raise fail(name, "op", f"op {op!r} is neither count nor withdraw", no)


_SHARED: dict[str, Any] = {}  # the lines and definition a forked worker inherits


def _check_range(lo: int, hi: int) -> _LineRange:
    return _LineRange(_SHARED["lines"], lo, hi, _SHARED["definition"])


def _ranges(lines: list[str], d: Definition, workers: int) -> Iterator[_LineRange]:
    """The checked line ranges in file order; over 2+ processes when the log is large and
    the platform can fork (the workers inherit the lines: nothing is copied to them)."""
    n = len(lines)
    if workers < 2 or n < PARALLEL_MIN_LINES or "fork" not in multiprocessing.get_all_start_methods():
        yield _LineRange(lines, 0, n, d)
        return
    step = -(-n // (workers * PARALLEL_CHUNKS))
    _SHARED.update(lines=lines, definition=d)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_check_range, lo, min(n, lo + step)) for lo in range(0, n, step)]
            for fut in futures:
                r = fut.result()
                yield r
                if r.failure is not None:
                    for f in futures:
                        f.cancel()
                    return
    finally:
        _SHARED.clear()


def default_workers() -> int:
    """Processes for the per-line checks: the CPUs this process may use, at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(8, n))


def check_ballots(directory: Path, d: Definition, *, workers: int | None = None,
                  ) -> tuple[list[str], dict[str, dict[str, Any]], list[int], list[bytes]]:
    """Lines, the counted ballots (receipt -> {"channel", "selections"}), each line's
    publication number and each line's RFC 6962 leaf hash.

    The independent per-line checks (:class:`_LineRange`) run over ``workers`` processes
    (default: every CPU) for a large log; the checks that link lines run here, in file
    order (:func:`_fold`). Either way the first failing line of the file is the one reported.
    """
    name = "ballots.jsonl"
    lines = [line for _no, line in iter_lines(directory, name)]
    live: dict[str, dict[str, Any]] = {}
    pubs: list[int] = []
    leaves: list[bytes] = []
    prev_key: tuple[int, int, str] | None = None
    for r in _ranges(lines, d, workers or default_workers()):
        prev_key = _fold(r, live, pubs, prev_key)
        blob = r.leaves
        leaves.extend(blob[i:i + 32] for i in range(0, len(blob), 32))
        if r.failure is not None:
            raise r.failure
    return lines, live, pubs, leaves


def _fold(r: _LineRange, live: dict[str, dict[str, Any]], pubs: list[int],
          prev_key: tuple[int, int, str] | None) -> tuple[int, int, str] | None:
    """The checks linking lines: receipts counted once, withdrawals name a counted receipt,
    lines in the published order; fills ``live`` and ``pubs``."""
    name = "ballots.jsonl"
    for no, (_op, pub, receipt, entry) in enumerate(r.facts, start=r.lo + 1):
        if entry is not None:
            if receipt in live:
                raise fail(name, "receipt_unique", f"receipt {receipt} is counted twice", no)
            live[receipt] = entry
            key = (pub, 1, receipt)
        else:
            if receipt not in live:
                raise fail(name, "withdraw_counted", f"receipt {receipt} is not counted, cannot be withdrawn", no)
            del live[receipt]
            key = (pub, 0, receipt)
        if prev_key is not None and key <= prev_key:
            raise fail(name, "order", "lines must go by publication, withdrawals then counts, "
                       "each by receipt id (the order of voting must not show)", no)
        prev_key = key
        pubs.append(pub)
    return prev_key


def _hex32(value: Any, where: str, check: str) -> bytes:
    if not isinstance(value, str) or not SHA256_RE.fullmatch(value):
        raise fail(where, check, f"{value!r} is not a 64-digit lowercase hex hash")
    return bytes.fromhex(value)


def check_merkle(directory: Path, signed: Mapping[str, Any], leaves: Sequence[bytes], pubs: list[int],
                 previous: Mapping[str, Any] | None) -> tuple[int, int, str, list[str]]:
    """Check ``merkle.json`` against the ballot log's ``leaves`` (each line's leaf hash, from
    :func:`check_ballots`): the root over them, the history of tree heads (one per publication
    in ``pubs``), the consistency proof from the previous head, and (``previous``: an older
    bundle's merkle.json) that this log extends it. Returns ``(publication, tree size, root
    hex, notes)``; raises VerificationFailure.
    """
    name = "merkle.json"
    notes: list[str] = []
    m = read_json(directory, name)
    if not isinstance(m, dict):
        raise fail(name, "format", "must be an object")
    n = len(leaves)  # one leaf per ballots.jsonl line
    history = m.get("history")
    sizes = {h.get("tree_size") for h in history if isinstance(h, dict)} if isinstance(history, list) else set()
    roots = merkle_roots(leaves, {s for s in sizes if isinstance(s, int) and 0 <= s <= n} | {n})
    root = roots[n].hex()
    if m.get("tree_size") != n:
        raise fail(name, "tree_size", f"declares {m.get('tree_size')!r} leaves, ballots.jsonl has {n}")
    if m.get("root_hash") != root:
        raise fail(name, "root_hash", f"the RFC 6962 root of ballots.jsonl is {root}, not {m.get('root_hash')}")
    pub = m.get("publication")
    for k in ("publication", "tree_size", "root_hash"):
        if signed.get(k) != m.get(k):
            raise fail(name, "signed_head", f"{k} differs from the one signed in manifest.json")
    if not isinstance(history, list) or not history or not all(isinstance(h, dict) for h in history):
        raise fail(name, "history", "history must list every publication's tree head")
    if [h.get("publication") for h in history] != list(range(1, len(history) + 1)) or history[-1].get(
        "publication"
    ) != pub:
        raise fail(name, "history", "history must be publications 1..n ending with this one")
    start = 0
    for h in history:
        size, k = h.get("tree_size"), h["publication"]
        if not isinstance(size, int) or not start <= size <= n:
            raise fail(name, "history", f"publication {k}: tree size {size!r} out of order")
        if roots[size].hex() != h.get("root_hash"):
            raise fail(name, "history_rewritten",
                       f"the first {size} lines no longer hash to publication {k}'s root {h.get('root_hash')}")
        for i in range(start, size):
            if pubs[i] != k:
                raise fail("ballots.jsonl", "publication", f"line belongs to publication {k}, says {pubs[i]}", i + 1)
        start = size
    if history[-1].get("tree_size") != n or history[-1].get("root_hash") != root:
        raise fail(name, "history", "the last history entry is not this tree head")
    prev = m.get("previous")
    proof_hex = m.get("consistency_proof")
    if not isinstance(proof_hex, list):
        raise fail(name, "consistency_proof", "must be a list of hex hashes")
    proof = [_hex32(p, name, "consistency_proof") for p in proof_hex]
    if len(history) > 1:
        if prev != history[-2]:
            raise fail(name, "previous", "previous must be the second-to-last history entry")
        if not verify_consistency(prev["tree_size"], n, _hex32(prev["root_hash"], name, "previous"),
                                  bytes.fromhex(root), proof):
            raise fail(name, "consistency_proof",
                       f"does not prove publication {prev['publication']}'s tree is a prefix of this one")
    elif prev is not None or proof:
        raise fail(name, "previous", "the first publication has no previous head")
    if previous is not None:
        prev_k = previous.get("publication")
        if not isinstance(prev_k, int) or not 1 <= prev_k <= len(history):
            raise fail(name, "previous_bundle", f"the earlier bundle's publication {prev_k!r} is not in this history")
        old = {"publication": prev_k, "tree_size": previous.get("tree_size"), "root_hash": previous.get("root_hash")}
        if history[prev_k - 1] != old:
            raise fail(name, "previous_bundle",
                       f"publication {prev_k} was published as size {old['tree_size']} root {old['root_hash']}; "
                       f"this bundle's history says {history[prev_k - 1]} — earlier ballots were rewritten")
        notes.append(f"earlier publication {prev_k} (size {old['tree_size']}) is a prefix of this log")
    return pub, n, root, notes

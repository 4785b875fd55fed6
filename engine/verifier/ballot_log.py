"""``ballots.jsonl`` and ``merkle.json``: the append-only ballot log and its tree heads.

Each line is canonical JSON; ``count`` lines are valid ballots (:class:`BallotRules`),
``withdraw`` lines name a counted receipt; each publication's segment is in the published
order; the RFC 6962 root over the lines is the signed head, every earlier head is the root
of a prefix, and the consistency proof from the previous head verifies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .definition import BallotRules, Definition
from .errors import fail
from .jsonio import canonical, duplicate_key_problem, iter_jsonl, read_json
from .merkle import leaf_hash_of_line, merkle_root, verify_consistency

RECEIPT_RE = re.compile(r"[RP][0-9A-HJKMNP-TV-Z]{15}")


SHA256_RE = re.compile(r"[0-9a-f]{64}")


def check_ballots(directory: Path, d: Definition) -> tuple[list[str], dict[str, dict[str, Any]], list[int]]:
    """Lines, the counted ballots (receipt -> entry) and each line's publication number."""
    name = "ballots.jsonl"
    lines: list[str] = []
    pubs: list[int] = []
    live: dict[str, dict[str, Any]] = {}
    prev_key: tuple[int, int, str] | None = None
    rules = BallotRules(d)
    for no, line, e in iter_jsonl(directory, name, strict=False):
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
            problem = rules.problem(e.get("selections"), paper=channel == "paper")
            if problem:
                raise fail(name, "ballot_valid", f"receipt {receipt}: {problem}", no)
            if receipt in live:
                raise fail(name, "receipt_unique", f"receipt {receipt} is counted twice", no)
            live[receipt] = e
            key = (pub, 1, receipt)
        elif op == "withdraw":
            if set(e) != {"op", "pub", "receipt", "reason"} or not isinstance(e["reason"], str):
                raise fail(name, "fields", "a withdraw line has exactly op, pub, receipt, reason", no)
            if receipt not in live:
                raise fail(name, "withdraw_counted", f"receipt {receipt} is not counted, cannot be withdrawn", no)
            del live[receipt]
            key = (pub, 0, receipt)
        else:
            raise fail(name, "op", f"op {op!r} is neither count nor withdraw", no)
        if prev_key is not None and key <= prev_key:
            raise fail(name, "order", "lines must go by publication, withdrawals then counts, "
                       "each by receipt id (the order of voting must not show)", no)
        prev_key = key
        lines.append(line)
        pubs.append(pub)
    return lines, live, pubs


def _hex32(value: Any, where: str, check: str) -> bytes:
    if not isinstance(value, str) or not SHA256_RE.fullmatch(value):
        raise fail(where, check, f"{value!r} is not a 64-digit lowercase hex hash")
    return bytes.fromhex(value)


def check_merkle(directory: Path, signed: Mapping[str, Any], lines: list[str], pubs: list[int],
                 previous: Mapping[str, Any] | None) -> tuple[int, int, str, list[str]]:
    """Check ``merkle.json`` against the ballot log ``lines``: the root over the lines, the
    history of tree heads (one per publication in ``pubs``), the consistency proof from the
    previous head, and (``previous``: an older bundle's merkle.json) that this log extends it.
    Returns ``(publication, tree size, root hex, notes)``; raises VerificationFailure.
    """
    name = "merkle.json"
    notes: list[str] = []
    m = read_json(directory, name)
    if not isinstance(m, dict):
        raise fail(name, "format", "must be an object")
    leaves = [leaf_hash_of_line(x) for x in lines]
    root = merkle_root(leaves).hex()
    if m.get("tree_size") != len(lines):
        raise fail(name, "tree_size", f"declares {m.get('tree_size')!r} leaves, ballots.jsonl has {len(lines)}")
    if m.get("root_hash") != root:
        raise fail(name, "root_hash", f"the RFC 6962 root of ballots.jsonl is {root}, not {m.get('root_hash')}")
    pub = m.get("publication")
    for k in ("publication", "tree_size", "root_hash"):
        if signed.get(k) != m.get(k):
            raise fail(name, "signed_head", f"{k} differs from the one signed in manifest.json")
    history = m.get("history")
    if not isinstance(history, list) or not history or not all(isinstance(h, dict) for h in history):
        raise fail(name, "history", "history must list every publication's tree head")
    if [h.get("publication") for h in history] != list(range(1, len(history) + 1)) or history[-1].get(
        "publication"
    ) != pub:
        raise fail(name, "history", "history must be publications 1..n ending with this one")
    start = 0
    for h in history:
        size, k = h.get("tree_size"), h["publication"]
        if not isinstance(size, int) or not start <= size <= len(lines):
            raise fail(name, "history", f"publication {k}: tree size {size!r} out of order")
        if merkle_root(leaves[:size]).hex() != h.get("root_hash"):
            raise fail(name, "history_rewritten",
                       f"the first {size} lines no longer hash to publication {k}'s root {h.get('root_hash')}")
        for i in range(start, size):
            if pubs[i] != k:
                raise fail("ballots.jsonl", "publication", f"line belongs to publication {k}, says {pubs[i]}", i + 1)
        start = size
    if history[-1].get("tree_size") != len(lines) or history[-1].get("root_hash") != root:
        raise fail(name, "history", "the last history entry is not this tree head")
    prev = m.get("previous")
    proof_hex = m.get("consistency_proof")
    if not isinstance(proof_hex, list):
        raise fail(name, "consistency_proof", "must be a list of hex hashes")
    proof = [_hex32(p, name, "consistency_proof") for p in proof_hex]
    if len(history) > 1:
        if prev != history[-2]:
            raise fail(name, "previous", "previous must be the second-to-last history entry")
        if not verify_consistency(prev["tree_size"], len(lines), _hex32(prev["root_hash"], name, "previous"),
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
    return pub, len(lines), root, notes

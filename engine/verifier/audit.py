"""``audit.jsonl``: the hash chain of ``engine/model/audit.py``, this publication's entry, and
an adjudication decision behind every ``corrected`` withdrawal of the ballot log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import fail
from .jsonio import canonical, read_jsonl

GENESIS = "0" * 64


def audit_entry_hash(e: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an ``audit.jsonl`` entry without its own hash
    (as engine/model/audit.py ``entry_hash``, written again here).
    """
    body = {k: e[k] for k in ("seq", "at", "actor", "action", "details", "prev_hash")}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def check_audit(directory: Path, pub: int, size: int, root: str, lines: Sequence[str] = ()) -> int:
    """The hash chain of engine/model/audit.py (verify_chain), and the publish entry of this head."""
    name = "audit.jsonl"
    prev, last = GENESIS, None
    entries = read_jsonl(directory, name)
    for i, (no, _line, e) in enumerate(entries, start=1):
        if e.get("seq") != i:
            raise fail(name, "audit_chain", f"sequence number {e.get('seq')!r}, expected {i} (gap or reorder)", no)
        if e.get("prev_hash") != prev:
            raise fail(name, "audit_chain", f"prev_hash does not match entry {i - 1}", no)
        try:
            h = audit_entry_hash(e)
        except KeyError as exc:
            raise fail(name, "audit_chain", f"missing field {exc}", no) from exc
        if h != e.get("entry_hash"):
            raise fail(name, "audit_chain", "entry_hash does not match its content", no)
        prev, last = h, e
    if last is None or last.get("action") != "publish":
        raise fail(name, "publish_entry", "the log must end with this publication's 'publish' entry")
    det = last.get("details")
    if not isinstance(det, dict) or (det.get("publication"), det.get("tree_size"), det.get("root_hash")) != (
        pub, size, root
    ):
        raise fail(name, "publish_entry", "the last 'publish' entry names another tree head", len(entries))
    check_corrections(lines, [e for _no, _line, e in entries])
    return len(entries)


def check_corrections(lines: Sequence[str], entries: Sequence[Mapping[str, Any]]) -> None:
    """Each ``corrected`` withdrawal of publication k (same receipt counted again with other
    content) is explained by a ``review_resolved`` audit entry naming that receipt, between
    the ``publish`` entries of publications k-1 and k."""
    publish_seq: dict[Any, int] = {}
    decided: dict[str, list[int]] = {}
    for e in entries:
        det = e.get("details")
        if not isinstance(det, dict):
            continue
        if e.get("action") == "publish":
            publish_seq[det.get("publication")] = e["seq"]
        elif e.get("action") == "review_resolved" and isinstance(det.get("receipt_id"), str):
            decided.setdefault(det["receipt_id"], []).append(e["seq"])
    for no, line in enumerate(lines, start=1):
        if not line.startswith('{"op":"withdraw"'):
            continue
        w = json.loads(line)
        if w.get("reason") != "corrected":
            continue
        k = w["pub"]
        lo, hi = publish_seq.get(k - 1, 0), publish_seq.get(k)
        if hi is None or not any(lo < seq < hi for seq in decided.get(w["receipt"], [])):
            raise fail("audit.jsonl", "correction_unexplained",
                       f"ballots.jsonl line {no}: receipt {w['receipt']} was corrected in publication {k}, but no "
                       "adjudication decision (review_resolved) names it since the publication before")

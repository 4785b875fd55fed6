"""``audit.jsonl``: the hash chain of ``engine/model/audit.py`` and this publication's entry."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import fail
from .jsonio import _jsonl, canonical

GENESIS = "0" * 64


def audit_entry_hash(e: Mapping[str, Any]) -> str:
    body = {k: e[k] for k in ("seq", "at", "actor", "action", "details", "prev_hash")}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def check_audit(directory: Path, pub: int, size: int, root: str) -> int:
    """The hash chain of engine/model/audit.py (verify_chain), and the publish entry of this head."""
    name = "audit.jsonl"
    prev, last = GENESIS, None
    entries = _jsonl(directory, name)
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
    return len(entries)

"""Hash-chained audit log of operator and admin actions.

Entry ``n`` carries ``prev_hash`` = the ``entry_hash`` of entry ``n-1`` (64 zeros for the
first) and ``entry_hash = SHA-256(canonical JSON of {seq, at, actor, action, details,
prev_hash})``. Changing, dropping or reordering any entry breaks every later hash, so a
published chain head commits to the whole history. Pure functions here; the store
appends (:meth:`engine.storage.Store.append_audit`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log: its number, time, who did what (``action`` and ``details``),
    the hash of the entry before it and its own hash (:func:`entry_hash`), which chains them.
    """

    seq: int
    at: str
    actor: str
    action: str
    details: Mapping[str, Any]
    prev_hash: str
    entry_hash: str

    def to_dict(self) -> dict[str, Any]:
        """The entry as one line of ``audit.jsonl``."""
        return {
            "seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
            "details": dict(self.details), "prev_hash": self.prev_hash, "entry_hash": self.entry_hash,
        }


def canonical(obj: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, UTF-8 kept): the bytes entry hashes are taken over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(seq: int, at: str, actor: str, action: str, details: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry's fields and ``prev_hash``."""
    body = {"seq": seq, "at": at, "actor": actor, "action": action, "details": dict(details),
            "prev_hash": prev_hash}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def make_entry(prev: AuditEntry | None, at: str, actor: str, action: str, details: Mapping[str, Any]) -> AuditEntry:
    """The entry that follows ``prev`` (the first one, chained to ``GENESIS``, when None)."""
    seq = 1 if prev is None else prev.seq + 1
    ph = GENESIS if prev is None else prev.entry_hash
    return AuditEntry(seq, at, actor, action, dict(details), ph, entry_hash(seq, at, actor, action, details, ph))


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> str | None:
    """Return None if the chain is intact, else a message naming the first bad entry."""
    prev = GENESIS
    expected_seq = 1
    for e in entries:
        if e.get("seq") != expected_seq:
            return f"entry {expected_seq}: sequence number {e.get('seq')!r} (gap or reorder)"
        if e.get("prev_hash") != prev:
            return f"entry {expected_seq}: prev_hash does not match entry {expected_seq - 1}"
        h = entry_hash(e["seq"], e["at"], e["actor"], e["action"], e["details"], e["prev_hash"])
        if h != e.get("entry_hash"):
            return f"entry {expected_seq}: entry_hash does not match its content"
        prev = h
        expected_seq += 1
    return None

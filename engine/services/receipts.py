"""Receipts: find a ballot in the published log, prove it is in the tree, check a proof.

The one receipt service. :class:`PublishedLog` is the log of one publication, loaded from
the store (:meth:`PublishedLog.from_store`, what the API and the results page use) or from a
bundle's ``ballots.jsonl`` (:meth:`PublishedLog.from_bundle`, what ``pbcount receipt proof``
uses); :meth:`PublishedLog.locate` says where a receipt is and :meth:`PublishedLog.proof`
gives the RFC 6962 inclusion proof of a line. :func:`check_receipt_proof` checks a proof
against a published tree head. Loading is O(n) hashes; a proof is O(n) (subtree roots)
and its check O(log n).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.formats.ballot_log import leaf_hashes
from engine.model import merkle
from engine.model.ids import ReceiptId
from engine.storage.store import Store


@dataclass(frozen=True)
class ReceiptLocation:
    """Where a receipt is in the log: its (last) ``count`` line, and its ``withdraw`` line if
    it was withdrawn afterwards (then ``reason`` and ``withdrawn_in`` say why and when)."""

    receipt: ReceiptId
    count_index: int
    withdraw_index: int | None = None
    reason: str | None = None
    withdrawn_in: int | None = None

    @property
    def counted(self) -> bool:
        """Still counted at the end of the log (not withdrawn after its last count line)."""
        return self.withdraw_index is None


@dataclass(frozen=True)
class PublishedLog:
    """The ballot log of one publication: lines, leaf hashes, root, and each receipt's place."""

    publication: int | None
    published_at: str | None
    lines: Sequence[str]
    leaves: Sequence[bytes]
    root_hash: str
    locations: Mapping[str, ReceiptLocation]

    @property
    def tree_size(self) -> int:
        """Number of leaves (log lines)."""
        return len(self.lines)

    @classmethod
    def from_lines(cls, lines: Sequence[str], publication: int | None = None,
                   published_at: str | None = None) -> PublishedLog:
        """Index ``lines`` (canonical JSON ballot-log lines): one pass, one hash per line."""
        where: dict[str, ReceiptLocation] = {}
        for i, line in enumerate(lines):
            e = json.loads(line)
            receipt = e["receipt"]
            if e["op"] == "count":
                where[receipt] = ReceiptLocation(receipt, i)
            elif receipt in where:
                where[receipt] = ReceiptLocation(receipt, where[receipt].count_index, i, str(e.get("reason", "")),
                                                 int(e["pub"]))
        leaves = leaf_hashes(lines)
        return cls(publication, published_at, list(lines), leaves, merkle.root(leaves).hex(), where)

    @classmethod
    def from_store(cls, store: Store) -> PublishedLog | None:
        """The latest publication's log as the store recorded it, or None before any."""
        pubs = store.publications()
        if not pubs:
            return None
        head = pubs[-1]
        log = cls.from_lines(store.published_log_lines()[: head.tree_size], head.seq, head.published_at)
        if log.root_hash != head.root_hash:
            raise ValueError(f"the stored log does not hash to publication {head.seq}'s root")
        return log

    @classmethod
    def from_bundle(cls, directory: Path) -> PublishedLog:
        """The log of a bundle directory's ``ballots.jsonl``."""
        return cls.from_lines(bundle_lines(directory))

    def locate(self, receipt: ReceiptId) -> ReceiptLocation | None:
        """Where ``receipt`` is in the log, or None if it was never counted; O(1)."""
        return self.locations.get(receipt)

    def proof(self, index: int) -> list[bytes]:
        """RFC 6962 inclusion proof of line ``index`` in this tree (leaf first)."""
        return merkle.inclusion_proof(index, list(self.leaves))


def bundle_lines(directory: Path) -> list[str]:
    """The lines of a bundle's ``ballots.jsonl`` (without newlines)."""
    text = (directory / "ballots.jsonl").read_text(encoding="utf-8")
    return text.split("\n")[:-1] if text else []


def receipt_proof(lines: Sequence[str] | PublishedLog, receipt: ReceiptId) -> dict[str, Any]:
    """The ``count`` line of ``receipt`` and its RFC 6962 inclusion proof in the whole log
    (the document ``pbcount receipt proof`` writes and ``pbcount receipt check`` reads).

    ``status`` is ``counted`` or ``withdrawn in publication N (reason)``. Raises ``KeyError``
    when the receipt is not in the log.
    """
    log = lines if isinstance(lines, PublishedLog) else PublishedLog.from_lines(lines)
    where = log.locate(receipt)
    if where is None:
        raise KeyError(receipt)
    status = "counted" if where.counted else f"withdrawn in publication {where.withdrawn_in} ({where.reason})"
    return {
        "receipt": receipt,
        "line": log.lines[where.count_index],
        "leaf_index": where.count_index,
        "tree_size": log.tree_size,
        "root_hash": log.root_hash,
        "inclusion_proof": [p.hex() for p in log.proof(where.count_index)],
        "status": status,
    }


def check_receipt_proof(proof: Mapping[str, Any], root_hash: str, tree_size: int | None = None) -> str | None:
    """None if ``proof`` places its line in the tree with ``root_hash``, else why not."""
    try:
        line, index, size = str(proof["line"]), int(proof["leaf_index"]), int(proof["tree_size"])
        path = [bytes.fromhex(p) for p in proof["inclusion_proof"]]
        root = bytes.fromhex(root_hash)
    except (KeyError, TypeError, ValueError) as exc:
        return f"malformed proof or root: {exc!r}"
    if tree_size is not None and size != tree_size:
        return f"the proof is for a tree of {size} ballots lines, the published tree has {tree_size}"
    if json.loads(line).get("receipt") != proof.get("receipt"):
        return "the line is not the receipt's line"
    if not merkle.verify_inclusion(index, size, merkle.leaf_hash(line.encode()), path, root):
        return f"the line is NOT in the tree with root {root_hash}"
    return None

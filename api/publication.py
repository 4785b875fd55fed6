"""The published results as the API sees them: tree head, bundle files, receipt proofs.

Adapter over the receipt service :mod:`engine.services.receipts` (:class:`PublishedLog`:
the published ballot log, where each receipt is, inclusion proofs), which ``pbcount receipt
proof`` uses too. The ballot log and tree heads are read from the store (authoritative); the
bundle files (zip download, manifest hash) from the bundle directory that
``POST /v1/publish`` / ``pbcount publish --out`` wrote.

The log of the latest publication is loaded once per publication (leaf hashes cached),
so a receipt check costs one query plus O(n) hashes for the proof's subtree roots.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import ReceiptInputError
from engine.formats.bundle_files import BUNDLE_FILES
from engine.model import merkle
from engine.model.receipts import parse_receipt_or_stub
from engine.services.receipts import PublishedLog
from engine.storage.store import Store

if TYPE_CHECKING:
    from api.state import AppState

ZIP_DATE = (2026, 1, 1, 0, 0, 0)


class PublicationCache:
    """The latest publication's log, reloaded when a newer publication appears."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._log: PublishedLog | None = None
        self._lock = threading.Lock()

    def latest(self) -> PublishedLog | None:
        """The latest publication's log (reloaded only when a new publication exists), or None."""
        pubs = self.store.publications()
        if not pubs:
            return None
        with self._lock:
            if self._log is None or self._log.publication != pubs[-1].seq:
                self._log = PublishedLog.from_store(self.store)
            return self._log


def manifest_path(bundle_dir: Path) -> Path:
    """``manifest.json`` of the bundle directory."""
    return bundle_dir / "manifest.json"


def manifest_facts(bundle_dir: Path) -> dict[str, Any] | None:
    """SHA-256 of manifest.json and what it signs, if the bundle directory has one."""
    p = manifest_path(bundle_dir)
    try:
        data = p.read_bytes()
        signed = json.loads(data)["signed"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {"manifest_sha256": hashlib.sha256(data).hexdigest(), "publication": signed.get("publication"),
            "root_hash": signed.get("root_hash"), "tree_size": signed.get("tree_size")}


def tree_head(pb: AppState) -> dict[str, Any] | None:
    """The latest tree head, and whether the bundle directory's manifest signs the same one;
    None before the first publication.
    """
    log = pb.publications.latest()
    if log is None:
        return None
    m = manifest_facts(pb.bundle_dir)
    same = m is not None and m["publication"] == log.publication and m["root_hash"] == log.root_hash
    return {
        "publication": log.publication, "tree_size": log.tree_size, "root_hash": log.root_hash,
        "published_at": log.published_at, "manifest_sha256": m["manifest_sha256"] if same and m else None,
    }


def tree_head_facts(pb: AppState) -> dict[str, Any] | None:
    """What the page shows: root, size, manifest hash."""
    th = tree_head(pb)
    if th is None:
        return None
    return {"root": th["root_hash"], "tree_size": th["tree_size"],
            "manifest_sha256": th["manifest_sha256"] or "—", "publication": th["publication"]}


def receipt_proof(pb: AppState, receipt_text: str) -> dict[str, Any]:
    """Everything a voter needs to check a receipt; ``status`` says what was found:
    ``found``, ``withdrawn`` (counted in an earlier publication, then withdrawn),
    ``not_found``, ``invalid`` (with ``problem``: ``length``, ``symbol`` or ``check_mismatch``,
    and ``detail``) or ``not_published``. ``receipt_text`` is a receipt id or the number
    printed on a paper ballot's stub (:func:`engine.model.receipts.parse_receipt_or_stub`)."""
    try:
        rid = parse_receipt_or_stub(receipt_text)
    except ReceiptInputError as exc:
        return {"receipt_id": receipt_text[:40], "status": "invalid", "problem": exc.code, "detail": str(exc)}
    log = pb.publications.latest()
    if log is None:
        return {"receipt_id": rid, "status": "not_published"}
    where = log.locate(rid)
    if where is None:
        return {"receipt_id": rid, "status": "not_found", "publication": log.publication}
    # a withdrawn receipt: prove the withdraw line (it shows when and why)
    idx = where.count_index if where.counted else where.withdraw_index
    assert idx is not None
    proof = log.proof(idx)
    verified = merkle.verify_inclusion(idx, log.tree_size, log.leaves[idx], proof, bytes.fromhex(log.root_hash))
    return {
        "receipt_id": rid, "status": "found" if where.counted else "withdrawn", "withdraw_reason": where.reason,
        "line": log.lines[idx], "entry": json.loads(log.lines[idx]), "leaf_index": idx,
        "leaf_hash": log.leaves[idx].hex(), "tree_size": log.tree_size, "root": log.root_hash,
        "publication": log.publication, "proof": [p.hex() for p in proof], "verified": verified,
    }


def check_receipt(pb: AppState, receipt_text: str) -> dict[str, Any]:
    """The receipt lookup answer: counted or not, with its inclusion proof (:func:`receipt_proof`)."""
    return receipt_proof(pb, receipt_text)


def bundle_zip(bundle_dir: Path) -> bytes | None:
    """The bundle files as a deterministic zip (fixed dates, fixed order), or None."""
    if not manifest_path(bundle_dir).is_file():
        return None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in BUNDLE_FILES:
            p = bundle_dir / name
            if p.is_file():
                info = zipfile.ZipInfo(f"bundle/{name}", date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, p.read_bytes())
    return buf.getvalue()

"""Run every check of a results bundle, in order (the first failure stops).

1. ``manifest.json`` (:mod:`.manifest`) — its Ed25519 signature over the canonical JSON of
   ``signed`` verifies with the public key it names; ``results.pub`` is that key; with
   ``--key`` the key must also equal the separately published one.
2. Every file listed in the manifest exists and has the listed SHA-256; every required
   file is listed.
3. ``election.json`` (:mod:`.definition`) — the SHA-256 of the canonical definition is the
   declared ``definition_hash``, also the one in the manifest.
4. ``ballots.jsonl`` (:mod:`.ballot_log`) — canonical lines, valid ballots, receipts never
   counted twice, withdrawals of counted receipts, segments in the published order.
5. ``merkle.json`` — the RFC 6962 root (:mod:`.merkle`) is the signed head; history and
   consistency proof; with ``--previous`` the earlier signed head is in this history.
6. ``tally.json`` and 7. ``allocation.json`` (:mod:`.counts`) — recomputed.
8. ``projects.csv`` and ``envelopes.csv`` (:mod:`.csv_checks`) — every cell; ``summary.csv``
   (metric and value), ``turnout.csv``, ``categories.csv``, ``districts.csv`` — recomputed.
9. ``rejected.jsonl`` sums to the declared total; ``adjudication.jsonl`` is well-formed; then
   ``summary.csv`` (which lists the rejections) and the other CSVs of step 8.
10. ``audit.jsonl`` (:mod:`.audit`) — the hash chain ends with this publication's entry.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .audit import check_audit
from .ballot_log import check_ballots, check_merkle
from .counts import check_allocation, check_rejected_and_adjudication, check_tally
from .csv_checks import check_csvs, check_summary_csvs
from .definition import check_election
from .errors import VerificationFailure, fail
from .fairness_check import NAME as FAIRNESS
from .fairness_check import check_fairness
from .manifest import SUMMARY_FILES, check_file_hashes, check_manifest, raw_key
from .rules_reference import RULES

__all__ = ["RULES", "VerificationFailure", "Verified", "verify_bundle"]


@dataclass
class Verified:
    """What a successful verification found: the publication and its tree head, the ballots
    counted, the signing key's fingerprint, whether it was pinned with ``--key``, and notes.
    """

    publication: int
    tree_size: int
    root_hash: str
    counted: int
    key_fingerprint: str
    key_pinned: bool
    notes: list[str] = field(default_factory=list)


def _previous_head(path: Path, key: Ed25519PublicKey) -> dict[str, Any]:
    """The signed tree head of an earlier bundle (a directory or its manifest.json)."""
    directory = path if path.is_dir() else path.parent
    signed, old_key = check_manifest(directory, None)
    if raw_key(old_key) != raw_key(key):
        raise fail("--previous", "key_pinned", "the earlier bundle is signed with another key")
    return {k: signed.get(k) for k in ("publication", "tree_size", "root_hash")}


def verify_bundle(directory: Path, *, key_pem: bytes | None = None, previous: Path | None = None,
                  progress: Callable[[str], None] | None = None) -> Verified:
    """Run every check; return what was verified or raise :class:`VerificationFailure`.

    Python's cyclic garbage collector is paused meanwhile (restored as it was at the end):
    the checks keep a parsed entry per ballot line to the end, and the collector's passes over
    that growing heap found nothing and cost ~1.4 s of CPU at 100,000 ballots.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _verify_bundle(directory, key_pem, previous, progress)
    finally:
        if was_enabled:
            gc.enable()


def _verify_bundle(directory: Path, key_pem: bytes | None, previous: Path | None,
                   progress: Callable[[str], None] | None) -> Verified:
    say = progress or (lambda _msg: None)
    if not directory.is_dir():
        raise fail(str(directory), "present", "not a directory")

    def step(file: str, what: str, check: Callable[..., Any], *args: Any) -> Any:
        """Run one check; content of an unexpected shape fails as ``format`` of that file."""
        say(what)
        try:
            return check(*args)
        except VerificationFailure:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise fail(file, "format", f"unexpected content while checking {what}: {exc!r}") from exc

    signed, key = step("manifest.json", "manifest signature", check_manifest, directory, key_pem)
    step("manifest.json", "file hashes", check_file_hashes, directory, signed)
    d = step("election.json", "election definition", check_election, directory, signed)
    lines, live, pubs, leaves = step("ballots.jsonl", "ballots", check_ballots, directory, d)
    prev_head = step("--previous", "previous bundle", _previous_head, previous, key) if previous else None
    pub, size, root, notes = step("merkle.json", "Merkle tree", check_merkle, directory, signed, leaves, pubs,
                                  prev_head)
    tally = step("tally.json", "tally", check_tally, directory, d, live)
    alloc = step("allocation.json", "allocation", check_allocation, directory, d, tally, live)
    step("projects.csv", "CSV files", check_csvs, directory, d, tally, alloc)
    fair_notes = (step(FAIRNESS, "fairness report", check_fairness, directory, d, alloc, live)
                  if FAIRNESS in signed.get("files", {}) else [])  # bundles before fairness.json have none
    pending = step("rejected.jsonl", "rejections and adjudication", check_rejected_and_adjudication, directory,
                   tally, signed)
    listed = signed.get("files", {})
    if any(name in listed for name in SUMMARY_FILES):  # required from v2; a v1 bundle has none
        step("summary.csv", "summary, turnout and breakdown CSVs", check_summary_csvs, directory, d, tally, alloc)
    n_audit = step("audit.jsonl", "audit log", check_audit, directory, pub, size, root, lines)
    fp = hashlib.sha256(raw_key(key)).hexdigest()[:16]
    if key_pem is None:
        notes.append("the signing key was NOT pinned: pass --key with the separately published results.pub")
    if pending:
        notes.append(f"{pending} paper page{'s were' if pending != 1 else ' was'} pending review at this "
                     "publication: not counted yet (adjudication.jsonl)")
    notes.append(f"audit log: {n_audit} entries, chain intact")
    if not any(name in listed for name in SUMMARY_FILES):
        notes.append(f"{signed['format']}: no summary, turnout or breakdown CSVs in this bundle (they came with v2)")
    if fair_notes:
        notes.append(f"fairness.json: figures and witnesses recomputed; {len(fair_notes)} 'satisfied' "
                     "verdicts are the engine's bounded search, not re-run")
    return Verified(pub, size, root, len(live), fp, key_pem is not None, notes)


if __name__ == "__main__":  # python -m engine.verifier.verify (older spelling of python -m engine.verifier)
    import sys

    from .cli import main

    sys.exit(main())

"""The files of a results bundle (``pbcount-bundle-v2``) as exact bytes, and the signed manifest.

Pure builders (``*_text`` / :func:`build_bundle`) return the exact bytes; :func:`write_bundle`
writes them. Deterministic: the same inputs and key give a byte-identical bundle (Ed25519
signatures are deterministic). Every file and field: ``docs/bundle.md``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine import __version__
from engine.counting.allocation import ELIGIBILITY_THRESHOLD
from engine.counting.count import CountResult
from engine.counting.tally import EnvelopeTally, ProjectVotes
from engine.errors import PublishError
from engine.formats.ballot_log import leaf_hashes
from engine.formats.breakdowns import categories_csv, districts_csv
from engine.formats.election_canonical import canonical_json, definition_hash, election_to_dict
from engine.formats.fairness_json import fairness_document
from engine.formats.results_csv import envelopes_csv, projects_csv, summary_csv, superseded_per_envelope, turnout_csv
from engine.formats.savings_csv import has_savings, savings_csv
from engine.model import merkle
from engine.model.audit import AuditEntry
from engine.model.ballots import REJECTION_REASONS, Channel
from engine.model.ids import ProjectId
from engine.storage.keyfiles import public_key_pem
from engine.storage.rows import ReviewOutcome
from engine.verifier.archive import ARCHIVE_NAME, build_verifier_zip

FORMAT = "pbcount-bundle-v2"  # v1: before summary/turnout/categories/districts.csv


# Files whose content depends only on the count (not on the log history or signature):
# a publication whose content and log are unchanged is re-emitted, not re-published.
CONTENT_FILES = (
    "election.json", "tally.json", "allocation.json", "rejected.jsonl", "adjudication.jsonl",
    "projects.csv", "envelopes.csv", "summary.csv", "turnout.csv", "categories.csv", "districts.csv",
    "fairness.json",
)


# Written only when the election needs them: savings.csv for savings envelopes (reverse PB)
OPTIONAL_FILES = ("savings.csv",)


BUNDLE_FILES = (
    "election.json", "ballots.jsonl", "rejected.jsonl", "adjudication.jsonl", "audit.jsonl",
    "tally.json", "allocation.json", "projects.csv", "envelopes.csv", "summary.csv", "turnout.csv",
    "categories.csv", "districts.csv", "fairness.json", "merkle.json",
    "results.pub", ARCHIVE_NAME, "manifest.json",
)


@dataclass(frozen=True)
class TreeHead:
    """The Merkle tree head of one publication: its number, the log size and the root (hex)."""

    publication: int
    tree_size: int
    root_hash: str  # hex

    def to_dict(self) -> dict[str, Any]:
        """The head as it appears in ``merkle.json`` (``history`` entries)."""
        return {"publication": self.publication, "tree_size": self.tree_size, "root_hash": self.root_hash}


def pretty_json(obj: Any) -> str:
    """The layout of every ``.json`` file: sorted keys, one-space indent, UTF-8, final newline."""
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def election_text(result: CountResult, frozen_hash: str) -> str:
    """``election.json``: the canonical definition and its hash. PublishError if the hash
    recomputed from ``result.election`` differs from ``frozen_hash`` (the one the store froze).
    """
    computed = definition_hash(result.election)
    if computed != frozen_hash:
        raise PublishError(
            f"the stored definition hash {frozen_hash[:12]}… differs from the recomputed {computed[:12]}…"
        )
    return pretty_json({"definition": election_to_dict(result.election), "definition_hash": frozen_hash})


def project_votes_dict(et: EnvelopeTally, pid: ProjectId, v: ProjectVotes) -> dict[str, Any]:
    """A project's entry in ``tally.json``: votes by channel; in a grades envelope also the
    ballots per grade (lowest first) and the ungraded ones; in a for-against one ``for`` and
    ``against`` (``docs/bundle.md``)."""
    d: dict[str, Any] = {"online": v.online, "paper": v.paper, "total": v.total}
    if v.grades is not None:
        d["grades"] = list(v.grades)
        d["ungraded"] = et.ungraded(pid)
    elif et.ballot == "for-against":
        d["for"] = v.total
        d["against"] = v.against
    return d


def tally_text(result: CountResult) -> str:
    """``tally.json``: per envelope, the counted ballots and each project's votes, by channel."""
    envs: dict[str, Any] = {}
    for env_id, et in result.tally.envelopes.items():
        envs[env_id] = {
            "ballots": {"online": et.ballots_online, "paper": et.ballots_paper, "total": et.ballots},
            "projects": {pid: project_votes_dict(et, pid, v) for pid, v in et.projects.items()},
        }
    counted = result.dedup.counted
    n_online = sum(1 for b in counted if b.channel is Channel.ONLINE)
    by_reason: dict[str, int] = {}
    for s in result.dedup.superseded:
        by_reason[s.reason] = by_reason.get(s.reason, 0) + 1
    return pretty_json({
        "ballots": {"online": n_online, "paper": len(counted) - n_online, "total": len(counted)},
        "envelopes": envs,
        "superseded": {
            "total": len(result.dedup.superseded),
            "by_reason": by_reason,
            "by_envelope": superseded_per_envelope(result),
        },
        "rejected_total": sum(result.rejected_by_reason.values()),
    })


def allocation_text(result: CountResult) -> str:
    """``allocation.json``: the eligibility threshold and each envelope's allocation result."""
    envs: dict[str, Any] = {}
    for env_id, a in result.allocation.envelopes.items():
        envs[env_id] = a.to_dict()
    return pretty_json({"threshold": ELIGIBILITY_THRESHOLD, "envelopes": envs})


def rejected_text(rejected_by_reason: Mapping[str, int]) -> str:
    """``rejected.jsonl``: one line per rejection reason with its count and description."""
    return "".join(
        canonical_json({"reason": r, "count": n, "description": REJECTION_REASONS.get(r, "")}) + "\n"
        for r, n in sorted(rejected_by_reason.items())
    )


def adjudication_text(outcomes: Sequence[ReviewOutcome]) -> str:
    """``adjudication.jsonl``: one line per review item (by review id): its page hash, why it
    needed review, and the decision.
    """
    return "".join(
        canonical_json({"review": o.review, "image_sha256": o.image_sha256,
                        "reasons": list(o.reasons), "outcome": o.outcome}) + "\n"
        for o in sorted(outcomes, key=lambda o: o.review)
    )


def audit_text(entries: Sequence[AuditEntry]) -> str:
    """``audit.jsonl``: the audit entries, one canonical JSON line each."""
    return "".join(canonical_json(e.to_dict()) + "\n" for e in entries)


def content_files(result: CountResult, frozen_hash: str, reviews: Sequence[ReviewOutcome]) -> dict[str, bytes]:
    """The content files of a bundle (name -> bytes, in ``CONTENT_FILES`` order): election,
    tally, allocation, rejections, adjudication and the two CSVs. Not the log, Merkle or audit files.
    """
    texts = {
        "election.json": election_text(result, frozen_hash),
        "tally.json": tally_text(result),
        "allocation.json": allocation_text(result),
        "rejected.jsonl": rejected_text(result.rejected_by_reason),
        "adjudication.jsonl": adjudication_text(reviews),
        "projects.csv": projects_csv(result),
        "envelopes.csv": envelopes_csv(result),
        "summary.csv": summary_csv(result),
        "turnout.csv": turnout_csv(result),
        "categories.csv": categories_csv(result),
        "districts.csv": districts_csv(result),
        "fairness.json": pretty_json(fairness_document(result)),
    }
    files = {name: texts[name].encode() for name in CONTENT_FILES}
    if has_savings(result):
        files["savings.csv"] = savings_csv(result).encode()
    return files


def content_digest(files: Mapping[str, bytes]) -> str:
    """SHA-256 over the content files (name and hash of each): did the results change?"""
    h = hashlib.sha256()
    for name in CONTENT_FILES:
        h.update(f"{name}\n{hashlib.sha256(files[name]).hexdigest()}\n".encode())
    return h.hexdigest()


def merkle_text(lines: Sequence[str], history: Sequence[TreeHead], leaves: Sequence[bytes] | None = None) -> str:
    """Tree head of the last publication in ``history``, with the consistency proof from the one before.

    ``leaves``: the leaf hashes of ``lines`` when the caller already has them.
    """
    head = history[-1]
    leaves = list(leaves[: head.tree_size]) if leaves is not None else leaf_hashes(lines[: head.tree_size])
    root = merkle.root(leaves)
    if root.hex() != head.root_hash or len(leaves) != head.tree_size:
        raise PublishError(
            f"publication {head.publication}: the stored log does not hash to the stored tree head"
        )
    previous = history[-2] if len(history) > 1 else None
    proof = merkle.consistency_proof(previous.tree_size, leaves) if previous else []
    return pretty_json({
        "hash_algorithm": "SHA-256",
        "leaf_hash": "SHA-256(0x00 || line), line = UTF-8 bytes of a ballots.jsonl line without its newline",
        "node_hash": "SHA-256(0x01 || left || right), split at the largest power of two < n (RFC 6962)",
        "publication": head.publication,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "previous": previous.to_dict() if previous else None,
        "consistency_proof": [p.hex() for p in proof],
        "history": [h.to_dict() for h in history],
    })


def pending_count(reviews: Sequence[ReviewOutcome]) -> int:
    """Paper pages still waiting for a review decision (not counted, not rejected)."""
    return sum(1 for r in reviews if r.outcome == "pending")


def sign_manifest(files: Mapping[str, bytes], *, head: TreeHead, election_id: str, frozen_hash: str,
                  key: Ed25519PrivateKey, software_version: str, pending_review: int = 0) -> bytes:
    """``manifest.json``: what is signed (head, hashes of every file, pending review count)
    and the Ed25519 signature over its canonical JSON."""
    signed = {
        "format": FORMAT,
        "software": {"name": "pbcount", "version": software_version},
        "election_id": election_id,
        "definition_hash": frozen_hash,
        "publication": head.publication,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "public_key": public_key_pem(key.public_key()),
        "pending_review": pending_review,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    signature = key.sign(canonical_json(signed).encode())
    return pretty_json({
        "signed": signed,
        "signature": {
            "algorithm": "Ed25519",
            "signed_bytes": "UTF-8 canonical JSON of 'signed' (sorted keys, no spaces)",
            "value": base64.b64encode(signature).decode(),
        },
    }).encode()


@dataclass(frozen=True)
class BundleInputs:
    """What a bundle is built from: the count, the frozen definition hash, the review outcomes,
    the ballot log, the tree heads up to this publication and the audit entries
    (``content``: the content files when already built).
    """

    result: CountResult
    frozen_hash: str
    reviews: Sequence[ReviewOutcome]
    log_lines: Sequence[str]  # the whole log up to (at least) the last head of history
    history: Sequence[TreeHead]  # every publication up to this one, oldest first
    audit: Sequence[AuditEntry]
    content: Mapping[str, bytes] | None = None  # content_files(...) when already built
    leaves: Sequence[bytes] | None = None  # leaf_hashes(log_lines) when already computed
    verifier_zip: bytes | None = None  # engine.verifier.archive.build_verifier_zip() when already built


def build_bundle(inputs: BundleInputs, key: Ed25519PrivateKey, software_version: str = __version__) -> dict[str, bytes]:
    """Every file of the bundle, name -> exact bytes (pure; deterministic)."""
    head = inputs.history[-1]
    files = dict(inputs.content or content_files(inputs.result, inputs.frozen_hash, inputs.reviews))
    lines = inputs.log_lines[: head.tree_size]
    files["ballots.jsonl"] = "".join(line + "\n" for line in lines).encode()
    files["audit.jsonl"] = audit_text(inputs.audit).encode()
    files["merkle.json"] = merkle_text(lines, inputs.history, inputs.leaves).encode()
    files["results.pub"] = public_key_pem(key.public_key()).encode()
    # the stand-alone verifier, so whoever downloads the bundle can check it (read from the
    # installed engine/verifier sources: the same software version gives the same bytes)
    files[ARCHIVE_NAME] = inputs.verifier_zip if inputs.verifier_zip is not None else build_verifier_zip()
    files["manifest.json"] = sign_manifest(
        files, head=head, election_id=inputs.result.election.id, frozen_hash=inputs.frozen_hash,
        key=key, software_version=software_version, pending_review=pending_count(inputs.reviews),
    )
    return {name: files[name] for name in (*BUNDLE_FILES, *OPTIONAL_FILES) if name in files}


def write_bundle(out: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write the files into ``out`` (created); other files there are left alone."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        p = out / name
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(p)
        written.append(p)
    return written

"""The results bundle: what the authority publishes so that anyone can recompute the count.

Format ``pbcount-bundle-v1`` (every file and field: ``docs/bundle.md``)::

    election.json       frozen election definition and its SHA-256 (definition_hash)
    ballots.jsonl       the ballot log: one canonical JSON line per counted ballot, no voter data
    rejected.jsonl      rejected submissions: counts by reason only
    adjudication.jsonl  review decisions on paper pages: review id, reasons, outcome
    audit.jsonl         the hash-chained audit log up to this publication's "publish" entry
    tally.json          votes per project per channel; superseded counts (declared)
    allocation.json     per envelope: rule, tie-break, selected projects, every outcome
    projects.csv        journalists' CSVs (engine.formats.results_csv)
    envelopes.csv
    merkle.json         RFC 6962 tree head over ballots.jsonl, history, consistency proof
    results.pub         the authority's results public key (PEM)
    manifest.json       SHA-256 of every file above, software version, Ed25519 signature

**The ballot log is append-only in publication order.** Publication 1 holds every counted
ballot, sorted by receipt id (so the order of voting cannot be recovered). A later
publication appends a *segment*: ``withdraw`` lines for ballots no longer counted (a
paper ballot superseded an online vote, an adjudication changed a ballot), then ``count``
lines for newly counted ballots, each group sorted by receipt id. The Merkle tree is over
all lines, so the tree of publication ``k`` is a prefix of the tree of publication
``k+1`` and an RFC 6962 consistency proof links them: nobody can silently rewrite a
ballot that was already published. The counted set is the ``count`` lines not later
withdrawn.

Pure builders (``*_text``/``build_bundle``) return the exact bytes; :func:`write_bundle`
writes them and :func:`publish_store` is the service the CLI, the API and the demo call.
Deterministic: same store and keys give a byte-identical bundle (Ed25519 signatures are
deterministic; no clock is read except for the audit entry of a new publication).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine import __version__
from engine.counting.allocation import ELIGIBILITY_THRESHOLD
from engine.counting.count import CountResult
from engine.errors import PublishError
from engine.formats.results_csv import envelopes_csv, projects_csv, superseded_per_envelope
from engine.model import merkle
from engine.model.audit import AuditEntry
from engine.model.ballots import REJECTION_REASONS, Ballot, Channel
from engine.model.election import canonical_json, definition_hash, election_to_dict
from engine.services.count import count_store
from engine.storage.keyfiles import public_key_pem
from engine.storage.store import Store

FORMAT = "pbcount-bundle-v1"

# Files whose content depends only on the count (not on the log history or signature):
# a publication whose content and log are unchanged is re-emitted, not re-published.
CONTENT_FILES = (
    "election.json", "tally.json", "allocation.json", "rejected.jsonl", "adjudication.jsonl",
    "projects.csv", "envelopes.csv",
)
BUNDLE_FILES = (
    "election.json", "ballots.jsonl", "rejected.jsonl", "adjudication.jsonl", "audit.jsonl",
    "tally.json", "allocation.json", "projects.csv", "envelopes.csv", "merkle.json",
    "results.pub", "manifest.json",
)


@dataclass(frozen=True)
class TreeHead:
    publication: int
    tree_size: int
    root_hash: str  # hex

    def to_dict(self) -> dict[str, Any]:
        return {"publication": self.publication, "tree_size": self.tree_size, "root_hash": self.root_hash}


@dataclass(frozen=True)
class ReviewOutcome:
    """One adjudication decision, without any voter data (no token, no ballot serial)."""

    review: str  # review_key: SHA-256 of the page image hash and page number
    image_sha256: str
    reasons: tuple[str, ...]
    outcome: str  # pending | accepted | rejected


# canonical_json with one reusable encoder (the ballot log has one call per ballot)
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_RECEIPT = re.compile(r'"receipt":"([^"]+)"')


def pretty_json(obj: Any) -> str:
    """The layout of every ``.json`` file: sorted keys, one-space indent, UTF-8, final newline."""
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- the ballot log


@functools.lru_cache(maxsize=65536)
def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


_PLAIN = re.compile(r"[0-9A-Za-z]+")


def count_line(ballot: Ballot, publication: int) -> str:
    """The ``count`` line of a ballot: receipt, channel, selections (+ image hash for paper).

    Canonical JSON (sorted keys, no spaces), assembled by hand for speed (one line per
    ballot); :func:`count_entry` is the same line as a dict, and the tests check that
    ``canonical_json(count_entry(b)) == count_line(b)``.
    """
    if not ballot.receipt_id:
        raise PublishError(f"ballot {ballot.ballot_key[:12]}… has no receipt id; cannot publish it")
    if ballot.channel is Channel.PAPER and not ballot.image_sha256:
        raise PublishError(f"paper ballot with receipt {ballot.receipt_id} has no image SHA-256")
    if not (_PLAIN.fullmatch(ballot.receipt_id) and _PLAIN.fullmatch(ballot.image_sha256 or "0")):
        return _canonical(count_entry(ballot, publication))
    sel = ",".join(f"{_quoted(env)}:[{','.join(map(_quoted, projects))}]" for env, projects in ballot.selections)
    image = f'"image_sha256":"{ballot.image_sha256}",' if ballot.channel is Channel.PAPER else ""
    return (f'{{"channel":"{ballot.channel.value}",{image}"op":"count","pub":{int(publication)},'
            f'"receipt":"{ballot.receipt_id}","selections":{{{sel}}}}}')


def count_entry(ballot: Ballot, publication: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "op": "count",
        "pub": publication,
        "receipt": ballot.receipt_id,
        "channel": ballot.channel.value,
        "selections": {env: list(projects) for env, projects in ballot.selections},
    }
    if ballot.channel is Channel.PAPER:
        entry["image_sha256"] = ballot.image_sha256
    return entry


def withdraw_line(receipt: str, reason: str, publication: int) -> str:
    return _canonical({"op": "withdraw", "pub": publication, "receipt": receipt, "reason": reason})


def _content(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("op", "pub")}


def is_withdrawal(line: str) -> bool:
    return line.startswith('{"op":"withdraw"')  # canonical JSON: "op" is the first key of a withdrawal


def live_receipts(lines: Sequence[str]) -> set[str]:
    """Receipts counted after these lines, without parsing them (canonical JSON: a quote
    inside a string value is escaped, so ``"receipt":"`` only occurs as the key)."""
    live: set[str] = set()
    for line in lines:
        m = _RECEIPT.search(line)
        if m is None:
            raise PublishError(f"log line without a receipt: {line[:80]}")
        if is_withdrawal(line):
            live.discard(m.group(1))
        else:
            live.add(m.group(1))
    return live


def live_entries(lines: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Receipt -> parsed ``count`` entry for every ballot counted after these lines."""
    live: dict[str, dict[str, Any]] = {}
    for line in lines:
        e = json.loads(line)
        if e["op"] == "count":
            live[e["receipt"]] = e
        else:
            live.pop(e["receipt"], None)
    return live


def plan_log_update(
    previous_lines: Sequence[str],
    counted: Sequence[Ballot],
    withdraw_reasons: Mapping[str, str],
    publication: int,
) -> list[str]:
    """The segment that publication ``publication`` appends to the log.

    Withdrawals (receipts counted before and not now, or whose content changed) first,
    then new ``count`` lines; each group sorted by receipt id. Empty when nothing changed.
    Pure; O(n log n).
    """
    live = live_entries(previous_lines)
    wanted: dict[str, str] = {}
    for b in counted:
        if b.receipt_id in wanted:
            raise PublishError(f"two counted ballots share receipt id {b.receipt_id}")
        wanted[b.receipt_id] = count_line(b, publication)
    withdraw: dict[str, str] = {}
    for receipt, entry in live.items():
        if receipt not in wanted:
            withdraw[receipt] = withdraw_line(receipt, withdraw_reasons.get(receipt, "withdrawn"), publication)
        elif _content(json.loads(wanted[receipt])) != _content(entry):
            withdraw[receipt] = withdraw_line(receipt, "corrected", publication)
    add = {r: line for r, line in wanted.items() if r not in live or r in withdraw}
    return [withdraw[r] for r in sorted(withdraw)] + [add[r] for r in sorted(add)]


def leaf_hashes(lines: Sequence[str]) -> list[bytes]:
    """RFC 6962 leaf hashes of log lines (UTF-8, without the newline)."""
    sha = hashlib.sha256
    return [sha(b"\x00" + line.encode()).digest() for line in lines]


# --------------------------------------------------------------------------- file builders


def election_text(result: CountResult, frozen_hash: str) -> str:
    computed = definition_hash(result.election)
    if computed != frozen_hash:
        raise PublishError(
            f"the stored definition hash {frozen_hash[:12]}… differs from the recomputed {computed[:12]}…"
        )
    return pretty_json({"definition": election_to_dict(result.election), "definition_hash": frozen_hash})


def tally_text(result: CountResult) -> str:
    envs: dict[str, Any] = {}
    for env_id, et in result.tally.envelopes.items():
        envs[env_id] = {
            "ballots": {"online": et.ballots_online, "paper": et.ballots_paper, "total": et.ballots},
            "projects": {
                pid: {"online": v.online, "paper": v.paper, "total": v.total} for pid, v in et.projects.items()
            },
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
    envs: dict[str, Any] = {}
    for env_id, a in result.allocation.envelopes.items():
        envs[env_id] = a.to_dict()
    return pretty_json({"threshold": ELIGIBILITY_THRESHOLD, "envelopes": envs})


def rejected_text(rejected_by_reason: Mapping[str, int]) -> str:
    return "".join(
        canonical_json({"reason": r, "count": n, "description": REJECTION_REASONS.get(r, "")}) + "\n"
        for r, n in sorted(rejected_by_reason.items())
    )


def adjudication_text(outcomes: Sequence[ReviewOutcome]) -> str:
    return "".join(
        canonical_json({"review": o.review, "image_sha256": o.image_sha256,
                        "reasons": list(o.reasons), "outcome": o.outcome}) + "\n"
        for o in sorted(outcomes, key=lambda o: o.review)
    )


def audit_text(entries: Sequence[AuditEntry]) -> str:
    return "".join(canonical_json(e.to_dict()) + "\n" for e in entries)


def content_files(result: CountResult, frozen_hash: str, reviews: Sequence[ReviewOutcome]) -> dict[str, bytes]:
    texts = {
        "election.json": election_text(result, frozen_hash),
        "tally.json": tally_text(result),
        "allocation.json": allocation_text(result),
        "rejected.jsonl": rejected_text(result.rejected_by_reason),
        "adjudication.jsonl": adjudication_text(reviews),
        "projects.csv": projects_csv(result),
        "envelopes.csv": envelopes_csv(result),
    }
    return {name: texts[name].encode() for name in CONTENT_FILES}


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


def sign_manifest(files: Mapping[str, bytes], *, head: TreeHead, election_id: str, frozen_hash: str,
                  key: Ed25519PrivateKey, software_version: str) -> bytes:
    signed = {
        "format": FORMAT,
        "software": {"name": "pbcount", "version": software_version},
        "election_id": election_id,
        "definition_hash": frozen_hash,
        "publication": head.publication,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "public_key": public_key_pem(key.public_key()),
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
    result: CountResult
    frozen_hash: str
    reviews: Sequence[ReviewOutcome]
    log_lines: Sequence[str]  # the whole log up to (at least) the last head of history
    history: Sequence[TreeHead]  # every publication up to this one, oldest first
    audit: Sequence[AuditEntry]
    content: Mapping[str, bytes] | None = None  # content_files(...) when already built
    leaves: Sequence[bytes] | None = None  # leaf_hashes(log_lines) when already computed


def build_bundle(inputs: BundleInputs, key: Ed25519PrivateKey, software_version: str = __version__) -> dict[str, bytes]:
    """Every file of the bundle, name -> exact bytes (pure; deterministic)."""
    head = inputs.history[-1]
    files = dict(inputs.content or content_files(inputs.result, inputs.frozen_hash, inputs.reviews))
    lines = inputs.log_lines[: head.tree_size]
    files["ballots.jsonl"] = "".join(line + "\n" for line in lines).encode()
    files["audit.jsonl"] = audit_text(inputs.audit).encode()
    files["merkle.json"] = merkle_text(lines, inputs.history, inputs.leaves).encode()
    files["results.pub"] = public_key_pem(key.public_key()).encode()
    files["manifest.json"] = sign_manifest(
        files, head=head, election_id=inputs.result.election.id, frozen_hash=inputs.frozen_hash,
        key=key, software_version=software_version,
    )
    return {name: files[name] for name in BUNDLE_FILES}


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


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True)
class PublishReport:
    head: TreeHead
    new_publication: bool
    appended: int  # log lines added by this publication
    withdrawn: int
    counted: int
    files: tuple[Path, ...]


def publish_store(store: Store, key: Ed25519PrivateKey, out: Path, *, actor: str = "pbcount publish") -> PublishReport:
    """Count the store and write the bundle of a new publication into ``out``.

    If neither the counted ballots nor any published figure changed since the last
    publication, that publication is re-emitted byte for byte (no new tree head).
    Otherwise the new log segment, its tree head and an audit entry ``publish`` are
    recorded in the store, then the bundle is written.
    """
    row = store.election_row()
    if row is None:
        raise PublishError("no election in this store yet; nothing to publish")
    result = count_store(store)
    reviews = [ReviewOutcome(**r) for r in store.review_outcomes()]
    rows = store.publications()
    pubs = [TreeHead(p["seq"], p["tree_size"], p["root_hash"]) for p in rows]
    last = rows[-1] if rows else None
    log = store.published_log_lines()
    stored = leaf_hashes(log)
    for h in pubs:
        if h.tree_size > len(log) or merkle.root(stored[: h.tree_size]).hex() != h.root_hash:
            raise PublishError(
                f"the stored ballot log no longer hashes to publication {h.publication}'s tree head "
                f"(size {h.tree_size}, root {h.root_hash[:16]}…): published lines were changed in the store"
            )
    content = content_files(result, row["definition_hash"], reviews)
    digest = content_digest(content)
    seq = pubs[-1].publication + 1 if pubs else 1
    reasons = {s.ballot.receipt_id: s.reason for s in result.dedup.superseded}
    segment = plan_log_update(log, result.dedup.counted, reasons, seq)
    if live_receipts([*log, *segment]) != {b.receipt_id for b in result.dedup.counted}:
        raise PublishError("the ballot log would not hold exactly the counted ballots")
    if last is not None and not segment and digest == last["content_digest"]:
        history, audit_seq, new = pubs, last["audit_seq"], False
        leaves = stored
    else:
        log = [*log, *segment]
        leaves = stored + leaf_hashes(segment)
        root = merkle.root(leaves).hex()
        head = TreeHead(seq, len(log), root)
        entry = store.record_publication(seq, len(log), root, digest, segment, actor=actor,
                                         audit_details={**head.to_dict(), "content_digest": digest})
        history, audit_seq, new = [*pubs, head], entry.seq, True
    audit = [e for e in store.audit_entries() if e.seq <= audit_seq]
    files = build_bundle(BundleInputs(result, row["definition_hash"], reviews, log, history, audit, content,
                                      leaves), key)
    written = write_bundle(out, files)
    n_withdrawn = sum(1 for s in segment if is_withdrawal(s)) if new else 0
    return PublishReport(history[-1], new, len(segment) if new else 0, n_withdrawn,
                         len(result.dedup.counted), tuple(written))


# --------------------------------------------------------------------------- receipts


def bundle_lines(directory: Path) -> list[str]:
    """The lines of a bundle's ``ballots.jsonl`` (without newlines)."""
    text = (directory / "ballots.jsonl").read_text(encoding="utf-8")
    return text.split("\n")[:-1] if text else []


def receipt_proof(lines: Sequence[str], receipt: str) -> dict[str, Any]:
    """The ballot line of ``receipt`` and its RFC 6962 inclusion proof in the whole log.

    ``status`` says whether the ballot is still counted at the end of the log or was
    withdrawn later (and why). Raises ``KeyError`` when the receipt is not in the log.
    """
    index, status = None, "counted"
    for i, line in enumerate(lines):
        if f'"receipt":"{receipt}"' not in line:
            continue
        e = json.loads(line)
        if e["op"] == "count":
            index, status = i, "counted"
        else:
            status = f"withdrawn in publication {e['pub']} ({e['reason']})"
    if index is None:
        raise KeyError(receipt)
    leaves = leaf_hashes(lines)
    proof = merkle.inclusion_proof(index, leaves)
    return {
        "receipt": receipt,
        "line": lines[index],
        "leaf_index": index,
        "tree_size": len(lines),
        "root_hash": merkle.root(leaves).hex(),
        "inclusion_proof": [p.hex() for p in proof],
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

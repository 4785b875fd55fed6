"""Typed rows the store hands out (plain frozen dataclasses, no SQL): callers read fields,
never dict keys. One class per table the callers read (``engine/storage/schema.py``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ElectionRow:
    """The frozen election (``election`` table): its definition and when intake closed."""

    id: str
    definition_json: str  # canonical JSON (engine.formats.election_canonical)
    definition_hash: str  # hex SHA-256 of definition_json
    frozen_at: str
    closed_at: str | None  # None while online intake is open


@dataclass(frozen=True)
class BatchInfo:
    """Where an ingestion batch stands (what :meth:`Store.open_batch` hands back to resume)."""

    id: int
    kind: str
    source_name: str
    source_sha256: str
    status: str
    lines_committed: int


@dataclass(frozen=True)
class BatchRow:
    """One ingestion batch (``batches`` table) with its counters."""

    id: int
    kind: str  # evotes | paper | api ...
    source_name: str
    source_sha256: str
    status: str  # open | done
    lines_committed: int
    accepted: int
    already_known: int
    rejected: int
    started_at: str
    finished_at: str | None


@dataclass(frozen=True)
class RejectionRow:
    """One logged rejection (``rejections`` table): where, why, and whose serial if known."""

    rejection_key: str
    batch_id: int | None
    source_name: str
    source_line: int
    channel: str
    reason: str
    detail: str
    voter_serial: str | None
    created_at: str


@dataclass(frozen=True)
class ChunkOutcome:
    """What one :meth:`Store.commit_chunk` did."""

    inserted: int
    already_known: int
    rejected_new: int
    inserted_keys: frozenset[str]


@dataclass(frozen=True)
class PublicationRow:
    """One results publication (``publications`` table): its tree head and bookkeeping."""

    seq: int  # publication number 1, 2, ...
    tree_size: int
    root_hash: str  # hex
    content_digest: str  # SHA-256 of the published figures (engine.formats.bundle_files.content_digest)
    audit_seq: int  # the audit entry "publish" of this head
    published_at: str


@dataclass(frozen=True)
class ReviewOutcome:
    """One adjudication decision, without any voter data (no token, no ballot serial)."""

    review: str  # review_key: SHA-256 of the page image hash and page number
    image_sha256: str
    reasons: tuple[str, ...]
    outcome: str  # pending | accepted | rejected

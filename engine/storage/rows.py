"""Typed rows the store hands out (plain frozen dataclasses, no SQL): callers read fields,
never dict keys."""

from __future__ import annotations

from dataclasses import dataclass


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

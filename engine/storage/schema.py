"""Database schema (SQLAlchemy Core). One metadata object for every table.

Tables
------
``election``     the frozen definition (JSON), its SHA-256, when frozen/closed.
``batches``      one per ingested file / upload: its SHA-256, progress and counts.
``ballots``      every valid ballot received (counted or superseded), unique ``ballot_key``.
``rejections``   every rejected line/page with source, line and reason, unique ``rejection_key``.
``tokens_seen``  voter serials seen at least once (first batch).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

election_table = Table(
    "election",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("definition_json", Text, nullable=False),
    Column("definition_hash", String(64), nullable=False),
    Column("frozen_at", String(40), nullable=False),
    Column("closed_at", String(40), nullable=True),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("source_name", Text, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("lines_committed", Integer, nullable=False, default=0),
    Column("accepted", Integer, nullable=False, default=0),
    Column("already_known", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=True),
    UniqueConstraint("kind", "source_sha256", name="uq_batches_kind_sha"),
)

ballots = Table(
    "ballots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ballot_key", String(64), nullable=False, unique=True),
    Column("voter_serial", String(32), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("cast_at", String(40), nullable=False),
    Column("selections", Text, nullable=False),
    Column("receipt_id", String(32), nullable=False, unique=True),
    Column("image_sha256", String(64), nullable=True),
    Column("ballot_serial", String(40), nullable=True),
    Column("source_name", Text, nullable=False),
    Column("source_line", Integer, nullable=False),
    Column("batch_id", Integer, ForeignKey("batches.id"), nullable=True),
    Column("status", String(20), nullable=False, default="received"),
    Column("status_reason", String(60), nullable=True),
    Column("superseded_by", String(64), nullable=True),
    Index("ix_ballots_voter_serial", "voter_serial"),
)

rejections = Table(
    "rejections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rejection_key", String(64), nullable=False, unique=True),
    Column("batch_id", Integer, ForeignKey("batches.id"), nullable=True),
    Column("source_name", Text, nullable=False),
    Column("source_line", Integer, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("reason", String(60), nullable=False),
    Column("detail", Text, nullable=False),
    Column("voter_serial", String(32), nullable=True),
    Column("created_at", String(40), nullable=False),
)

tokens_seen = Table(
    "tokens_seen",
    metadata,
    Column("voter_serial", String(32), primary_key=True),
    Column("first_batch_id", Integer, nullable=True),
)

# Paper pages that need a human decision (adjudication queue). Written by ballot_scan,
# resolved by `pbcount review resolve` / the API; the decision is exported in the bundle.
review_items = Table(
    "review_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("review_key", String(64), nullable=False, unique=True),  # sha256(image sha256 + page)
    Column("batch_id", Integer, ForeignKey("batches.id"), nullable=True),
    Column("source_name", Text, nullable=False),
    Column("source_line", Integer, nullable=False),  # page number within the file
    Column("image_sha256", String(64), nullable=False),
    Column("envelope_id", String(100), nullable=True),
    Column("token", Text, nullable=True),  # token text read from the QR (kept inside the store only)
    Column("ballot_serial", String(40), nullable=True),
    Column("reasons", Text, nullable=False),  # JSON list of reason codes
    Column("details", Text, nullable=True),  # JSON list: the scanner's explanation of each reason
    Column("scores", Text, nullable=False),  # JSON {project_id: score}
    Column("proposed_selections", Text, nullable=False),  # JSON list of project ids
    Column("status", String(20), nullable=False),  # pending | accepted | rejected
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", String(40), nullable=True),
    Column("decision_note", Text, nullable=True),
    Column("final_selections", Text, nullable=True),  # JSON list, when accepted
    Column("created_at", String(40), nullable=False),
)

# Hash-chained log of operator/admin actions (see engine/model/audit.py).
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True),  # 1, 2, 3, ... no gaps
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("details", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False, unique=True),
)

# API keys for the HTTP API (see engine/storage/apikey_store.py). Only the SHA-256 of the
# secret is stored; the secret is shown once, at creation.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(20), nullable=False, unique=True),  # public prefix, e.g. "k3f9a2c1d"
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),  # operator | admin
    Column("label", String(200), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
)


# Results publications (see engine/formats/bundle.py): each publication's RFC 6962 tree head, and
# the append-only ballot log whose lines are the Merkle leaves. A new publication appends
# lines; published lines are never updated or deleted.
publications = Table(
    "publications",
    metadata,
    Column("seq", Integer, primary_key=True),  # 1, 2, 3, ...
    Column("tree_size", Integer, nullable=False),
    Column("root_hash", String(64), nullable=False),
    Column("content_digest", String(64), nullable=False),  # SHA-256 of the published figures
    Column("audit_seq", Integer, nullable=False),  # the audit entry "publish" of this head
    Column("published_at", String(40), nullable=False),
)

published_log = Table(
    "published_log",
    metadata,
    Column("leaf_index", Integer, primary_key=True),  # 0-based position in the Merkle tree
    Column("publication", Integer, ForeignKey("publications.seq"), nullable=False),
    Column("line", Text, nullable=False),  # canonical JSON line of ballots.jsonl
)

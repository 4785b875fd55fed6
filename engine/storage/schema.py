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

"""Baseline: the foundation schema (election, batches, ballots, rejections, tokens_seen).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa

from engine.storage.migrations.ops import create_table_if_missing

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table_if_missing(
        "election",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("definition_json", sa.Text, nullable=False),
        sa.Column("definition_hash", sa.String(64), nullable=False),
        sa.Column("frozen_at", sa.String(40), nullable=False),
        sa.Column("closed_at", sa.String(40), nullable=True),
    )
    create_table_if_missing(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lines_committed", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("already_known", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=True),
        sa.UniqueConstraint("kind", "source_sha256", name="uq_batches_kind_sha"),
    )
    create_table_if_missing(
        "ballots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ballot_key", sa.String(64), nullable=False, unique=True),
        sa.Column("voter_serial", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("cast_at", sa.String(40), nullable=False),
        sa.Column("selections", sa.Text, nullable=False),
        sa.Column("receipt_id", sa.String(32), nullable=False, unique=True),
        sa.Column("image_sha256", sa.String(64), nullable=True),
        sa.Column("ballot_serial", sa.String(40), nullable=True),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_line", sa.Integer, nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.String(60), nullable=True),
        sa.Column("superseded_by", sa.String(64), nullable=True),
        indexes=(("ix_ballots_voter_serial", ["voter_serial"]),),
    )
    create_table_if_missing(
        "rejections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rejection_key", sa.String(64), nullable=False, unique=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=True),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_line", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("voter_serial", sa.String(32), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    create_table_if_missing(
        "tokens_seen",
        sa.Column("voter_serial", sa.String(32), primary_key=True),
        sa.Column("first_batch_id", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    raise NotImplementedError("the baseline cannot be downgraded (it would drop the ballots)")

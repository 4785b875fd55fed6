"""Adjudication queue (review_items) and the hash-chained audit log (audit_log).

Revision ID: 0002_review_audit
Revises: 0001_baseline
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.storage.migrations.ops import create_table_if_missing

revision = "0002_review_audit"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table_if_missing(
        "review_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("review_key", sa.String(64), nullable=False, unique=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=True),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_line", sa.Integer, nullable=False),
        sa.Column("image_sha256", sa.String(64), nullable=False),
        sa.Column("envelope_id", sa.String(100), nullable=True),
        sa.Column("token", sa.Text, nullable=True),
        sa.Column("ballot_serial", sa.String(40), nullable=True),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("scores", sa.Text, nullable=False),
        sa.Column("proposed_selections", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.String(40), nullable=True),
        sa.Column("decision_note", sa.Text, nullable=True),
        sa.Column("final_selections", sa.Text, nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    create_table_if_missing(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("review_items")

"""Results publications: tree heads and the append-only ballot log (engine/formats/bundle.py).

Revision ID: 0004_publications
Revises: 0003_api_keys
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.storage.migrations.ops import create_table_if_missing

revision = "0004_publications"
down_revision = "0003_api_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table_if_missing(
        "publications",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("tree_size", sa.Integer, nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("content_digest", sa.String(64), nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=False),
        sa.Column("published_at", sa.String(40), nullable=False),
    )
    create_table_if_missing(
        "published_log",
        sa.Column("leaf_index", sa.Integer, primary_key=True),
        sa.Column("publication", sa.Integer, sa.ForeignKey("publications.seq"), nullable=False),
        sa.Column("line", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("published_log")
    op.drop_table("publications")

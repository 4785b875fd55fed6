"""API keys for the HTTP API (only the SHA-256 of each secret is stored).

Revision ID: 0003_api_keys
Revises: 0002_review_audit
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.storage.migrations.ops import create_table_if_missing

revision = "0003_api_keys"
down_revision = "0002_review_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table_if_missing(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.String(20), nullable=False, unique=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_keys")

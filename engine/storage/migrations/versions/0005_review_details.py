"""Review items keep the scanner's human-readable details (why each page is in doubt).

Revision ID: 0005_review_details
Revises: 0004_publications
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_review_details"
down_revision = "0004_publications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("review_items")}
    if "details" not in columns:
        op.add_column("review_items", sa.Column("details", sa.Text, nullable=True))  # JSON list of strings


def downgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.drop_column("details")

"""Helpers for revisions: create a table (and its indexes) only when it is missing.

Stores created before migrations existed (``metadata.create_all``) already hold some
tables but no ``alembic_version``; upgrading them runs every revision from the baseline,
and each revision then skips the tables that are already there.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op


def has_table(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def create_table_if_missing(
    name: str, *columns: Any, indexes: tuple[tuple[str, list[str]], ...] = ()
) -> None:
    """``op.create_table`` unless ``name`` exists; then each ``(index name, columns)``."""
    if not has_table(name):
        op.create_table(name, *columns)
    existing = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes(name)}
    for ix_name, cols in indexes:
        if ix_name not in existing:
            op.create_index(ix_name, name, cols)

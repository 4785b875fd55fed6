"""Alembic environment for the pbcount store.

Run through :func:`engine.storage.migrations.upgrade_to_head` (used by ``Store.open`` and
``pbcount db upgrade``), which passes an open connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from engine.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - alembic CLI without pbcount's wrapper
    raise RuntimeError("run migrations with `pbcount db upgrade` (needs an open connection)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

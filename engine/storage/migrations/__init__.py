"""Schema migrations (Alembic) for the store.

Every change to :mod:`engine.storage.schema` needs a revision in ``versions/``
(``tests/integration/test_migrations.py`` fails otherwise: it compares a migrated database with the
metadata). :func:`upgrade_to_head` is the one way to migrate: ``Store.open`` calls it
(a no-op costing one query when the store is current) and so does ``pbcount db upgrade``.

Several stations may open the same PostgreSQL store at the same moment: the upgrade runs
in one transaction holding a PostgreSQL advisory lock (SQLite: a lock file next to the
database), so exactly one of them migrates and the others find the store current.
"""

from __future__ import annotations

import fcntl
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

HERE = Path(__file__).resolve().parent
ADVISORY_LOCK_KEY = 0x7062636F756E74  # "pbcount"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    return cfg


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the versions directory ships with the package
        raise RuntimeError(f"no migration revisions in {HERE / 'versions'}")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    db = engine.url.database
    if not db or db == ":memory:":
        yield
        return
    with open(Path(db).with_name(Path(db).name + "-migrate-lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade_to_head(engine: Engine) -> tuple[str | None, str]:
    """Bring the store's schema to the newest revision; returns (before, after).

    Cheap when already current (one SELECT). Stores created before migrations existed
    (tables but no ``alembic_version``) are upgraded from the baseline, whose revisions
    skip the tables already present.
    """
    head = head_revision()
    with engine.connect() as conn:
        before = current_revision(conn)
    if before == head:
        return before, head
    cfg = alembic_config()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
            before = current_revision(conn)
            if before != head:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
    else:
        with _sqlite_file_lock(engine), engine.begin() as conn:
            before = current_revision(conn)
            if before != head:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
    return before, head

"""The connection to the database: URL from the environment, SQLite pragmas and file
modes, migrations on open, and transactions retried on transient conflicts.

Same code for SQLite (embedded default, one file) and PostgreSQL (several stations):
the SQLAlchemy URL decides. :class:`StoreBase` is what every table module of
``engine/storage`` builds on (``Store`` in ``engine/storage/store.py`` joins them).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from engine.errors import StoreError
from engine.storage.keyfiles import make_private
from engine.storage.migrations import upgrade_to_head
from engine.storage.schema import metadata

DEFAULT_DB_URL = "sqlite:///pbcount.db"
T = TypeVar("T")


def is_transient(exc: OperationalError) -> bool:
    """A conflict that a rerun of the same transaction can resolve."""
    code = getattr(exc.orig, "sqlstate", None)
    if code in ("40001", "40P01"):  # serialization_failure, deadlock_detected
        return True
    return "database is locked" in str(exc.orig)


def safe_url(url: str) -> str:
    """The URL for messages: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the store URL"


def db_url_from_env(url: str | None = None) -> str:
    """The store URL: ``url`` if given, else ``$PBCOUNT_DB``, else :data:`DEFAULT_DB_URL`."""
    return url or os.environ.get("PBCOUNT_DB") or DEFAULT_DB_URL


def now_iso() -> str:
    """The current UTC time as the store writes it (ISO 8601, microseconds, ``Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_sqlite_files_private(database: str | None) -> None:
    """The store links voter serials to selections and times: its file is 0600 (SQLite
    creates the -wal and -shm files with the database file's mode)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite reports the missing directory itself
    try:
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if p == path or p.exists():
                make_private(p)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the store file: {exc.strerror}") from None


def create_store_engine(url: str) -> Engine:
    """A SQLAlchemy engine for ``url``; SQLite gets WAL, a 60 s busy timeout, foreign keys
    and a 64 MiB page cache on every connection, and a 0600 file."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 60}
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"{safe_url(url)}: not a usable database URL ({exc})") from None
    if engine.dialect.name == "sqlite":
        make_sqlite_files_private(engine.url.database)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: keeps the ballot_key index in memory
            cur.close()

    return engine


class StoreBase:
    """One database: opening, closing, insert-or-ignore per dialect, retried transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True) -> Self:
        """Open the store at ``url`` (:func:`db_url_from_env`); with ``create``, bring its
        schema to the latest migration (creating it in a new database)."""
        url = db_url_from_env(url)
        engine = create_store_engine(url)
        store = cls(engine)
        if create:
            # Alembic revisions are the schema's history (engine/storage/migrations);
            # create_all then only adds a table whose revision is still missing, which
            # tests/integration/test_migrations.py reports as a failure.
            try:
                upgrade_to_head(engine)
                metadata.create_all(engine)
            except OperationalError as exc:  # server down, wrong password, unwritable file...
                engine.dispose()
                raise StoreError(f"{safe_url(url)}: cannot open the store: {exc.orig}") from None
        return store

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def sqlite_file(self) -> Path | None:
        """The database file of a SQLite store (None for PostgreSQL or an in-memory store)."""
        db = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        return Path(db) if db and db != ":memory:" else None

    def _insert_ignore(self, table: Any) -> Any:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        if self.engine.dialect.name == "sqlite":
            return sqlite.insert(table).on_conflict_do_nothing()
        raise StoreError(f"unsupported database dialect {self.engine.dialect.name}")

    def _transaction(self, work: Callable[[Connection], T], attempts: int = 8) -> T:
        """Run ``work`` in one transaction, retried on transient conflicts.

        Retried: PostgreSQL serialization failure (40001) and deadlock (40P01), SQLite
        "database is locked" (busy beyond the timeout). The whole transaction is rerun, so
        ``work`` must only write through ``conn``. Backoff: 50 ms doubling, with jitter.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except OperationalError as exc:
                if attempt == attempts or not is_transient(exc):
                    raise
                time.sleep(min(2.0, 0.05 * 2 ** (attempt - 1)) * (0.5 + random.random()))
        raise AssertionError("unreachable")  # pragma: no cover

"""Storage adapter: SQLAlchemy 2. The URL decides the backend (SQLite file by default)."""

from engine.storage.store import DEFAULT_DB_URL, Store

__all__ = ["DEFAULT_DB_URL", "Store"]

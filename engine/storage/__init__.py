"""Storage adapter: SQLAlchemy 2. The URL decides the backend (SQLite file by default).

``Store`` and ``DEFAULT_DB_URL`` are loaded on first use, so importing a submodule that
needs no database (``engine.storage.keyfiles``) does not import SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.storage.store import DEFAULT_DB_URL, Store

__all__ = ["DEFAULT_DB_URL", "Store"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from engine.storage import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

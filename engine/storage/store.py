"""The store: one object over one database, joining the table modules of ``engine/storage``.

=========================  =================================================================
module                     job
=========================  =================================================================
``engine_config.py``       URL from the environment, SQLite pragmas and file mode,
                           migrations on open, transactions retried on transient conflicts
``election_store.py``      freeze the election definition, read it, close intake (barrier)
``batch_store.py``         ingestion batches and their resume points
``ballot_store.py``        ballots and rejections: atomic idempotent chunks, reads, dedup
``audit_store.py``         the hash-chained audit log
``publication_store.py``   the published ballot log and its tree heads
``rows.py``                the typed rows handed out (no dicts read by key)
``review_store.py``,       adjudication queue and API keys: repositories over a ``Store``
``apikey_store.py``
=========================  =================================================================

Same code for SQLite (embedded default, one file) and PostgreSQL (several stations):
the SQLAlchemy URL decides. Callers import ``Store`` (and the few helpers re-exported
below) from here.
"""

from __future__ import annotations

from engine.storage.ballot_store import BallotStore, decode_selections, encode_selections, rejection_key
from engine.storage.batch_store import BatchStore
from engine.storage.engine_config import DEFAULT_DB_URL, db_url_from_env, is_transient, now_iso, safe_url
from engine.storage.publication_store import PublicationStore
from engine.storage.rows import BatchInfo, ChunkOutcome

__all__ = [
    "DEFAULT_DB_URL",
    "BatchInfo",
    "ChunkOutcome",
    "Store",
    "db_url_from_env",
    "decode_selections",
    "encode_selections",
    "is_transient",
    "now_iso",
    "rejection_key",
    "safe_url",
]


class Store(BallotStore, BatchStore, PublicationStore):
    """Repository over one database. Open with :meth:`open` (creates tables if needed)."""

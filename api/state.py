"""Per-app state: the store, the election, keys, the vote writer and the latest count."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.auth import KeyCache
from api.limits import RateLimiter
from api.publication import PublicationCache
from api.results_view import results_document
from api.settings import ApiSettings
from api.vote_intake import VoteWriter
from engine.counting.count import CountResult
from engine.errors import KeyFileError
from engine.formats.results_csv import envelopes_csv, projects_csv
from engine.model.election import Election
from engine.model.tokens import TokenVerifier
from engine.services.count import count_store
from engine.services.sortition import LoadedRecord, load_records
from engine.storage.apikey_store import ApiKeyStore
from engine.storage.keyfiles import RESULTS, load_public_key, load_receipt_secret
from engine.storage.review_store import PENDING, ReviewStore
from engine.storage.store import Store, now_iso

log = logging.getLogger("pbcount.api")


@dataclass(frozen=True)
class PublishedCount:
    """The latest count as the API serves it: the result, when it was counted, the results
    document and the two CSVs.
    """

    result: CountResult
    counted_at: str
    document: dict[str, Any]
    projects_csv: str
    envelopes_csv: str


def count_marker(store: Store) -> int | None:
    """Sequence number of the latest ``counted`` or ``publish`` audit entry (None if none).

    Every count that changes what the public sees logs one of them (``pbcount results``,
    ``POST /v1/count``, publishing), so a server process whose cached count is older than
    the marker recounts: several processes (``pbcount serve --workers N``) and the CLI all
    serve the same results.
    """
    return store.latest_audit_seq(("counted", "publish"))


def default_bundle_dir(settings: ApiSettings, store: Store) -> Path:
    """``--bundle-dir``, else ``bundle/`` next to a SQLite store file, else ``./bundle``."""
    if settings.bundle_dir is not None:
        return settings.bundle_dir
    db = store.sqlite_file()
    if db is not None:
        return db.resolve().parent / "bundle"
    return Path("bundle")


def sortition_records(settings: ApiSettings) -> dict[str, LoadedRecord]:
    """The ``--sortition`` records, verified against the key directory's results.pub (without it,
    each is served unverified, saying so); SortitionInputError for a bad directory list."""
    if not settings.sortition_dirs:
        return {}
    key: Ed25519PublicKey | None = None
    why: str | None = None
    try:
        key = load_public_key(settings.keys_dir, RESULTS)
    except KeyFileError as exc:
        why = str(exc)
    return load_records(settings.sortition_dirs, key, why)


@dataclass
class AppState:
    """What every request shares: settings, store, election, token verifier and receipt
    secret, the caches of the latest count and publication, and the background writer.
    """

    settings: ApiSettings
    store: Store
    election: Election
    verifier: TokenVerifier | None
    receipt_secret: bytes | None
    intake_problem: str | None
    writer: VoteWriter
    key_cache: KeyCache
    rate: RateLimiter
    publications: PublicationCache
    bundle_dir: Path
    sortition: dict[str, LoadedRecord] = field(default_factory=dict)
    _count: PublishedCount | None = None
    _count_lock: threading.Lock = field(default_factory=threading.Lock)
    _loaded: bool = False
    _marker: int | None = None

    @classmethod
    def open(cls, settings: ApiSettings, store: Store | None = None) -> AppState:
        """Open the state from ``settings`` (or ``store``); without keys, intake stays closed and
        says why.
        """
        store = store or Store.open(settings.db_url)
        election = store.election()
        verifier: TokenVerifier | None = None
        secret: bytes | None = None
        problem: str | None = None
        try:
            verifier = TokenVerifier(load_public_key(settings.keys_dir), election.id)
            secret = load_receipt_secret(settings.keys_dir)
        except KeyFileError as exc:
            problem = f"vote intake disabled: {exc}"
        return cls(
            settings=settings, store=store, election=election, verifier=verifier, receipt_secret=secret,
            intake_problem=problem, writer=VoteWriter(store), key_cache=KeyCache(ApiKeyStore(store)),
            rate=RateLimiter(settings.vote_rate, settings.vote_burst),
            publications=PublicationCache(store), bundle_dir=default_bundle_dir(settings, store),
            sortition=sortition_records(settings),
        )

    def _publish(self, result: CountResult) -> PublishedCount:
        row = self.store.election_row()
        at = now_iso()
        pending = ReviewStore(self.store).counts().get(PENDING, 0)
        return PublishedCount(result, at, results_document(result, at, row.closed_at if row else None, pending),
                              projects_csv(result), envelopes_csv(result))

    def latest_count(self) -> PublishedCount | None:
        """The latest count; re-derived (pure recount) at first use and whenever another
        process or the CLI has counted or published since (:func:`count_marker`)."""
        marker = count_marker(self.store)
        with self._count_lock:
            if not self._loaded or marker != self._marker:
                self._loaded = True
                self._marker = marker
                if self.store.was_counted():
                    self._count = self._publish(count_store(self.store, persist=False))
            return self._count

    def recount(self, actor: str | None = None) -> PublishedCount:
        """Count the store now (dedup recorded); with ``actor``, log ``counted``."""
        with self._count_lock:
            self._loaded = True
            self._count = self._publish(count_store(self.store, actor=actor))
            self._marker = count_marker(self.store)
            return self._count

    def warm_up(self) -> None:
        """Compute the latest count and publication before the first request (errors are logged,
        and reported again to the first request).
        """
        try:
            self.latest_count()
            self.publications.latest()
        except Exception:  # the same error will be reported to the first request
            log.exception("warm-up failed")

    def shutdown(self) -> None:
        """Stop the background writer."""
        self.writer.stop()

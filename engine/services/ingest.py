"""E-vote ingestion service: stream a JSON Lines file into the store.

Pipeline per chunk of lines: parse (:mod:`engine.formats.evote`) -> verify token and
validate (:func:`engine.model.ballots.validate_submission`) -> derive receipt -> commit the
chunk atomically (:meth:`engine.storage.Store.commit_chunk`). Parsing and signature
verification (the CPU cost: Ed25519) run in a process pool, one worker per core; the
main process only writes. The file is streamed: at most ``2 x workers`` chunks are in
flight, so memory does not grow with the file.

Idempotent: a batch is identified by the file's SHA-256; a re-run skips the lines already
committed (resume after a crash) and every write ignores what is already stored.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import BinaryIO, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from engine.errors import ElectionClosedError, TokenError
from engine.formats.evote import CR_HINT, GZIP_HINT, hint_for, parse_evote_line
from engine.formats.file_digest import file_sha256
from engine.model.ballots import (
    Ballot,
    Rejection,
    SourceRef,
    Submission,
    normalise_cast_time,
    validate_submission,
)
from engine.model.election import Election
from engine.model.receipts import online_receipt_id
from engine.model.tokens import TokenVerifier, VoterToken
from engine.services.workers import default_workers
from engine.storage.keyfiles import public_key_from_pem, public_key_pem
from engine.storage.store import Store

# Lines per committed chunk (the unit of work redone after a crash); PBCOUNT_CHUNK_LINES
# overrides it for the whole process (e.g. the crash tests use small chunks).
CHUNK_LINES = int(os.environ.get("PBCOUNT_CHUNK_LINES") or 2000)


@dataclass
class IngestReport:
    """What one batch did: counts, the rejections, and (API batches) each item's status."""

    source: str
    sha256: str = ""
    lines: int = 0
    accepted: int = 0
    already_known: int = 0
    rejected: int = 0
    resumed_from_line: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)  # what the file probably is when it is no JSON Lines
    statuses: list[str] = field(default_factory=list)  # with ``line_statuses=True``: per item, in order

    def summary(self) -> str:
        """One line for the operator: lines read, accepted, already known, rejected (and resumption)."""
        parts = [
            f"{self.source}: {self.lines} lines",
            f"{self.accepted} accepted",
            f"{self.already_known} already known",
            f"{self.rejected} rejected",
        ]
        if self.resumed_from_line:
            parts.append(f"resumed after line {self.resumed_from_line}")
        return ", ".join(parts)


def validate_one(
    election: Election, verifier: TokenVerifier, receipt_secret: bytes, sub: Submission | Rejection,
    *, not_after: str | None = None,
) -> Ballot | Rejection:
    """Validate a parsed submission and give an accepted ballot its receipt id."""
    if isinstance(sub, Rejection):
        return sub
    return validate_submission(election, verifier, sub, partial(online_receipt_id, receipt_secret),
                               not_after=not_after)


# A vote line is under 2 KB; a longer line is rejected without being held in memory (a
# file with no newline at all must not be read whole): memory per line is bounded.
MAX_LINE_BYTES = 64 * 1024
# How far in the future of the receiving server's clock an API vote's cast time may be.
CLOCK_SKEW_SECONDS = 300


class OverlongLine(NamedTuple):
    """Stands for a line over :data:`MAX_LINE_BYTES`, out of band: no line content can
    pose as one (the reader yields it instead of bytes)."""

    sha256: str
    size: int
    hint: str = ""


LineItem = tuple[int, "bytes | OverlongLine"]


def _read_lines(f: BinaryIO) -> Iterator[bytes | OverlongLine]:
    """Lines of ``f``; a line over :data:`MAX_LINE_BYTES` is streamed and replaced by an
    :class:`OverlongLine` (its SHA-256, size, and a hint if it holds CRs or is gzip)."""
    while True:
        raw = f.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            hint = hint_for(raw)
            h = hashlib.sha256(raw)
            size = len(raw)
            while not raw.endswith(b"\n"):
                raw = f.readline(1 << 20)
                if not raw:
                    break
                h.update(raw)
                size += len(raw)
            yield OverlongLine(h.hexdigest(), size, hint)
            continue
        yield raw


def body_lines(body: bytes) -> list[LineItem]:
    """The non-blank lines of an uploaded body, numbered from 1, over-long ones out of band."""
    out: list[LineItem] = []
    for i, raw in enumerate(body.split(b"\n"), start=1):
        if len(raw) > MAX_LINE_BYTES:
            out.append((i, OverlongLine(hashlib.sha256(raw).hexdigest(), len(raw), hint_for(raw[:MAX_LINE_BYTES]))))
        elif raw.strip():
            out.append((i, raw))
    return out


def not_after_now(skew_seconds: float = CLOCK_SKEW_SECONDS) -> str:
    """The latest acceptable cast time now (server clock + skew), in the normalised form."""
    return normalise_cast_time((datetime.now(UTC) + timedelta(seconds=skew_seconds)).isoformat())


class BatchVerifier(TokenVerifier):
    """A :class:`TokenVerifier` that checks each distinct token text once per batch (a
    revote or resend in the same chunk reuses the answer, accepted or refused); the
    cache lives as long as this object, i.e. one chunk."""

    def __init__(self, inner: TokenVerifier) -> None:
        self.__dict__.update(inner.__dict__)
        self._inner = inner
        self._seen: dict[str, VoterToken | TokenError] = {}

    def verify(self, text: object) -> VoterToken:
        """As :meth:`TokenVerifier.verify`, memoised per distinct text."""
        if not isinstance(text, str):
            return self._inner.verify(text)
        hit = self._seen.get(text)
        if hit is None:
            try:
                hit = self._inner.verify(text)
            except TokenError as exc:
                hit = exc
            self._seen[text] = hit
        if isinstance(hit, TokenError):
            raise TokenError(hit.reason, str(hit))
        return hit


def process_lines(
    election: Election,
    verifier: TokenVerifier,
    receipt_secret: bytes,
    source_name: str,
    lines: Iterable[LineItem],
    *,
    not_after: str | None = None,
) -> list[Ballot | Rejection]:
    """Parse and validate numbered lines: one ballot or located rejection per non-blank line.

    ``not_after``: refuse cast times later than this (see :func:`not_after_now`).
    """
    out: list[Ballot | Rejection] = []
    verifier = BatchVerifier(verifier)
    for line_no, raw in lines:
        if isinstance(raw, OverlongLine):
            detail = f"line is {raw.size} bytes, over the {MAX_LINE_BYTES}-byte limit of a vote line"
            out.append(Rejection(SourceRef(source_name, line_no), "malformed_line",
                                 detail + (f" ({raw.hint})" if raw.hint else ""), content_sha256=raw.sha256))
            continue
        if not raw.strip():
            continue
        sub = parse_evote_line(raw, SourceRef(source_name, line_no))
        res = validate_one(election, verifier, receipt_secret, sub, not_after=not_after)
        if isinstance(res, Rejection):
            res = replace(res, content_sha256=hashlib.sha256(raw.strip()).hexdigest())
        out.append(res)
    return out


def line_statuses(items: Sequence[Ballot | Rejection], inserted_keys: frozenset[str]) -> list[str]:
    """Status of each item after a commit: the first occurrence of a newly inserted key is
    ``accepted``; any other ballot is ``already_received``; a rejection is ``rejected``."""
    seen: set[str] = set()
    out: list[str] = []
    for it in items:
        if isinstance(it, Rejection):
            out.append("rejected")
        elif it.ballot_key in inserted_keys and it.ballot_key not in seen:
            seen.add(it.ballot_key)
            out.append("accepted")
        else:
            seen.add(it.ballot_key)
            out.append("already_received")
    return out


Chunk = tuple[int, int, list[Ballot | Rejection]]  # (last line number, lines read, items)


IMPORT_CHUNK = 5_000  # ballots per transaction when importing a list already in memory


def ingest_items(
    store: Store, kind: str, source: str, sha256: str, items: Sequence[Ballot | Rejection], *,
    actor: str, progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """:func:`ingest_batch` over ``items`` already read and validated in memory (a pabulib or
    Decidim import), in chunks of :data:`IMPORT_CHUNK`.

    Every chunk is offered again on a re-run, even after a finished import: commits are
    idempotent, and the report then says how many ballots were already in the store.
    """

    def chunks_after(_done: int) -> Iterator[Chunk]:
        for start in range(0, len(items), IMPORT_CHUNK):
            chunk = list(items[start:start + IMPORT_CHUNK])
            yield start + len(chunk), len(chunk), chunk

    return ingest_batch(store, kind, source, sha256, chunks_after, actor=actor, progress=progress)


def ingest_batch(
    store: Store,
    kind: str,
    source: str,
    sha256: str,
    chunks_after: Callable[[int], Iterable[Chunk]],
    *,
    actor: str,
    progress: Callable[[int], None] | None = None,
    keep_rejections: bool = True,
    want_statuses: bool = False,
    on_committed: Callable[[list[Ballot | Rejection]], None] | None = None,
) -> IngestReport:
    """The one batch flow of online votes (CLI files, API uploads, the demo).

    Open (or resume) the batch ``(kind, sha256)``, commit each chunk of
    ``chunks_after(lines already committed)`` atomically and only while the election is
    open (:meth:`Store.commit_chunk` with ``require_open``: the close barrier holds for
    every online writer), then finish the batch together with its ``batch_ingested``
    audit entry. Raises :class:`ElectionClosedError` if the election is or gets closed:
    the chunks committed before stay, nothing after. Returns the report.
    """
    closed = store.closed_at()
    if closed is not None:
        raise ElectionClosedError(f"the election was closed at {closed}; online intake is over")
    batch = store.open_batch(kind, source, sha256)
    report = IngestReport(source=source, sha256=sha256, resumed_from_line=batch.lines_committed)
    if progress and batch.lines_committed:
        progress(batch.lines_committed)
    for last_line, n_lines, items in chunks_after(batch.lines_committed):
        outcome = store.commit_chunk(batch.id, sha256, items, lines_committed=last_line, require_open=True)
        if on_committed is not None:  # e.g. the receipts file of ingest evotes --receipts
            on_committed(items)
        report.lines = max(report.lines, last_line)
        report.accepted += outcome.inserted
        report.already_known += outcome.already_known
        if want_statuses:
            report.statuses.extend(line_statuses(items, outcome.inserted_keys))
        for it in items:
            if isinstance(it, Rejection):
                report.rejected += 1
                report.rejected_by_reason[it.reason] += 1
                if keep_rejections:
                    report.rejections.append(it)
        if progress:
            progress(n_lines)
    report.lines = max(report.lines, batch.lines_committed)
    store.finish_batch(batch.id, audit=(actor, "batch_ingested", {
        "kind": kind, "source": source, "sha256": sha256, "lines": report.lines,
        "accepted": report.accepted, "already_known": report.already_known, "rejected": report.rejected,
    }))
    return report


# ---- worker-process state (set once per worker by the pool initializer)
_W: dict[str, object] = {}


def _init_worker(election: Election, pub_pem: bytes, receipt_secret: bytes, source_name: str) -> None:
    _W["election"] = election
    _W["verifier"] = TokenVerifier(public_key_from_pem(pub_pem), election.id)
    _W["secret"] = receipt_secret
    _W["source"] = source_name


def _work(chunk: list[LineItem]) -> list[Ballot | Rejection]:
    return process_lines(
        _W["election"], _W["verifier"], _W["secret"], _W["source"], chunk  # type: ignore[arg-type]  # _W: the worker globals, typed per key at set-up
    )


def _chunks(path: Path, start_after: int, size: int) -> Iterator[tuple[int, list[LineItem]]]:
    chunk: list[LineItem] = []
    last = start_after
    with path.open("rb") as f:
        for line_no, raw in enumerate(_read_lines(f), start=1):
            if line_no <= start_after:
                continue
            chunk.append((line_no, raw))
            last = line_no
            if len(chunk) >= size:
                yield last, chunk
                chunk = []
    if chunk:
        yield last, chunk


def file_hints(path: Path) -> list[str]:
    """What a file that is not JSON Lines probably is (gzip, CR-only line ends), from its start."""
    with path.open("rb") as f:
        head = f.read(MAX_LINE_BYTES)
    if head.startswith(b"\x1f\x8b"):
        return [GZIP_HINT]
    if b"\r" in head and b"\n" not in head:
        return [CR_HINT]
    return []


def ingest_evote_file(
    store: Store,
    path: Path,
    election: Election,
    public_key: Ed25519PublicKey,
    receipt_secret: bytes,
    *,
    workers: int | None = None,
    chunk_lines: int = CHUNK_LINES,
    progress: Callable[[int], None] | None = None,
    keep_rejections: bool = True,
    actor: str = "cli",
    on_committed: Callable[[list[Ballot | Rejection]], None] | None = None,
) -> IngestReport:
    """Ingest one e-vote file (:func:`ingest_batch`); returns the report. Freezes the election.

    ``progress(n)`` is called after each committed chunk with its number of lines. The
    finished batch (file name, SHA-256, counts) is appended to the audit log as ``actor``.
    Raises :class:`ElectionClosedError` after the close (``POST /v1/election/close``).
    """
    closed = store.closed_at()
    if closed is not None:  # before freezing anything
        raise ElectionClosedError(f"the election was closed at {closed}; online intake is over")
    store.freeze_election(election)
    sha = file_sha256(path)
    workers = workers or default_workers()

    def chunks_after(start: int) -> Iterator[Chunk]:
        chunks = _chunks(path, start, chunk_lines)
        if workers <= 1:
            verifier = TokenVerifier(public_key, election.id)
            for last, chunk in chunks:
                yield last, len(chunk), process_lines(election, verifier, receipt_secret, path.name, chunk)
            return
        pem = public_key_pem(public_key).encode()
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(election, pem, receipt_secret, path.name)
        ) as pool:
            pending: list[tuple[int, int, Future[list[Ballot | Rejection]]]] = []
            for last, chunk in chunks:
                pending.append((last, len(chunk), pool.submit(_work, chunk)))
                if len(pending) >= 2 * workers:
                    lst, n, fut = pending.pop(0)
                    yield lst, n, fut.result()
            for lst, n, fut in pending:
                yield lst, n, fut.result()

    report = ingest_batch(store, "evotes", path.name, sha, chunks_after, actor=actor, progress=progress,
                          keep_rejections=keep_rejections, on_committed=on_committed)
    report.hints = file_hints(path)
    return report

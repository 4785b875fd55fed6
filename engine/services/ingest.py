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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from engine.formats.evote import parse_evote_line
from engine.model.ballots import Ballot, Rejection, SourceRef, Submission, validate_submission
from engine.model.election import Election
from engine.model.receipts import online_receipt_id
from engine.model.tokens import TokenVerifier
from engine.services.workers import default_workers
from engine.storage.keyfiles import public_key_from_pem, public_key_pem
from engine.storage.store import Store

# Lines per committed chunk (the unit of work redone after a crash); PBCOUNT_CHUNK_LINES
# overrides it for the whole process (e.g. the crash tests use small chunks).
CHUNK_LINES = int(os.environ.get("PBCOUNT_CHUNK_LINES") or 2000)


@dataclass
class IngestReport:
    source: str
    lines: int = 0
    accepted: int = 0
    already_known: int = 0
    rejected: int = 0
    resumed_from_line: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{self.source}: {self.lines} lines",
            f"{self.accepted} accepted",
            f"{self.already_known} already known",
            f"{self.rejected} rejected",
        ]
        if self.resumed_from_line:
            parts.append(f"resumed after line {self.resumed_from_line}")
        return ", ".join(parts)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def validate_one(
    election: Election, verifier: TokenVerifier, receipt_secret: bytes, sub: Submission | Rejection
) -> Ballot | Rejection:
    """Validate a parsed submission and give an accepted ballot its receipt id."""
    if isinstance(sub, Rejection):
        return sub
    return validate_submission(election, verifier, sub, partial(online_receipt_id, receipt_secret))


# A vote line is under 2 KB; a longer line is rejected without being held in memory (a
# file with no newline at all must not be read whole): memory per line is bounded.
MAX_LINE_BYTES = 64 * 1024
_TOO_LONG = b"\x00pbcount-line-too-long:"  # stands for such a line: marker + sha256 + ":" + size


def _read_lines(f: BinaryIO) -> Iterator[bytes]:
    """Lines of ``f``; a line over :data:`MAX_LINE_BYTES` is streamed and replaced by a marker."""
    while True:
        raw = f.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            h = hashlib.sha256(raw)
            size = len(raw)
            while not raw.endswith(b"\n"):
                raw = f.readline(1 << 20)
                if not raw:
                    break
                h.update(raw)
                size += len(raw)
            raw = _TOO_LONG + f"{h.hexdigest()}:{size}".encode()
        yield raw


def process_lines(
    election: Election,
    verifier: TokenVerifier,
    receipt_secret: bytes,
    source_name: str,
    lines: Iterable[tuple[int, bytes]],
) -> list[Ballot | Rejection]:
    out: list[Ballot | Rejection] = []
    for line_no, raw in lines:
        if not raw.strip():
            continue
        if raw.startswith(_TOO_LONG):
            digest, _, size = raw[len(_TOO_LONG) :].decode().partition(":")
            out.append(Rejection(SourceRef(source_name, line_no), "malformed_line",
                                 f"line is {size} bytes, over the {MAX_LINE_BYTES}-byte limit of a vote line",
                                 content_sha256=digest))
            continue
        sub = parse_evote_line(raw, SourceRef(source_name, line_no))
        res = validate_one(election, verifier, receipt_secret, sub)
        if isinstance(res, Rejection):
            res = replace(res, content_sha256=hashlib.sha256(raw.strip()).hexdigest())
        out.append(res)
    return out


# ---- worker-process state (set once per worker by the pool initializer)
_W: dict[str, object] = {}


def _init_worker(election: Election, pub_pem: bytes, receipt_secret: bytes, source_name: str) -> None:
    _W["election"] = election
    _W["verifier"] = TokenVerifier(public_key_from_pem(pub_pem), election.id)
    _W["secret"] = receipt_secret
    _W["source"] = source_name


def _work(chunk: list[tuple[int, bytes]]) -> list[Ballot | Rejection]:
    return process_lines(
        _W["election"], _W["verifier"], _W["secret"], _W["source"], chunk  # type: ignore[arg-type]
    )


def _chunks(path: Path, start_after: int, size: int) -> Iterator[tuple[int, list[tuple[int, bytes]]]]:
    chunk: list[tuple[int, bytes]] = []
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
) -> IngestReport:
    """Ingest one e-vote file; returns the report. Freezes the election definition.

    ``progress(n)`` is called after each committed chunk with its number of lines. The
    finished batch (file name, SHA-256, counts) is appended to the audit log as ``actor``.
    """
    store.freeze_election(election)
    sha = file_sha256(path)
    source = path.name
    batch = store.open_batch("evotes", source, sha)
    report = IngestReport(source=source, resumed_from_line=batch.lines_committed)
    if progress and batch.lines_committed:
        progress(batch.lines_committed)
    workers = workers or default_workers()

    def handle(last_line: int, n_lines: int, items: list[Ballot | Rejection]) -> None:
        outcome = store.commit_chunk(batch.id, sha, items, lines_committed=last_line)
        report.lines = last_line
        report.accepted += outcome.inserted
        report.already_known += outcome.already_known
        for it in items:
            if isinstance(it, Rejection):
                report.rejected += 1
                report.rejected_by_reason[it.reason] += 1
                if keep_rejections:
                    report.rejections.append(it)
        if progress:
            progress(n_lines)

    chunks = _chunks(path, batch.lines_committed, chunk_lines)
    if workers <= 1:
        verifier = TokenVerifier(public_key, election.id)
        for last, chunk in chunks:
            handle(last, len(chunk), process_lines(election, verifier, receipt_secret, source, chunk))
    else:
        pem = public_key_pem(public_key).encode()
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(election, pem, receipt_secret, source)
        ) as pool:
            pending: list[tuple[int, int, Future[list[Ballot | Rejection]]]] = []
            for last, chunk in chunks:
                pending.append((last, len(chunk), pool.submit(_work, chunk)))
                if len(pending) >= 2 * workers:
                    lst, n, fut = pending.pop(0)
                    handle(lst, n, fut.result())
            for lst, n, fut in pending:
                handle(lst, n, fut.result())
    if report.lines < batch.lines_committed:
        report.lines = batch.lines_committed
    store.finish_batch(batch.id)
    store.append_audit(actor, "batch_ingested", {
        "kind": "evotes", "source": source, "sha256": sha, "lines": report.lines,
        "accepted": report.accepted, "already_known": report.already_known, "rejected": report.rejected,
    })
    return report

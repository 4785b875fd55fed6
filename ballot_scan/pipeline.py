"""Scan service: read folders/files of scanned ballots into the store, using every core.

Pipeline: list pages (PNG, JPEG, multi-page TIFF, PDF; a TIFF or PDF is hashed and
checked once, :func:`ballot_scan.read.list_tasks`) -> a process pool reads batches of
pages (:meth:`ballot_scan.read.PageReader.read_batch`: align, QR, batched OCR, marks) ->
the main process decides each page (:func:`ballot_scan.decide.decide_page`), verifies
tokens, and streams results to the store every ``commit_every`` pages: accepted ballots
with :meth:`Store.commit_chunk` (idempotent by ballot key, which includes the image
SHA-256), rejected pages as rejections, uncertain pages to the review queue
(:class:`engine.storage.review_store.ReviewStore`, idempotent by image SHA-256). A clean
sheet for a voter and envelope that already has a stored sheet goes to review
(``conflicting_sheet``): the machine never chooses between them. At most
``2 x workers`` batches are in flight, so memory does not grow with the folder.

The pipeline returns values: every decided page is handed to ``on_outcome`` as a
:class:`~ballot_scan.decide.PageOutcome` (the API builds its answer from them), and the
``--report`` JSON is written from the same objects as pages are decided (streamed), one
entry per page, with the summary and the :class:`~ballot_scan.settings.ScanSettings` used.
The settings are also recorded in the ``paper_scanned`` audit entry.

Resume: after each flush the batch records how many leading pages are stored (less the
pages of a multi-page ballot still waiting for its other pages), so an interrupted run
of the same inputs restarts after them instead of reading every page again.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ballot_scan.decide import (
    ACCEPTED,
    NEEDS_REVIEW,
    PARTIAL,
    REJECTED,
    PageOutcome,
    combine_pages,
    decide_page,
)
from ballot_scan.read import PageRead, PageReader, PageTask, list_tasks
from ballot_scan.settings import DEFAULT_SETTINGS, ScanSettings
from engine.counting.dedup import check_paper_allowed
from engine.model.ballots import Ballot, Rejection
from engine.model.election import Election
from engine.model.tokens import TokenVerifier
from engine.services.workers import default_workers
from engine.storage.review_store import NewReviewItem, ReviewStore
from engine.storage.store import Store

PAGES_PER_TASK = 8
COMMIT_EVERY = 128


def read_register(path: Path) -> dict[str, str]:
    """Token register CSV (``serial,short_code,token``) -> {voter serial: token}."""
    with path.open(encoding="utf-8", newline="") as f:
        return {row["serial"]: row["token"] for row in csv.DictReader(f)}


@dataclass
class ScanSummary:
    """What one scan run did with its pages: accepted (and already known), sent to review
    (and new in the queue), rejected, the reasons counted, the time taken, and how many pages
    an interrupted earlier run of the same inputs had already stored."""

    pages: int = 0
    accepted: int = 0
    already_known: int = 0
    needs_review: int = 0
    review_new: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    resumed_from_page: int = 0  # pages of an interrupted run of the same inputs, already stored

    def line(self) -> str:
        """One line for the operator's terminal."""
        resumed = (f" (resumed: the first {self.resumed_from_page} pages were stored by an interrupted run)"
                   if self.resumed_from_page else "")
        return (f"{self.pages} pages: {self.accepted} accepted ({self.already_known} already known), "
                f"{self.needs_review} need review ({self.review_new} new in the queue), {self.rejected} rejected"
                + resumed)

    def as_dict(self) -> dict[str, Any]:
        """The summary as the scan report's and the API's JSON (reasons sorted)."""
        return {"pages": self.pages, "accepted": self.accepted, "already_known": self.already_known,
                "needs_review": self.needs_review, "review_new": self.review_new, "rejected": self.rejected,
                "reasons": dict(sorted(self.reasons.items())), "seconds": round(self.seconds, 3),
                "resumed_from_page": self.resumed_from_page}


# ---- worker-process state
_W: dict[str, Any] = {}


def _init_worker(election: Election, settings: ScanSettings) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    _W["reader"] = PageReader(election, settings)


def _read(tasks: list[PageTask]) -> list[PageRead]:
    return _W["reader"].read_batch(tasks)


def iter_reads(
    election: Election, tasks: Sequence[PageTask], settings: ScanSettings, workers: int,
    pages_per_task: int = PAGES_PER_TASK,
) -> Iterator[PageRead]:
    """Read pages in order, in a process pool (bounded in-flight batches)."""
    chunks = [list(tasks[i : i + pages_per_task]) for i in range(0, len(tasks), pages_per_task)]
    if workers <= 1:
        reader = PageReader(election, settings)
        for c in chunks:
            yield from reader.read_batch(c)
        return
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(election, settings)) as pool:
        pending: list[Future[list[PageRead]]] = []
        for c in chunks:
            pending.append(pool.submit(_read, c))
            if len(pending) >= 2 * workers:
                yield from pending.pop(0).result()
        for f in pending:
            yield from f.result()


def _sheet_conflict(election: Election, sheets: dict[str, dict[str, str]], ballot: Ballot, image_sha256: str) -> str:
    """Why this clean sheet conflicts with the voter's stored sheets ("" when it does not): the
    same envelope again, or more envelopes of a kind than the election allows per voter."""
    stored = {env: img for env, img in sheets.get(ballot.voter_serial, {}).items() if img != image_sha256}
    envs = [env for env, _ in ballot.selections]
    for env in envs:
        if env in stored:
            return (f"this voter's sheet for {env} is already stored (image {stored[env][:12]}…); "
                    "reject this one, or accept it and neither counts")
    for kind, cap in election.voting.max_envelopes_per_kind.items():
        mine = {env for env in (*stored, *envs) if (e := election.envelope(env)) is not None and e.kind == kind}
        if len(mine) > cap and any(env in mine for env in envs):
            return (f"this voter already has a stored {kind} sheet ({', '.join(sorted(mine - set(envs)))}); "
                    f"at most {cap} {kind} envelope(s) per voter: reject this one, or accept it and neither counts")
    return ""


class _ReportWriter:
    """Streams ``{"pages": [...], "summary": {...}}`` to a file."""

    def __init__(self, path: Path | None) -> None:
        self.f: IO[str] | None = path.open("w", encoding="utf-8") if path else None
        self.first = True
        if self.f:
            self.f.write('{"pages": [\n')

    def add(self, entry: dict[str, Any]) -> None:
        if self.f:
            self.f.write(("" if self.first else ",\n") + json.dumps(entry, ensure_ascii=False))
            self.first = False

    def close(self, summary: dict[str, Any]) -> None:
        if self.f:
            self.f.write('\n], "summary": ' + json.dumps(summary) + "}\n")
            self.f.close()


def scan_paths(
    store: Store,
    election: Election,
    public_key: Ed25519PublicKey,
    inputs: Sequence[Path],
    *,
    register: dict[str, str] | None = None,
    settings: ScanSettings = DEFAULT_SETTINGS,
    workers: int | None = None,
    report_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_outcome: Callable[[PageOutcome], None] | None = None,
    actor: str = "cli",
    commit_every: int = COMMIT_EVERY,
) -> ScanSummary:
    """Scan files and folders into the store; returns the summary (see module docstring).

    ``on_outcome`` receives each page's decided :class:`PageOutcome` (multi-page ballots:
    one outcome for the ballot), in input order.
    """
    t0 = time.perf_counter()
    check_paper_allowed(election.precedence)
    store.freeze_election(election)
    verifier = TokenVerifier(public_key, election.id)
    register = register or {}
    tasks = list_tasks(inputs, settings)
    if on_total:
        on_total(len(tasks))
    ident = hashlib.sha256()
    for t in tasks:
        ident.update(f"{t.name}:{t.page}:{os.path.getsize(t.path)}\n".encode())
    run_sha = ident.hexdigest()
    batch = store.open_batch("paper", ", ".join(str(p) for p in inputs)[:500], run_sha)
    # An unfinished run of the same inputs (same names, pages and sizes) stored its first
    # ``lines_committed`` pages: resume after them. A finished run is read again in full
    # (idempotent: nothing changes), e.g. to rebuild its report.
    start = batch.lines_committed if batch.status == "open" else 0
    reviews = ReviewStore(store)
    summary = ScanSummary(resumed_from_page=start)
    report = _ReportWriter(report_path)
    ballots: list[Ballot] = []
    rejections: list[tuple[str, Rejection]] = []
    queue: list[NewReviewItem] = []
    groups: dict[str, list[PageOutcome]] = {}
    group_start: dict[str, int] = {}  # index of the first page of each incomplete multi-page ballot

    def flush(done: int) -> None:
        """Store what is decided, then move the resume point to ``done`` pages, minus the
        pages of multi-page ballots still waiting for their other pages."""
        if ballots:
            res = store.commit_chunk(batch.id, run_sha, ballots)
            summary.already_known += res.already_known
            ballots.clear()
        for sha, rej in rejections:
            store.commit_chunk(batch.id, sha, [rej])
        rejections.clear()
        summary.review_new += reviews.add(queue)
        queue.clear()
        store.advance_batch(batch.id, min([done, *group_start.values()]))

    serials = reviews.paper_serials()
    sheets = reviews.paper_sheets()

    def record(o: PageOutcome) -> None:
        if o.status == ACCEPTED and o.ballot_serial:
            seen = serials.get(o.ballot_serial)
            if seen is not None and seen != o.image_sha256:  # same sheet rescanned, or a copy
                o.status, o.ballot = NEEDS_REVIEW, None
                o.reasons, o.details = ["duplicate_ballot_serial"], [
                    f"ballot serial {o.ballot_serial} already counted from another image ({seen[:12]}…)"]
            else:
                serials[o.ballot_serial] = o.image_sha256
        if o.status == ACCEPTED and o.ballot is not None:  # a second sheet of this voter for an envelope
            problem = _sheet_conflict(election, sheets, o.ballot, o.image_sha256)
            if problem:
                o.status, o.ballot = NEEDS_REVIEW, None
                o.reasons, o.details = ["conflicting_sheet"], [problem]
            else:
                sheets.setdefault(o.ballot.voter_serial, {}).update(
                    {env: o.image_sha256 for env, _ in o.ballot.selections})
        summary.pages += 1
        summary.reasons.update(o.reasons)
        if o.status == ACCEPTED:
            summary.accepted += 1
            assert o.ballot is not None
            ballots.append(o.ballot)
        elif o.status == REJECTED:
            summary.rejected += 1
            if o.rejection is not None:
                rejections.append((o.image_sha256, o.rejection))
        else:
            summary.needs_review += 1
            queue.append(NewReviewItem(o.image, o.page, o.image_sha256, o.envelope_id, o.token, o.ballot_serial,
                                       o.reasons, o.scores, o.selections, batch.id, o.details))
        report.add(o.report())
        if on_outcome is not None:
            on_outcome(o)

    if progress and start:
        progress(start)
    reads = iter_reads(election, tasks[start:], settings, workers or default_workers())
    for n, read in enumerate(reads, start=start + 1):
        o = decide_page(election, verifier, register, read)
        if o.pages and o.pages > 1 and o.ballot_serial and o.status in (PARTIAL, NEEDS_REVIEW):
            groups.setdefault(o.ballot_serial, []).append(o)
            group_start.setdefault(o.ballot_serial, n - 1)
            if len(groups[o.ballot_serial]) == o.pages:
                group_start.pop(o.ballot_serial)
                record(combine_pages(election, verifier, groups.pop(o.ballot_serial), o.pages))
        else:
            record(o)
        if progress:
            progress(1)
        if (n - start) % commit_every == 0:
            flush(n)
    for pages in groups.values():
        record(combine_pages(election, verifier, pages, pages[0].pages or len(pages)))
    group_start.clear()
    flush(len(tasks))
    store.finish_batch(batch.id)
    summary.seconds = time.perf_counter() - t0
    report.close({**summary.as_dict(), "settings": settings.as_dict()})
    store.append_audit(actor, "paper_scanned", {"inputs": [str(p) for p in inputs], "run_sha256": run_sha,
                                               **summary.as_dict(), "settings": settings.as_dict()})
    return summary


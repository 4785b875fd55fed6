"""Paper ballots: ``POST /v1/scans`` (a polling station uploads scans), ``GET /v1/review``
and ``POST /v1/review/{id}`` (adjudication). Operator role.

Same engine path as ``pbcount scan`` / ``pbcount review``: the uploaded images are
written to a private temporary folder and read by :func:`ballot_scan.pipeline.scan_paths`
(accepted ballots stored, bad pages rejected with a reason, uncertain pages queued for
review), whose page outcomes (:class:`ballot_scan.decide.PageOutcome`) and summary make
the answer; scan settings can be overridden per upload (``set=name=value``, recorded in
the audit log); decisions go through :mod:`ballot_scan.adjudicate`. Scans are accepted after the
close (paper is counted after the polls close).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from api.auth import RequireOperator
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.routes_votes import app_state
from api.schemas import ReviewDecision
from ballot_scan.settings import ScanSettings, load_settings, parse_assignments
from engine.counting.dedup import check_paper_allowed
from engine.errors import PrecedenceError, StoreError
from engine.storage.apikey_store import ApiKey
from engine.storage.review_store import ReviewStore

router = APIRouter(prefix="/v1", tags=["paper"])

MAX_FILES = 500
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(i: int, name: str | None) -> str:
    """A file name for upload ``i`` that cannot leave the scan directory: ``NNN-<name>`` with
    only safe characters.
    """
    base = _SAFE.sub("_", Path(name or "scan").name)[:80].strip("._") or "scan"
    return f"{i:03d}-{base}"


def _scan(pb: Any, paths: list[Path], actor: str, settings: ScanSettings) -> dict[str, Any]:
    from ballot_scan.decide import PageOutcome
    from ballot_scan.pipeline import read_register, scan_paths

    register = read_register(pb.settings.register_path) if pb.settings.register_path else None
    assert pb.verifier is not None
    outcomes: list[PageOutcome] = []
    summary = scan_paths(pb.store, pb.election, pb.verifier.public_key, paths, register=register, workers=1,
                         settings=settings, actor=actor, on_outcome=outcomes.append)
    pages = [{
        "file": o.image.split("-", 1)[1] if "-" in o.image else o.image, "page": o.page,
        "status": o.status, "envelope": o.envelope_id, "reasons": o.reasons, "details": o.details,
        "receipt_id": o.ballot.receipt_id if o.ballot else None, "image_sha256": o.image_sha256,
    } for o in outcomes]
    return {"summary": {**summary.as_dict(), "settings": settings.as_dict()}, "pages": pages}


@router.post("/scans", summary="Upload scanned paper ballots (multipart)",
             responses={**ERROR_RESPONSES, 503: {"model": ErrorBody, "description": "no token key"}})
async def post_scans(
    request: Request,
    files: Annotated[list[UploadFile], File(description="PNG, JPEG, TIFF or PDF scans, one or more pages each")],
    set_: Annotated[list[str] | None, Query(alias="set", description="Scan setting overrides, name=value "
                                            "(see docs/paper-ballots.md); recorded in the audit log")] = None,
    key: ApiKey = RequireOperator,
) -> dict[str, Any]:
    """Read every page: ``accepted`` (stored, with its receipt id), ``needs_review`` (queued
    for adjudication, with reasons) or ``rejected`` (with reasons, e.g. ``pdf_unreadable``,
    ``token_bad_signature``). Uploading the same images again stores nothing twice."""
    pb = app_state(request)
    if pb.verifier is None:
        raise ApiError(503, "intake_disabled", pb.intake_problem or "no token key")
    try:
        check_paper_allowed(pb.election.precedence)
    except PrecedenceError as exc:
        raise ApiError(409, "paper_not_allowed", str(exc)) from exc
    if not files:
        raise ApiError(422, "invalid_request", "no file in the upload (multipart field 'files')")
    if len(files) > MAX_FILES:
        raise ApiError(413, "payload_too_large", f"{len(files)} files; at most {MAX_FILES} per upload")
    try:
        settings = load_settings(None, parse_assignments(set_ or []))
    except ValueError as exc:
        raise ApiError(422, "invalid_request", f"scan settings: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="pbcount-scan-") as tmp:
        paths: list[Path] = []
        for i, f in enumerate(files, start=1):
            p = Path(tmp) / safe_name(i, f.filename)
            p.write_bytes(await f.read())
            paths.append(p)
        return await run_in_threadpool(_scan, pb, paths, key.actor, settings)


@router.get("/review", summary="The adjudication queue", responses=ERROR_RESPONSES)
def get_review(
    request: Request,
    status: Annotated[Literal["pending", "accepted", "rejected", "all"], Query()] = "pending",
    key: ApiKey = RequireOperator,
) -> dict[str, Any]:
    """Review items (without voter tokens): image, page, reasons, mark scores, proposal."""
    reviews = ReviewStore(app_state(request).store)
    items = reviews.list(None if status == "all" else status)
    return {"counts": reviews.counts(), "items": [it.public_dict() for it in items]}


@router.post("/review/{item_id}", summary="Decide one review item",
             responses={**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "no such item"}})
async def post_review(
    request: Request,
    decision: ReviewDecision,
    item_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    key: ApiKey = RequireOperator,
) -> dict[str, Any]:
    """Accept (with the selections read by the adjudicator; default: the scanner's proposal)
    or reject a page. Each decision records who decided and why; deciding twice gives 409."""
    from ballot_scan.adjudicate import AdjudicationError, reject, resolve

    pb = app_state(request)
    reviews = ReviewStore(pb.store)
    try:
        item = reviews.get(item_id)
    except StoreError as exc:
        raise ApiError(404, "review_item_not_found", str(exc)) from exc
    if item.status != "pending":
        raise ApiError(409, "already_decided", f"review item {item_id} was already {item.status} "
                       f"by {item.decided_by}")
    try:
        if decision.decision == "accept":
            if pb.verifier is None:
                raise ApiError(503, "intake_disabled", pb.intake_problem or "no token key")
            selections = decision.selections if decision.selections is not None else item.proposed_selections
            decided, ballot = await run_in_threadpool(
                resolve, pb.store, pb.verifier, item_id, selections, key.actor, decision.note or None)
            return {"item": decided.public_dict(), "receipt_id": ballot.receipt_id}
        decided = await run_in_threadpool(reject, pb.store, item_id, key.actor, decision.note or None)
        return {"item": decided.public_dict(), "receipt_id": None}
    except AdjudicationError as exc:
        raise ApiError(422, "invalid_decision", str(exc)) from exc
    except PrecedenceError as exc:
        raise ApiError(409, "paper_not_allowed", str(exc)) from exc
    except StoreError as exc:  # decided concurrently
        raise ApiError(409, "already_decided", str(exc)) from exc

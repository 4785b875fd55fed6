"""Vote intake: ``POST /v1/votes`` (one e-vote) and ``POST /v1/votes:batch`` (JSON Lines)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import RequireOperator
from api.errors import ERROR_RESPONSES, ApiError
from api.schemas import BatchLine, BatchReport, VoteAccepted
from api.state import AppState
from engine.errors import ElectionClosedError
from engine.formats.evote import EVOTE_LINE_SCHEMA
from engine.model.ballots import Ballot, Rejection
from engine.services.ingest import IngestReport, body_lines, ingest_batch, not_after_now, process_lines
from engine.storage.apikey_store import ApiKey

router = APIRouter(prefix="/v1", tags=["votes"])

CLOSED_MESSAGE = "the election is closed; no more votes are accepted"


def app_state(request: Request) -> AppState:
    """The application's :class:`AppState` (set by :func:`api.app.create_app`)."""
    return request.app.state.pb


def _intake(pb: AppState) -> None:
    if pb.verifier is None or pb.receipt_secret is None:
        raise ApiError(503, "intake_disabled", pb.intake_problem or "vote intake disabled")


# The one vote grammar (engine.formats.evote) is the request body's schema: the same
# parser reads this body, each line of /v1/votes:batch and each line of `ingest evotes`.
VOTE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": EVOTE_LINE_SCHEMA}}}}


@router.post(
    "/votes",
    response_model=VoteAccepted,
    status_code=201,
    summary="Submit one e-vote",
    responses={200: {"model": VoteAccepted, "description": "the same vote was already received"},
               503: ERROR_RESPONSES[409], **ERROR_RESPONSES},
    openapi_extra=VOTE_BODY,
)
async def post_vote(request: Request, key: ApiKey = RequireOperator) -> JSONResponse:
    """Validate and store one e-vote; answer with its receipt id.

    201 when stored now, 200 when exactly this vote was already received (same receipt,
    counted once). A new vote with an already used token is stored as well: the
    election's precedence rule decides at count time which of the voter's ballots counts.
    The body is one e-vote line, read by the same parser as ``ingest evotes`` and
    ``/v1/votes:batch`` (unknown or repeated keys are refused). Rejected votes get 422
    with the rejection reason as ``error.code`` (e.g. ``unknown_field``,
    ``token_bad_signature``, ``cast_outside_voting_period``, ``cast_in_future``,
    ``too_many_selections``) and are kept in the rejection log; after the close, 409
    ``election_closed``.
    """
    pb = app_state(request)
    _intake(pb)
    pb.rate.take(key.key_id)
    body = await request.body()
    assert pb.verifier is not None and pb.receipt_secret is not None
    source = f"api:{hashlib.sha256(body).hexdigest()[:16]}"
    parsed = process_lines(pb.election, pb.verifier, pb.receipt_secret, source, [(1, body)],
                           not_after=not_after_now())
    if not parsed:  # an empty or blank body is not a vote
        raise ApiError(422, "malformed_line", "vote rejected: the body is empty", [{"reason": "malformed_line"}])
    res = parsed[0]
    try:
        outcome = await pb.writer.submit(res, key.actor)
    except ElectionClosedError as exc:
        raise ApiError(409, "election_closed", CLOSED_MESSAGE) from exc
    if isinstance(res, Rejection):
        raise ApiError(422, res.reason, f"vote rejected: {res.detail}", [{"reason": res.reason}])
    assert isinstance(res, Ballot)
    answer = VoteAccepted(
        status="accepted" if outcome.status == "accepted" else "already_received",
        receipt_id=res.receipt_id,
        voter_ballots=outcome.voter_ballots,
        precedence=pb.election.precedence,
        note=("stored; one ballot per voter is counted, chosen by the precedence rule"
              if outcome.voter_ballots > 1 else "stored"),
    )
    return JSONResponse(answer.model_dump(), status_code=201 if answer.status == "accepted" else 200)


BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string", "format": "binary"}},
            "text/plain": {"schema": {"type": "string"}},
        },
        "description": "JSON Lines, one e-vote per line (docs/evote-format.md)",
    }
}


@router.post(
    "/votes:batch",
    response_model=BatchReport,
    summary="Upload many e-votes (JSON Lines) with a per-line report",
    openapi_extra=BATCH_BODY,
    responses={**ERROR_RESPONSES, 503: ERROR_RESPONSES[409]},
)
async def post_votes_batch(
    request: Request,
    name: Annotated[str | None, Query(max_length=200, description="name of the uploaded file")] = None,
    key: ApiKey = RequireOperator,
) -> BatchReport:
    """Same processing as ``pbcount ingest evotes``: each line is parsed and validated,
    good lines are stored, bad lines go to the rejection log; the report lists every
    non-blank line. Re-uploading the same bytes changes nothing (idempotent)."""
    pb = app_state(request)
    _intake(pb)
    body = await request.body()
    lines = body_lines(body)
    if len(lines) > pb.settings.max_batch_lines:
        raise ApiError(413, "payload_too_large",
                       f"{len(lines)} lines; at most {pb.settings.max_batch_lines} per batch")
    pb.rate.take(key.key_id, max(1, len(lines)))
    sha = hashlib.sha256(body).hexdigest()
    source = f"api-batch:{name}" if name else f"api-batch:{sha[:16]}"
    assert pb.verifier is not None and pb.receipt_secret is not None
    items = await run_in_threadpool(process_lines, pb.election, pb.verifier, pb.receipt_secret, source, lines,
                                    not_after=not_after_now())
    last_line = lines[-1][0] if lines else 0

    def commit() -> IngestReport:  # on the writer thread, after the votes handed to it before
        return ingest_batch(pb.store, "evotes-api", source, sha, lambda _start: [(last_line, len(lines), items)],
                            actor=key.actor, want_statuses=True)

    try:
        report: IngestReport = await asyncio.wrap_future(pb.writer.call(commit))
    except ElectionClosedError as exc:
        raise ApiError(409, "election_closed", CLOSED_MESSAGE) from exc
    results: list[BatchLine] = []
    for it, st in zip(items, report.statuses, strict=True):
        if isinstance(it, Rejection):
            results.append(BatchLine(line=it.source.line, status="rejected", reason=it.reason, detail=it.detail))
        else:
            results.append(BatchLine(line=it.source.line, status=st, receipt_id=it.receipt_id))  # type: ignore[arg-type]  # st is one of the Literal statuses
    return BatchReport(
        source=source, sha256=sha, lines=len(lines), accepted=report.accepted,
        already_received=report.already_known, rejected=report.rejected,
        rejected_by_reason=dict(sorted(report.rejected_by_reason.items())), results=results,
    )

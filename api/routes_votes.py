"""Vote intake: ``POST /v1/votes`` (one e-vote) and ``POST /v1/votes:batch`` (JSON Lines)."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.auth import RequireOperator
from api.errors import ERROR_RESPONSES, ApiError
from api.schemas import BatchLine, BatchReport, VoteAccepted, VoteIn
from api.state import AppState
from api.vote_intake import is_closed, line_statuses
from engine.errors import ElectionClosedError
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef, Submission
from engine.model.election import canonical_json
from engine.services.ingest import process_lines, validate_one
from engine.storage.apikey_store import ApiKey
from engine.storage.store import ChunkOutcome

router = APIRouter(prefix="/v1", tags=["votes"])

CLOSED_MESSAGE = "the election is closed; no more votes are accepted"


def app_state(request: Request) -> AppState:
    return request.app.state.pb  # type: ignore[no-any-return]


def _intake(pb: AppState) -> None:
    if pb.verifier is None or pb.receipt_secret is None:
        raise ApiError(503, "intake_disabled", pb.intake_problem or "vote intake disabled")


# The body is parsed by pydantic straight from the JSON bytes (``model_validate_json``,
# in Rust) instead of FastAPI's generic body handling: the hot path of vote intake.
VOTE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": VoteIn.model_json_schema()}}}}


def parse_vote(body: bytes) -> VoteIn:
    """Validate a vote body; schema errors are raised as FastAPI's (422 ``invalid_request``)."""
    try:
        return VoteIn.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from None


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
    Rejected votes get 422 with the rejection reason as ``error.code`` (e.g.
    ``token_bad_signature``, ``project_not_in_envelope``, ``too_many_selections``); after
    the close, 409 ``election_closed``.
    """
    pb = app_state(request)
    _intake(pb)
    pb.rate.take(key.key_id)
    vote = parse_vote(await request.body())
    doc = vote.model_dump()
    body_sha = hashlib.sha256(canonical_json(doc).encode()).hexdigest()
    sub = Submission(token=vote.token, channel=Channel.ONLINE, selections=dict(vote.selections),
                     source=SourceRef(f"api:{body_sha[:16]}", 1), cast_at=vote.cast_at)
    assert pb.verifier is not None and pb.receipt_secret is not None
    res = validate_one(pb.election, pb.verifier, pb.receipt_secret, sub)
    try:
        outcome = await pb.writer.submit(res, key.actor)
    except ElectionClosedError as exc:
        raise ApiError(409, "election_closed", CLOSED_MESSAGE) from exc
    if isinstance(res, Rejection):
        raise ApiError(422, res.reason, f"vote rejected: {res.detail}", [{"reason": res.reason}])
    assert isinstance(res, Ballot)
    body = VoteAccepted(
        status="accepted" if outcome.status == "accepted" else "already_received",
        receipt_id=res.receipt_id,
        voter_ballots=outcome.voter_ballots,
        precedence=pb.election.precedence,
        note=("stored; one ballot per voter is counted, chosen by the precedence rule"
              if outcome.voter_ballots > 1 else "stored"),
    )
    return JSONResponse(body.model_dump(), status_code=201 if body.status == "accepted" else 200)


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
    lines = [(i, raw) for i, raw in enumerate(body.split(b"\n"), start=1) if raw.strip()]
    if len(lines) > pb.settings.max_batch_lines:
        raise ApiError(413, "payload_too_large",
                       f"{len(lines)} lines; at most {pb.settings.max_batch_lines} per batch")
    pb.rate.take(key.key_id, max(1, len(lines)))
    sha = hashlib.sha256(body).hexdigest()
    source = f"api-batch:{name}" if name else f"api-batch:{sha[:16]}"
    assert pb.verifier is not None and pb.receipt_secret is not None
    items = await run_in_threadpool(process_lines, pb.election, pb.verifier, pb.receipt_secret, source, lines)

    def audit(outcome: ChunkOutcome) -> list[tuple[str, str, dict[str, Any]]]:
        statuses = line_statuses(items, outcome.inserted_keys)
        return [(key.actor, "batch_ingested", {
            "kind": "evotes-api", "source": source, "sha256": sha, "lines": len(lines),
            "accepted": statuses.count("accepted"), "already_known": statuses.count("already_received"),
            "rejected": statuses.count("rejected"),
        })]

    def commit() -> list[str]:
        if is_closed(pb.store):
            raise ElectionClosedError
        batch = pb.store.open_batch("evotes-api", source, sha)
        outcome = pb.store.commit_chunk(batch.id, sha, items, lines_committed=lines[-1][0] if lines else 0,
                                        require_open=True, audit=audit)  # raises ElectionClosedError
        pb.store.finish_batch(batch.id)
        return line_statuses(items, outcome.inserted_keys)

    try:
        statuses = await asyncio.wrap_future(pb.writer.call(commit))
    except ElectionClosedError as exc:
        raise ApiError(409, "election_closed", CLOSED_MESSAGE) from exc
    results: list[BatchLine] = []
    by_reason: Counter[str] = Counter()
    for it, st in zip(items, statuses, strict=True):
        if isinstance(it, Rejection):
            by_reason[it.reason] += 1
            results.append(BatchLine(line=it.source.line, status="rejected", reason=it.reason, detail=it.detail))
        else:
            results.append(BatchLine(line=it.source.line, status=st, receipt_id=it.receipt_id))  # type: ignore[arg-type]
    return BatchReport(
        source=source, sha256=sha, lines=len(lines), accepted=statuses.count("accepted"),
        already_received=statuses.count("already_received"), rejected=statuses.count("rejected"),
        rejected_by_reason=dict(sorted(by_reason.items())), results=results,
    )

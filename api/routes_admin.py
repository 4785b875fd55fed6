"""Admin actions: close the election, count. (Publishing: see routes_bundle.)"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.auth import RequireAdmin
from api.errors import ERROR_RESPONSES
from api.routes_votes import app_state
from api.schemas import CloseOut
from engine.storage.apikey_store import ApiKey

router = APIRouter(prefix="/v1", tags=["admin"])


@router.post("/election/close", response_model=CloseOut, summary="Close the election",
             responses=ERROR_RESPONSES)
async def close_election(request: Request, key: ApiKey = RequireAdmin) -> CloseOut:
    """Stop vote intake. Votes already acknowledged are stored; every later vote gets 409
    ``election_closed``. Closing twice is harmless (``already_closed: true``)."""
    pb = app_state(request)
    ts, already = await asyncio.wrap_future(pb.writer.close_election(key.actor))
    return CloseOut(closed_at=ts, already_closed=already)


@router.post("/count", summary="Count the store (dedup, tally, allocate)", responses=ERROR_RESPONSES)
async def count(request: Request, key: ApiKey = RequireAdmin) -> dict[str, Any]:
    """Run the same count as ``pbcount results``; the public results then show it.

    Returns the results document (same as ``GET /v1/results``)."""
    pb = app_state(request)
    published = await run_in_threadpool(pb.recount, key.actor)
    return published.document

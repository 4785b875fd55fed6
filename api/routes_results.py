"""Public, read-only results: JSON and the two CSV files for journalists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.errors import ApiError, ErrorBody
from api.routes_votes import app_state
from api.state import PublishedCount

router = APIRouter(prefix="/v1", tags=["public"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "no results yet"}}


def published_or_404(request: Request) -> PublishedCount:
    """The latest count, or a 404 ``results_not_available`` error before the first count."""
    pc = app_state(request).latest_count()
    if pc is None:
        raise ApiError(404, "results_not_available", "the election has not been counted yet")
    return pc


@router.get("/results", summary="Results (JSON)", responses=NOT_FOUND)
def results(request: Request) -> dict[str, Any]:
    """Per envelope: budget, spent, left over, ballots by channel, every project with its
    votes (online, paper, total), rank, and whether it is funded; turnout by channel;
    popular-neighbourhood share vs quota."""
    return published_or_404(request).document


def _csv(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV, UTF-8"},
    **NOT_FOUND,
}


@router.get("/results/projects.csv", summary="projects.csv", response_class=Response,
            responses=CSV_RESPONSES)
def projects_csv(request: Request) -> Response:
    """One row per project (see engine/formats/results_csv.py for the columns)."""
    return _csv(published_or_404(request).projects_csv, "projects.csv")


@router.get("/results/envelopes.csv", summary="envelopes.csv", response_class=Response,
            responses=CSV_RESPONSES)
def envelopes_csv(request: Request) -> Response:
    """One row per envelope, no total row (columns in docs/results-csv.md)."""
    return _csv(published_or_404(request).envelopes_csv, "envelopes.csv")

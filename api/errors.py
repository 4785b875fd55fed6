"""One error shape for every failure, and handlers that never leak a stack trace.

Every 4xx/5xx body is ``{"error": {"code": str, "message": str, "details": [...]}}``;
``code`` is stable and machine-readable (a rejection reason such as
``token_bad_signature``, or ``unauthorized``, ``forbidden``, ``election_closed``,
``rate_limited``, ``payload_too_large``, ``invalid_request``, ``not_found``,
``internal_error``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import PbcountError

log = logging.getLogger("pbcount.api")

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorInfo(BaseModel):
    """A machine-readable ``code``, a human-readable ``message``, and details (e.g. one per
    invalid field).
    """

    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorBody(BaseModel):
    """The body of every error answer: ``{"error": {code, message, details}}``."""

    error: ErrorInfo


class ApiError(PbcountError):
    """Raise to answer with ``status`` and a machine-readable ``code``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers


def error_response(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON error answer with ``status`` in the :class:`ErrorBody` shape."""
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return JSONResponse(body, status_code=status, headers=headers)


def _clean_validation_errors(errors: list[Any]) -> list[dict[str, Any]]:
    out = []
    for e in errors[:50]:
        out.append({
            "loc": [str(x) for x in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        })
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Answer API errors, request validation errors and pbcount errors in the
    :class:`ErrorBody` shape (never a stack trace).
    """
    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        details = _clean_validation_errors(list(exc.errors()))
        where = ", ".join(".".join(d["loc"]) + ": " + d["msg"] for d in details[:3])
        return error_response(422, "invalid_request", f"request does not match the schema: {where}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", req.method, req.url.path)
        return error_response(500, "internal_error", "internal error; the operator can see the server log")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody, "description": STATUS_CODES[s].replace("_", " ")}
    for s in (401, 403, 409, 413, 422, 429)
}

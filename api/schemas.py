"""Pydantic models of the API's request and response bodies (the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from engine.model.receipts import RECEIPT_PATTERN

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ReceiptId = Annotated[str, StringConstraints(pattern=f"^{RECEIPT_PATTERN}$")]


class VoteIn(BaseModel):
    """One e-vote, as in the e-vote JSON Lines format (docs/evote-format.md)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "token": "PB1-…", "cast_at": "2026-09-12T10:15:00Z",
        "selections": {"paris": ["P012", "P101"], "d11": ["D11-004"]},
    }]})

    token: Annotated[str, StringConstraints(min_length=1, max_length=300)] = Field(
        description="the voter's signed token text (PB1-…)")
    cast_at: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="ISO 8601 time with a timezone")
    selections: Annotated[dict[ShortText, Annotated[list[ShortText], Field(max_length=100)]],
                          Field(max_length=50)] = Field(description="envelope id -> project ids")


class VoteAccepted(BaseModel):
    status: Literal["accepted", "already_received"] = Field(
        description="accepted: stored now; already_received: the same vote was stored before "
                    "(idempotent: same receipt, counted once)")
    receipt_id: str
    voter_ballots: int = Field(description="ballots of this voter now in the store, this one included")
    precedence: str = Field(description="the rule deciding which of a voter's ballots counts")
    note: str


class BatchLine(BaseModel):
    line: int
    status: Literal["accepted", "already_received", "rejected"]
    receipt_id: str | None = None
    reason: str | None = None
    detail: str | None = None


class BatchReport(BaseModel):
    source: str
    sha256: str
    lines: int
    accepted: int
    already_received: int
    rejected: int
    rejected_by_reason: dict[str, int]
    results: list[BatchLine]


class CloseOut(BaseModel):
    closed_at: str
    already_closed: bool


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "reject"]
    selections: Annotated[list[ShortText], Field(max_length=100)] | None = Field(
        default=None, description="final project ids when accepting (default: the proposed ones)")
    note: Annotated[str, StringConstraints(max_length=1000)] = ""

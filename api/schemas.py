"""Pydantic models of the API's request and response bodies (the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from engine.model.receipts import RECEIPT_PATTERN

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ReceiptId = Annotated[str, StringConstraints(pattern=f"^{RECEIPT_PATTERN}$")]


class VoteAccepted(BaseModel):
    """The answer to one accepted vote: its status, receipt id and the voter's ballot count."""

    status: Literal["accepted", "already_received"] = Field(
        description="accepted: stored now; already_received: the same vote was stored before "
                    "(idempotent: same receipt, counted once)")
    receipt_id: str
    voter_ballots: int = Field(description="ballots of this voter now in the store, this one included")
    precedence: str = Field(description="the rule deciding which of a voter's ballots counts")
    note: str


class BatchLine(BaseModel):
    """The outcome of one line of a batch: accepted, already received or rejected (with why)."""

    line: int
    status: Literal["accepted", "already_received", "rejected"]
    receipt_id: str | None = None
    reason: str | None = None
    detail: str | None = None


class BatchReport(BaseModel):
    """The outcome of a batch: its source and hash, line counts by outcome, and each line."""

    source: str
    sha256: str
    lines: int
    accepted: int
    already_received: int
    rejected: int
    rejected_by_reason: dict[str, int]
    results: list[BatchLine]


class CloseOut(BaseModel):
    """The answer to closing online intake: when it closed, and whether it already was closed."""

    closed_at: str
    already_closed: bool


class ReviewDecision(BaseModel):
    """A reviewer's decision on a review item: accept (with the final selections) or reject."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "reject"]
    selections: Annotated[list[ShortText], Field(max_length=100)] | None = Field(
        default=None, description="final project ids when accepting (default: the proposed ones)")
    note: Annotated[str, StringConstraints(max_length=1000)] = ""

"""Ballots: what a voter submitted (:class:`Submission`), and a validated :class:`Ballot`.

Both channels (``online`` e-votes and ``paper`` scans) go through :func:`validate_submission`,
a pure function of the election, a token verifier and the submission. It returns either a
:class:`Ballot` or a :class:`Rejection` whose ``reason`` is one of :data:`REJECTION_REASONS`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import cast

from engine.errors import TokenError
from engine.model.election import Election
from engine.model.ids import EnvelopeId, ProjectId, ReceiptId
from engine.model.tokens import TokenVerifier


class Channel(StrEnum):
    """How a ballot was cast: online (e-vote) or on paper (scanned)."""

    ONLINE = "online"
    PAPER = "paper"


REJECTION_REASONS: dict[str, str] = {
    "malformed_line": "line is not valid JSON or not a JSON object",
    "duplicate_key": "a key is given twice in the same JSON object",
    "unknown_field": "a key that is not part of the vote line format",
    "missing_field": "a required field is missing, has the wrong type or is too large",
    "token_malformed": "token is not a pbcount token",
    "token_truncated": "token is truncated",
    "token_bad_version": "token version unknown",
    "token_foreign_election": "token was made for another election",
    "token_bad_signature": "token signature invalid (forged, tampered or another key)",
    "bad_cast_time": "cast time is not an ISO 8601 timestamp",
    "cast_outside_voting_period": "cast time is before the voting period opens or after it closes",
    "cast_in_future": "cast time is later than the receiving server's clock (beyond the allowed skew)",
    "empty_ballot": "ballot selects no envelope or no project",
    "unknown_envelope": "envelope does not exist in this election",
    "envelope_not_allowed": "too many envelopes of one kind, or a required kind is missing",
    "unknown_project": "project does not exist in this election",
    "project_not_in_envelope": "project belongs to another envelope (wrong district)",
    "duplicate_project": "the same project is selected twice",
    "too_few_selections": "fewer projects than the envelope's minimum",
    "too_many_selections": "more projects than the envelope allows (overvote)",
    "category_limit_exceeded": "too many projects of one category",
    "over_budget_selection": "selected projects cost more than the envelope allows",
    "duplicate_submission": "exactly the same submission was already received",
}


@dataclass(frozen=True)
class SourceRef:
    """Where a submission came from: file (or upload) name and 1-based line / page."""

    name: str
    line: int

    def __str__(self) -> str:
        return f"{self.name}:{self.line}"


# A valid ballot's selections: sorted ``(envelope id, sorted project ids)`` pairs
Selections = tuple[tuple[EnvelopeId, tuple[ProjectId, ...]], ...]


@dataclass(frozen=True)
class Submission:
    """A ballot as received, not yet validated. ``selections`` maps envelope -> project ids."""

    token: str
    channel: Channel
    selections: dict[str, list[str]]
    source: SourceRef
    cast_at: str | None = None
    image_sha256: str | None = None
    ballot_serial: str | None = None


@dataclass(frozen=True)
class Ballot:
    """A valid ballot. ``selections``: sorted ``(envelope, sorted project ids)`` pairs."""

    ballot_key: str
    voter_serial: str
    channel: Channel
    cast_at: str
    selections: Selections
    source: SourceRef
    image_sha256: str | None = None
    ballot_serial: str | None = None
    receipt_id: ReceiptId = ReceiptId("")

    def projects(self, envelope: str) -> tuple[ProjectId, ...]:
        """The projects this ballot selects in ``envelope`` (empty if it does not vote there)."""
        for env, projects in self.selections:
            if env == envelope:
                return projects
        return ()


@dataclass(frozen=True)
class Rejection:
    """A submission that is not a valid ballot: where it came from, a reason (a key of
    ``REJECTION_REASONS``), a human-readable detail, the channel and what could be read of it.
    """

    source: SourceRef
    reason: str
    detail: str
    channel: Channel = Channel.ONLINE
    voter_serial: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # SHA-256 of the rejected input (line bytes, image bytes + page): the same bad input
    # received twice, under any file name, is logged once.
    content_sha256: str | None = None

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}: {self.detail}"


def normalise_cast_time(value: str) -> str:
    """Parse ISO 8601 and return UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; raise ValueError."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        raise ValueError("timestamp needs a timezone (e.g. Z)")
    utc = dt.astimezone(UTC)
    if utc.year < 1000:  # isoformat and strftime("%Y") differ there; keep the historic form
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"  # strftime's result, 5x faster


_CAST_AT_LEN = len("2026-01-01T00:00:00.000000Z")


def ballot_key(
    channel: Channel,
    voter_serial: str,
    cast_at: str,
    selections: Selections,
    image_sha256: str | None,
) -> str:
    """SHA-256 identifying a submission: the same vote received twice has the same key."""
    sel = ";".join(f"{env}:{','.join(p)}" for env, p in selections)
    text = "\n".join(["pbcount-ballot-v1", channel.value, voter_serial, cast_at, sel, image_sha256 or ""])
    return hashlib.sha256(text.encode()).hexdigest()


def validate_submission(
    election: Election, verifier: TokenVerifier, sub: Submission,
    receipt: Callable[[str], ReceiptId] | None = None, *, not_after: str | None = None,
) -> Ballot | Rejection:
    """Check a submission against the election; first failing check wins.

    Order: token, cast time (ISO 8601 with timezone, inside the election's voting period
    when it declares one, not after ``not_after`` when given: the receiving server's clock
    plus the allowed skew, in the normalised form of :func:`normalise_cast_time`),
    envelopes (known, allowed combination; ``required_kinds`` on online ballots only -- a
    paper sheet is one envelope of the voter's paper ballot, whose sheets are checked
    together by :mod:`engine.counting.dedup`), then per envelope:
    projects known, in this envelope, not repeated, count within [min, max], category
    limits, total cost within ``max_selection_cost``. ``receipt`` maps the accepted
    ballot's key to its receipt id (e.g. :func:`engine.model.receipts.online_receipt_id`).
    Cost: one Ed25519 verification plus O(selected projects).
    """

    def reject(reason: str, detail: str, serial: str | None = None) -> Rejection:
        return Rejection(sub.source, reason, detail, sub.channel, serial)

    try:
        token = verifier.verify(sub.token)
    except TokenError as exc:
        return reject(exc.reason, str(exc))
    serial = token.serial_text
    if sub.channel is Channel.ONLINE or sub.cast_at is not None:
        try:
            cast_at = normalise_cast_time(sub.cast_at or "")
        except (ValueError, TypeError, OverflowError):  # Overflow: e.g. 0001-01-01T00:00:00+14:00
            return reject("bad_cast_time", f"cast_at {sub.cast_at!r} is not ISO 8601 with timezone", serial)
        voting = election.voting
        # normalised times of years 1000-9999 compare as strings; any other year is outside
        if voting.opens_utc is not None and (
            len(cast_at) != _CAST_AT_LEN or not voting.opens_utc <= cast_at < voting.closes_utc  # type: ignore[operator]  # closes_utc is set whenever opens_utc is (VotingPolicy)
        ):
            return reject("cast_outside_voting_period", f"cast_at {sub.cast_at!r} is outside the voting period "
                          f"[{voting.opens}, {voting.closes})", serial)
        if not_after is not None and len(cast_at) == _CAST_AT_LEN and cast_at > not_after:
            return reject("cast_in_future", f"cast_at {sub.cast_at!r} is later than the server's clock "
                          f"allows ({not_after})", serial)
    else:
        cast_at = ""
    chosen_by_env = {env: p for env, p in sub.selections.items() if p}
    if not chosen_by_env:
        return reject("empty_ballot", "no project selected", serial)

    kinds: dict[str, int] = {}
    for env_id in chosen_by_env:
        env = election.envelope(env_id)
        if env is None:
            return reject("unknown_envelope", f"envelope {env_id!r} does not exist", serial)
        kinds[env.kind] = kinds.get(env.kind, 0) + 1
    policy = election.voting
    for kind, n in kinds.items():
        cap = policy.max_envelopes_per_kind.get(kind, 0)
        if n > cap:
            return reject(
                "envelope_not_allowed",
                f"{n} envelopes of kind {kind!r} on one ballot; at most {cap} allowed",
                serial,
            )
    # A paper sheet covers one envelope: the voter's sheets are checked for required kinds
    # together, at count time (engine.counting.dedup); an online ballot is checked here.
    for kind in policy.required_kinds if sub.channel is Channel.ONLINE else ():
        if kind not in kinds:
            return reject("envelope_not_allowed", f"a {kind!r} envelope is required", serial)

    canon: list[tuple[str, tuple[str, ...]]] = []
    for env_id in sorted(chosen_by_env):
        env = election.envelope(env_id)
        assert env is not None
        chosen = chosen_by_env[env_id]
        seen: set[str] = set()
        cats: dict[str, int] = {}
        total_cost = 0
        for pid in chosen:
            proj = election.project(pid)
            if proj is None:
                return reject("unknown_project", f"project {pid!r} does not exist", serial)
            if proj.envelope != env_id:
                return reject(
                    "project_not_in_envelope",
                    f"project {pid!r} belongs to envelope {proj.envelope!r}, not {env_id!r}",
                    serial,
                )
            if pid in seen:
                return reject("duplicate_project", f"project {pid!r} selected twice in {env_id!r}", serial)
            seen.add(pid)
            if proj.category is not None:
                cats[proj.category] = cats.get(proj.category, 0) + 1
            total_cost += proj.cost
        if len(chosen) < env.min_selections:
            return reject(
                "too_few_selections",
                f"{len(chosen)} projects in {env_id!r}; at least {env.min_selections} required",
                serial,
            )
        if len(chosen) > env.max_selections:
            return reject(
                "too_many_selections",
                f"{len(chosen)} projects in {env_id!r}; at most {env.max_selections} allowed",
                serial,
            )
        limits = env.category_limits
        if limits and any(n > limits.get(cat, n) for cat, n in cats.items()):
            for cat, lim in limits.items():  # report the first one in the definition's order
                if cats.get(cat, 0) > lim:
                    return reject(
                        "category_limit_exceeded",
                        f"{cats[cat]} projects of category {cat!r} in {env_id!r}; at most {lim}",
                        serial,
                    )
        if env.max_selection_cost is not None and total_cost > env.max_selection_cost:
            return reject(
                "over_budget_selection",
                f"selection in {env_id!r} costs {total_cost}, more than {env.max_selection_cost}",
                serial,
            )
        canon.append((env_id, tuple(sorted(chosen))))
    selections = cast(Selections, tuple(canon))  # every id was just checked against the election
    key = ballot_key(sub.channel, serial, cast_at, selections, sub.image_sha256)
    return Ballot(
        ballot_key=key,
        voter_serial=serial,
        channel=sub.channel,
        cast_at=cast_at,
        selections=selections,
        source=sub.source,
        image_sha256=sub.image_sha256,
        ballot_serial=sub.ballot_serial,
        receipt_id=receipt(key) if receipt is not None else ReceiptId(""),
    )

"""One counted ballot per voter: the published precedence rules.

Ballots are grouped by voter serial (from the signed token). Within a group exactly one
ballot is counted; every other one is *superseded*, kept, and given a reason.

Rules (``election.precedence``):

* ``paper-first`` (default, as in Estonia): a paper ballot beats every online vote; among
  online votes the latest ``cast_at`` counts; among several paper ballots of one voter the
  earliest scanned counts and the others are ``duplicate_paper_ballot``.
* ``online-first``: the latest online vote beats every paper ballot.
* ``latest``: the latest ``cast_at`` across both channels counts.

Ties (equal time) are broken by the larger ``ballot_key`` (a SHA-256), which makes the
outcome independent of the order ballots were received. Complexity O(n log n).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.ballots import Ballot, Channel

SUPERSEDED_REASONS = {
    "superseded_by_paper": "an online vote replaced by the voter's paper ballot",
    "superseded_by_later_online": "an online vote replaced by the voter's later online vote",
    "superseded_by_online": "a paper ballot replaced by the voter's online vote (online-first)",
    "superseded_by_later_ballot": "replaced by the voter's later ballot (latest rule)",
    "duplicate_paper_ballot": "a second paper ballot with the same voter token",
}


@dataclass(frozen=True)
class Superseded:
    ballot: Ballot
    reason: str
    by: str  # ballot_key of the counted ballot


@dataclass(frozen=True)
class DedupResult:
    counted: tuple[Ballot, ...]
    superseded: tuple[Superseded, ...]


def _winner_key(precedence: str, b: Ballot) -> tuple:
    paper = b.channel is Channel.PAPER
    if precedence == "paper-first":
        # paper first, earliest paper; then latest online
        return (1, _neg(b.cast_at), _neg(b.ballot_key)) if paper else (0, b.cast_at, b.ballot_key)
    if precedence == "online-first":
        return (0, _neg(b.cast_at), _neg(b.ballot_key)) if paper else (1, b.cast_at, b.ballot_key)
    if precedence == "latest":
        return (b.cast_at, b.ballot_key)
    raise ValueError(f"unknown precedence rule {precedence!r}")


def _neg(text: str) -> tuple[int, ...]:
    """Order-reversing key for strings (so that ``max`` picks the smallest)."""
    return tuple(-ord(c) for c in text) + (1,)


def _reason(precedence: str, loser: Ballot, winner: Ballot) -> str:
    if precedence == "latest":
        return "superseded_by_later_ballot"
    if loser.channel is Channel.PAPER and winner.channel is Channel.PAPER:
        return "duplicate_paper_ballot"
    if loser.channel is Channel.ONLINE and winner.channel is Channel.PAPER:
        return "superseded_by_paper"
    if loser.channel is Channel.PAPER and winner.channel is Channel.ONLINE:
        return "superseded_by_online"
    return "superseded_by_later_online"


def resolve(ballots: Iterable[Ballot], precedence: str) -> DedupResult:
    """Apply the precedence rule; the result is sorted by ballot key."""
    groups: dict[str, list[Ballot]] = {}
    for b in ballots:
        groups.setdefault(b.voter_serial, []).append(b)
    counted: list[Ballot] = []
    superseded: list[Superseded] = []
    for group in groups.values():
        if len(group) == 1:
            counted.append(group[0])
            continue
        winner = max(group, key=lambda b: _winner_key(precedence, b))
        counted.append(winner)
        for b in group:
            if b is not winner:
                superseded.append(Superseded(b, _reason(precedence, b, winner), winner.ballot_key))
    counted.sort(key=lambda b: b.ballot_key)
    superseded.sort(key=lambda s: s.ballot.ballot_key)
    return DedupResult(tuple(counted), tuple(superseded))

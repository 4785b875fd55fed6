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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.model.ballots import Ballot, Channel

PRECEDENCE = ("paper-first", "online-first", "latest")

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


def _paper_sheets(
    paper: list[Ballot],
    envelope_kinds: Mapping[str, str] | None,
    max_per_kind: Mapping[str, int] | None,
) -> tuple[list[Ballot], list[tuple[Ballot, Ballot]]]:
    """Split a voter's paper sheets into the counted set and duplicates (with the sheet they clash with).

    Earliest scanned first (ties: smaller ballot key). A sheet is kept when it covers no
    envelope already covered and, with ``envelope_kinds``/``max_per_kind``, keeps the voter
    within the per-kind envelope limits (Paris: one city-wide and one district sheet).
    """
    kept: list[Ballot] = []
    dups: list[tuple[Ballot, Ballot]] = []
    used: dict[str, Ballot] = {}
    kinds: dict[str, int] = {}
    for b in sorted(paper, key=lambda x: (x.cast_at, x.ballot_key)):
        envs = [env for env, _ in b.selections]
        clash = next((used[e] for e in envs if e in used), None)
        if clash is None and envelope_kinds is not None and max_per_kind is not None:
            extra: dict[str, int] = {}
            for e in envs:
                k = envelope_kinds.get(e, "")
                extra[k] = extra.get(k, 0) + 1
            if any(kinds.get(k, 0) + n > max_per_kind.get(k, 0) for k, n in extra.items()):
                clash = kept[0] if kept else None
        if clash is not None:
            dups.append((b, clash))
            continue
        kept.append(b)
        for e in envs:
            used[e] = b
            k = envelope_kinds.get(e, "") if envelope_kinds is not None else ""
            kinds[k] = kinds.get(k, 0) + 1
    return kept, dups


def resolve(
    ballots: Iterable[Ballot],
    precedence: str,
    envelope_kinds: Mapping[str, str] | None = None,
    max_per_kind: Mapping[str, int] | None = None,
) -> DedupResult:
    """Apply the precedence rule; the result is sorted by ballot key.

    A voter's paper sheets for different envelopes (Paris prints one sheet per envelope)
    together form that voter's paper ballot; see :func:`_paper_sheets`.
    Complexity O(n log n).
    """
    if precedence not in PRECEDENCE:
        raise ValueError(f"unknown precedence rule {precedence!r}")
    groups: dict[str, list[Ballot]] = {}
    for b in ballots:
        groups.setdefault(b.voter_serial, []).append(b)
    counted: list[Ballot] = []
    superseded: list[Superseded] = []
    for group in groups.values():
        if len(group) == 1:
            counted.append(group[0])
            continue
        online = [b for b in group if b.channel is Channel.ONLINE]
        paper = [b for b in group if b.channel is Channel.PAPER]
        best_online = max(online, key=lambda b: (b.cast_at, b.ballot_key)) if online else None
        kept, dups = _paper_sheets(paper, envelope_kinds, max_per_kind)
        if best_online is None:
            paper_wins = True
        elif not kept:
            paper_wins = False
        elif precedence == "paper-first":
            paper_wins = True
        elif precedence == "online-first":
            paper_wins = False
        else:  # latest
            latest_paper = max(kept, key=lambda b: (b.cast_at, b.ballot_key))
            paper_wins = (latest_paper.cast_at, latest_paper.ballot_key) > (
                best_online.cast_at, best_online.ballot_key)
        for b, clash in dups:
            by = clash if paper_wins or best_online is None else best_online
            superseded.append(Superseded(b, "duplicate_paper_ballot", by.ballot_key))
        if paper_wins:
            counted.extend(kept)
            reason = "superseded_by_later_ballot" if precedence == "latest" else "superseded_by_paper"
            for b in online:
                superseded.append(Superseded(b, reason, kept[0].ballot_key))
        else:
            assert best_online is not None
            counted.append(best_online)
            for b in online:
                if b is not best_online:
                    later = "superseded_by_later_ballot" if precedence == "latest" else "superseded_by_later_online"
                    superseded.append(Superseded(b, later, best_online.ballot_key))
            reason = "superseded_by_later_ballot" if precedence == "latest" else "superseded_by_online"
            for b in kept:
                superseded.append(Superseded(b, reason, best_online.ballot_key))
    counted.sort(key=lambda b: b.ballot_key)
    superseded.sort(key=lambda s: s.ballot.ballot_key)
    return DedupResult(tuple(counted), tuple(superseded))

"""One counted ballot per voter: the published precedence rules.

Ballots are grouped by voter serial (from the signed token). Within a group the voter's
counted ballot is chosen; every other ballot is *superseded*, kept, and given a reason
from :data:`SUPERSEDED_REASONS`.

A voter's paper ballot may be several sheets, one per envelope (Paris prints a city-wide
and a district sheet); together they form the voter's paper ballot. The machine never
chooses between sheets: two sheets for the same envelope, or more sheets of one kind than
``max_envelopes_per_kind`` allows, are a *conflict* -- all of them are kept, none counts
(``conflicting_paper_sheets``) until a person decides (the scanner sends the second sheet
to review). ``required_kinds`` are checked on the voter's sheets together: sheets that
lack a required envelope are ``incomplete_paper_ballot``.

Rules (``election.precedence``):

* ``paper-first`` (default, as in Estonia): the voter's paper ballot beats every online
  vote; among online votes the latest ``cast_at`` counts.
* ``online-first``: the latest online vote beats the paper ballot.
* ``latest``: the latest ``cast_at`` across both channels counts. A scanned paper ballot
  has no cast time, so it cannot be ordered against an online vote: such a pair raises
  :class:`~engine.errors.PrecedenceError`, and the scanner refuses paper ballots in a
  ``latest`` election (:func:`check_paper_allowed`). Paper ballots that carry a cast time
  (imports) are ordered by it.

Ties (equal time) are broken by the larger ``ballot_key`` (a SHA-256), which makes the
outcome independent of the order ballots were received. Complexity O(n log n).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from engine.errors import PrecedenceError
from engine.model.ballots import Ballot, Channel
from engine.model.ids import EnvelopeId

PRECEDENCE = ("paper-first", "online-first", "latest")

BY_PAPER = "superseded_by_paper"
BY_LATER_ONLINE = "superseded_by_later_online"
BY_ONLINE = "superseded_by_online"
BY_LATER_BALLOT = "superseded_by_later_ballot"
CONFLICT = "conflicting_paper_sheets"
INCOMPLETE = "incomplete_paper_ballot"

SUPERSEDED_REASONS = {
    BY_PAPER: "an online vote replaced by the voter's paper ballot",
    BY_LATER_ONLINE: "an online vote replaced by the voter's later online vote",
    BY_ONLINE: "a paper ballot replaced by the voter's online vote (online-first)",
    BY_LATER_BALLOT: "replaced by the voter's later ballot (latest rule)",
    CONFLICT: "two paper sheets of one voter for one envelope (or beyond the per-kind limit): "
              "kept, none counts until a person decides",
    INCOMPLETE: "the voter's paper sheets lack an envelope the election requires",
}


def check_paper_allowed(precedence: str) -> None:
    """Raise :class:`PrecedenceError` when paper ballots (no cast time) cannot be counted
    under ``precedence``: ``latest`` orders by cast time, which a scanned sheet does not have."""
    if precedence == "latest":
        raise PrecedenceError(
            "precedence 'latest' orders a voter's ballots by cast time and a paper ballot has none; "
            "use precedence 'paper-first' or 'online-first' in an election with paper ballots")


@dataclass(frozen=True)
class Superseded:
    """A valid ballot that is not counted: ``reason`` (a key of ``SUPERSEDED_REASONS``) and
    ``by``, the ballot key of the ballot counted in its place ("" when there is none).
    """

    ballot: Ballot
    reason: str  # a key of SUPERSEDED_REASONS
    by: str  # ballot_key of the counted ballot; "" when none (conflicting or incomplete sheets)


@dataclass(frozen=True)
class DedupResult:
    """The outcome of de-duplication: the ballots counted and the ones superseded, with why.
    """

    counted: tuple[Ballot, ...]
    superseded: tuple[Superseded, ...]


def _paper_sheets(
    paper: list[Ballot],
    envelope_kinds: Mapping[str, str] | None,
    max_per_kind: Mapping[str, int] | None,
    required_kinds: Sequence[str],
) -> tuple[list[Ballot], list[tuple[Ballot, str]]]:
    """Split a voter's paper sheets into the counted set and the set-aside ones (with reason).

    Order-independent: a sheet is set aside because of the other sheets there are, never
    because of which came first. Sheets sharing an envelope conflict; so do all sheets of a
    kind when the voter has more envelopes of that kind than ``max_per_kind`` allows. When
    the remaining sheets lack a kind of ``required_kinds``, they are incomplete.
    """
    by_env: dict[EnvelopeId, list[Ballot]] = {}
    for b in paper:
        for env, _ in b.selections:
            by_env.setdefault(env, []).append(b)
    conflict = {b.ballot_key for sheets in by_env.values() if len(sheets) > 1 for b in sheets}
    if envelope_kinds is not None and max_per_kind is not None:
        per_kind: dict[str, set[EnvelopeId]] = {}
        for env, sheets in by_env.items():
            if not any(b.ballot_key in conflict for b in sheets):
                per_kind.setdefault(envelope_kinds.get(env, ""), set()).add(env)
        for kind, envs in per_kind.items():
            if len(envs) > max_per_kind.get(kind, 0):
                conflict |= {b.ballot_key for env in envs for b in by_env[env]}
    kept = [b for b in paper if b.ballot_key not in conflict]
    aside = [(b, CONFLICT) for b in paper if b.ballot_key in conflict]
    if kept and required_kinds and envelope_kinds is not None:
        kinds = {envelope_kinds.get(env, "") for b in kept for env, _ in b.selections}
        if any(k not in kinds for k in required_kinds):
            aside += [(b, INCOMPLETE) for b in kept]
            kept = []
    return kept, aside


def apply_precedence(
    ballots: Iterable[Ballot],
    precedence: str,
    envelope_kinds: Mapping[str, str] | None = None,
    max_per_kind: Mapping[str, int] | None = None,
    required_kinds: Sequence[str] = (),
) -> DedupResult:
    """Choose each voter's counted ballot by ``precedence`` (see the module docstring).

    ``envelope_kinds`` (envelope id -> kind), ``max_per_kind`` and ``required_kinds`` come
    from the election's voting policy and judge a voter's paper sheets together
    (:func:`_paper_sheets`). The result is sorted by ballot key and does not depend on
    the order of ``ballots``. Raises :class:`PrecedenceError` for ``latest`` with an
    untimed paper ballot next to an online vote. Complexity O(n log n).
    """
    if precedence not in PRECEDENCE:
        raise ValueError(f"unknown precedence rule {precedence!r}")
    groups: dict[str, list[Ballot]] = {}
    for b in ballots:
        groups.setdefault(b.voter_serial, []).append(b)
    counted: list[Ballot] = []
    superseded: list[Superseded] = []
    for group in groups.values():
        if len(group) == 1 and not (required_kinds and group[0].channel is Channel.PAPER):
            counted.append(group[0])
            continue
        online = [b for b in group if b.channel is Channel.ONLINE]
        paper = [b for b in group if b.channel is Channel.PAPER]
        best_online = max(online, key=lambda b: (b.cast_at, b.ballot_key)) if online else None
        kept, aside = _paper_sheets(paper, envelope_kinds, max_per_kind, required_kinds)
        superseded.extend(Superseded(b, reason, "") for b, reason in aside)
        if best_online is None:
            counted.extend(kept)
            continue
        if precedence == "latest" and any(not b.cast_at for b in paper):
            raise PrecedenceError(
                f"voter {best_online.voter_serial}: precedence 'latest' cannot order an online vote against "
                "a paper ballot without a cast time")
        if not kept:
            paper_wins = False
        elif precedence == "paper-first":
            paper_wins = True
        elif precedence == "online-first":
            paper_wins = False
        else:  # latest: both channels carry cast times here
            latest_paper = max(kept, key=lambda b: (b.cast_at, b.ballot_key))
            paper_wins = (latest_paper.cast_at, latest_paper.ballot_key) > (
                best_online.cast_at, best_online.ballot_key)
        later = BY_LATER_BALLOT if precedence == "latest" else None
        if paper_wins:
            counted.extend(kept)
            first = min(kept, key=lambda b: b.ballot_key)
            for b in online:
                superseded.append(Superseded(b, later or BY_PAPER, first.ballot_key))
        else:
            counted.append(best_online)
            for b in online:
                if b is not best_online:
                    superseded.append(Superseded(b, later or BY_LATER_ONLINE, best_online.ballot_key))
            for b in kept:
                superseded.append(Superseded(b, later or BY_ONLINE, best_online.ballot_key))
    counted.sort(key=lambda b: b.ballot_key)
    superseded.sort(key=lambda s: s.ballot.ballot_key)
    return DedupResult(tuple(counted), tuple(superseded))

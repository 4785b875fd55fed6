"""The count pipeline, pure: ballots -> dedup -> tally -> allocation.

The CLI, the API and the demo call :func:`count_ballots` (through
:mod:`engine.services.count`). The stand-alone verifier does not: it recounts the
published bundle with its own independent code (``engine/verifier/``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.counting.allocation import ElectionAllocation, allocate_election
from engine.counting.dedup import DedupResult, apply_precedence
from engine.counting.tally import Tally, tally
from engine.model.ballots import Ballot
from engine.model.election import Election


@dataclass(frozen=True)
class CountResult:
    """Everything one count produces: the election counted, which ballots were counted or
    superseded, the tally, the allocation, and the rejected submissions by reason.
    """

    election: Election
    dedup: DedupResult
    tally: Tally
    allocation: ElectionAllocation
    rejected_by_reason: dict[str, int]


def count_ballots(
    election: Election, ballots: Iterable[Ballot], rejected_by_reason: dict[str, int] | None = None
) -> CountResult:
    """Count ``ballots`` (every stored ballot, counted or not): dedup by the election's
    precedence rule (:func:`~engine.counting.dedup.apply_precedence`), tally, allocate
    each envelope. Pure; O(n log n) in the ballots plus the rules' cost."""
    dedup = apply_precedence(
        ballots,
        election.precedence,
        {e.id: e.kind for e in election.envelopes},
        election.voting.max_envelopes_per_kind,
        election.voting.required_kinds,
    )
    t = tally(election, dedup.counted)
    alloc = allocate_election(election, t, dedup.counted)
    return CountResult(election, dedup, t, alloc, dict(rejected_by_reason or {}))

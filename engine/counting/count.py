"""The count pipeline, pure: ballots -> dedup -> tally -> allocation.

The CLI, the API, the demo and the verifier all call :func:`count_ballots`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.counting.allocation import ElectionAllocation, allocate_election
from engine.counting.dedup import DedupResult, resolve
from engine.counting.tally import Tally, tally
from engine.model.ballots import Ballot
from engine.model.election import Election


@dataclass(frozen=True)
class CountResult:
    election: Election
    dedup: DedupResult
    tally: Tally
    allocation: ElectionAllocation
    rejected_by_reason: dict[str, int]


def count_ballots(
    election: Election, ballots: Iterable[Ballot], rejected_by_reason: dict[str, int] | None = None
) -> CountResult:
    dedup = resolve(
        ballots,
        election.precedence,
        {e.id: e.kind for e in election.envelopes},
        election.voting.max_envelopes_per_kind,
    )
    t = tally(election, dedup.counted)
    alloc = allocate_election(election, t, dedup.counted)
    return CountResult(election, dedup, t, alloc, dict(rejected_by_reason or {}))

"""Tally: votes per project split by channel, and ballots per envelope per channel.

Pure function of the election and the counted ballots (after dedup). A ballot that covers
several envelopes counts once in each. O(total selections).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.model.ballots import Ballot, Channel
from engine.model.election import Election
from engine.model.ids import EnvelopeId, ProjectId


@dataclass
class ProjectVotes:
    """The votes one project received, by channel."""

    online: int = 0
    paper: int = 0

    @property
    def total(self) -> int:
        """Online plus paper votes."""
        return self.online + self.paper


@dataclass
class EnvelopeTally:
    """One envelope's tally: votes per project (every project of the envelope, 0 included)
    and the number of counted ballots by channel.
    """

    envelope_id: EnvelopeId
    projects: dict[ProjectId, ProjectVotes] = field(default_factory=dict)
    ballots_online: int = 0
    ballots_paper: int = 0

    @property
    def ballots(self) -> int:
        """Counted ballots of this envelope, both channels."""
        return self.ballots_online + self.ballots_paper


@dataclass
class Tally:
    """The tally of an election: one :class:`EnvelopeTally` per envelope id."""

    envelopes: dict[EnvelopeId, EnvelopeTally]

    def votes(self, envelope_id: EnvelopeId, project_id: ProjectId) -> int:
        """Total votes of ``project_id`` in ``envelope_id`` (KeyError for an unknown id)."""
        return self.envelopes[envelope_id].projects[project_id].total


def tally(election: Election, counted: Iterable[Ballot]) -> Tally:
    """Count the votes of the ``counted`` ballots (already de-duplicated) per envelope, project
    and channel. Every envelope and project of ``election`` appears, with 0 when unvoted.
    O(ballots x selections).
    """
    envs = {
        e.id: EnvelopeTally(e.id, {p.id: ProjectVotes() for p in election.projects_in(e.id)})
        for e in election.envelopes
    }
    for b in counted:
        paper = b.channel is Channel.PAPER
        for env_id, projects in b.selections:
            et = envs[env_id]
            if paper:
                et.ballots_paper += 1
            else:
                et.ballots_online += 1
            for pid in projects:
                pv = et.projects[pid]
                if paper:
                    pv.paper += 1
                else:
                    pv.online += 1
    return Tally(envs)

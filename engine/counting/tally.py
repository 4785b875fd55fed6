"""Tally: votes per project split by channel, and ballots per envelope per channel.

Pure function of the election and the counted ballots (after dedup). A ballot that covers
several envelopes counts once in each. O(total selections).

In a ``grades`` envelope a project's votes (``online``/``paper``) are the ballots that
graded it, and ``grades`` counts them per grade (lowest first); the envelope's other ballots
left it ungraded (:meth:`EnvelopeTally.grade_profile` counts them as the default grade). In a
``for-against`` envelope the votes are the ``for`` opinions and ``against`` the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.model.ballots import Ballot, Channel
from engine.model.election import FOR, Election
from engine.model.ids import EnvelopeId, ProjectId
from engine.model.opinions import split_item


@dataclass
class ProjectVotes:
    """The votes one project received, by channel."""

    online: int = 0
    paper: int = 0
    grades: list[int] | None = None  # grades envelopes: ballots per grade, lowest first (graded only)
    against: int = 0  # for-against envelopes: opinions against (the votes are those for)

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
    default_grade: int = 0
    ballot: str = "approval"

    @property
    def ballots(self) -> int:
        """Counted ballots of this envelope, both channels."""
        return self.ballots_online + self.ballots_paper

    def ungraded(self, project_id: ProjectId) -> int:
        """Ballots of this (grades) envelope that did not grade ``project_id``."""
        return self.ballots - self.projects[project_id].total

    def grade_profile(self, project_id: ProjectId) -> list[int]:
        """Ballots per grade (lowest first), an ungraded project counted as the default grade."""
        row = list(self.projects[project_id].grades or [])
        row[self.default_grade] += self.ungraded(project_id)
        return row


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
        e.id: EnvelopeTally(e.id, {p.id: ProjectVotes(grades=[0] * len(e.grades) if e.ballot == "grades" else None)
                                   for p in election.projects_in(e.id)}, default_grade=e.default_grade,
                            ballot=e.ballot)
        for e in election.envelopes
    }
    kinds = {e.id: e.ballot for e in election.envelopes}
    for b in counted:
        paper = b.channel is Channel.PAPER
        for env_id, projects in b.selections:
            et = envs[env_id]
            if paper:
                et.ballots_paper += 1
            else:
                et.ballots_online += 1
            if kinds[env_id] != "approval":
                _count_opinions(et, kinds[env_id], projects, paper)
                continue
            for pid in projects:
                pv = et.projects[pid]
                if paper:
                    pv.paper += 1
                else:
                    pv.online += 1
    return Tally(envs)


def _count_opinions(et: EnvelopeTally, ballot: str, items: tuple[str, ...], paper: bool) -> None:
    """Add one ballot's ``project=opinion`` items (:mod:`engine.model.opinions`) to ``et``."""
    for item in items:
        pid, opinion = split_item(item)
        pv = et.projects[ProjectId(pid)]
        if ballot == "grades":
            pv.grades[int(opinion)] += 1  # type: ignore[index]  # grades envelopes have a grades list
        elif opinion != FOR:
            pv.against += 1
            continue
        if paper:
            pv.paper += 1
        else:
            pv.online += 1

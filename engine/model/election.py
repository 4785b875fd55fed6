"""The election definition as values: envelopes, projects, voting policy, quotas.

Frozen dataclasses, no I/O. Reading and validating the TOML/JSON document lives in
:mod:`engine.formats.election_definition`; its canonical form and hash in
:mod:`engine.formats.election_canonical` (see ``docs/election-format.md``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from engine.model.ids import EnvelopeId, ProjectId

ENVELOPE_KINDS = ("citywide", "district", "savings")
PRECEDENCE_RULES = ("paper-first", "online-first", "latest")
DEFAULT_PRECEDENCE = "paper-first"
BALLOT_TYPES = ("approval", "grades", "for-against")
# Paris's four grades as printed on its ballots, best first (docs/election-format.md)
PARIS_GRADES_BEST_FIRST = ("J'adore", "J'aime bien", "Pourquoi pas", "Pas convaincu·e")
FOR, AGAINST = "for", "against"


@dataclass(frozen=True)
class Project:
    """A project on the ballot: id, the envelope it belongs to, title, cost (in money units) and
    the attributes quotas can group on (district, popular neighbourhood, category).
    """

    id: ProjectId
    envelope: EnvelopeId
    title: str
    cost: int
    district: str | None = None
    popular_neighbourhood: bool = False
    category: str | None = None


@dataclass(frozen=True)
class ExclusiveSpec:
    """An exclusive group as declared in an envelope (``[[envelopes.exclusive]]``): projects
    of that envelope that cannot all be carried out (the same site); counted by rule
    ``greedy-exclusive``, which funds at most one of them (docs/rules.md)."""

    name: str
    projects: tuple[ProjectId, ...]


@dataclass(frozen=True)
class Envelope:
    """A budget envelope (citywide or district): its budget, the allocation rule, and how many
    projects (and which categories, and at what total cost) a ballot may select in it.

    ``ballot``: what a voter gives each project: ``approval`` (a list of chosen projects),
    ``grades`` (one of ``grades``, listed best first, per project; a project left ungraded
    counts as ``ungraded``, by default the lowest grade) or ``for-against`` (for or against
    per project). ``min_selections``/``max_selections`` then count the projects given an
    opinion. ``exclusive``: the envelope's exclusive groups (rule ``greedy-exclusive`` only).
    """

    id: EnvelopeId
    name: str
    kind: str
    budget: int
    max_selections: int
    min_selections: int = 1
    category_limits: Mapping[str, int] = field(default_factory=dict)
    max_selection_cost: int | None = None
    district: str | None = None
    rule: str = "greedy"
    tie_break: str = "votes-cost-id"
    code: str = ""
    ballot: str = "approval"
    grades: tuple[str, ...] = ()  # best first, as printed; only for ballot = "grades"
    ungraded: str | None = None  # the grade an ungraded project counts as (None: the lowest)
    # a savings envelope (kind "savings", reverse PB): budget is the savings target, its
    # projects are spending lines (cost = amount saved if cut, category = sector)
    savings: SavingsSpec | None = None
    # groups of projects of this envelope of which at most one is funded (greedy-exclusive)
    exclusive: tuple[ExclusiveSpec, ...] = ()

    @property
    def grade_scale(self) -> tuple[str, ...]:
        """The grades lowest first (index 0 = lowest: the order of the rules and the ballot log)."""
        return tuple(reversed(self.grades))

    @property
    def default_grade(self) -> int:
        """Index (lowest first) of the grade an ungraded project counts as."""
        return self.grade_scale.index(self.ungraded) if self.ungraded is not None else 0


@dataclass(frozen=True)
class SectorSpec:
    """One sector of a savings envelope: its spending before cuts (default: the sum of its
    lines' amounts) and its own cut limits (override the envelope's per-sector defaults)."""

    name: str
    spending: int | None = None
    max_cuts: int | None = None
    max_share: Fraction | None = None


@dataclass(frozen=True)
class SavingsSpec:
    """The rules of a savings envelope (see ``docs/election-format.md``, "Savings envelopes").

    ``min_sectors``: a ballot must propose cuts in at least this many sectors (else it is
    rejected as ``too_few_sectors``). Per sector, at most ``max_cuts`` lines are cut and at
    most ``max_share`` of the sector's spending is saved (rounded down); ``sectors`` gives
    each sector's spending and overrides.
    """

    min_sectors: int = 0
    max_cuts_per_sector: int | None = None
    max_share_per_sector: Fraction | None = None
    sectors: tuple[SectorSpec, ...] = ()

    def sector(self, name: str) -> SectorSpec:
        """The declared sector ``name``, or one with no spending or limits of its own."""
        for s in self.sectors:
            if s.name == name:
                return s
        return SectorSpec(name)

    def limits_of(self, name: str) -> tuple[int | None, Fraction | None]:
        """(max cuts, max share of spending) of a sector: its own, else the envelope's."""
        s = self.sector(name)
        return (s.max_cuts if s.max_cuts is not None else self.max_cuts_per_sector,
                s.max_share if s.max_share is not None else self.max_share_per_sector)


QUOTA_GROUP_KEYS = ("popular_neighbourhood", "category", "district")
QUOTA_SCOPES = ("envelope", "election")

@dataclass(frozen=True)
class QuotaSpec:
    """A quota as declared: money reserved (and optionally capped) for a group of projects.

    Applies to each envelope in ``envelopes`` separately (all envelopes when empty): the
    reserve is ``min_share`` of that envelope's budget (rounded up) or ``min_amount``.
    ``group`` selects projects by ``popular_neighbourhood = true``, ``category = "..."``
    or ``district = "..."``. See ``docs/rules.md``.
    """

    name: str
    group_key: str
    group_value: str | bool
    envelopes: tuple[EnvelopeId, ...] = ()
    min_share: Fraction | None = None
    min_amount: int | None = None
    max_share: Fraction | None = None
    max_amount: int | None = None
    release_unused: bool = True
    scope: str = "envelope"  # "envelope": each envelope separately; "election": all together

    def applies_to(self, envelope_id: str) -> bool:
        """Whether this quota is applied in ``envelope_id`` (all envelopes when none is named)."""
        return not self.envelopes or envelope_id in self.envelopes

    def matches(self, project: Project) -> bool:
        """Whether ``project`` is in this quota's group (its ``group_key`` equals ``group_value``)."""
        if self.group_key == "popular_neighbourhood":
            return project.popular_neighbourhood is self.group_value
        return getattr(project, self.group_key) == self.group_value

    def amounts(self, budget: int) -> tuple[int, int | None]:
        """(reserved minimum, maximum or None) for an envelope with this budget."""
        lo = self.min_amount if self.min_amount is not None else (
            math.ceil(self.min_share * budget) if self.min_share is not None else 0)
        hi = self.max_amount if self.max_amount is not None else (
            math.floor(self.max_share * budget) if self.max_share is not None else None)
        return lo, hi


@dataclass(frozen=True)
class VotingPolicy:
    """Which envelopes one ballot may cover.

    ``max_envelopes_per_kind`` caps envelopes of each kind on one ballot (Paris: one
    city-wide and one district of the voter's choice); ``required_kinds`` must be present.
    ``opens``/``closes``: the voting period, ISO 8601 with a timezone as written (both or
    neither); an online cast time must be in ``[opens, closes)``. ``opens_utc`` and
    ``closes_utc`` are the same instants in the normalised cast-time form (UTC,
    microseconds), which compare as strings.
    """

    max_envelopes_per_kind: Mapping[str, int] = field(
        default_factory=lambda: {"citywide": 1, "district": 1}
    )
    required_kinds: tuple[str, ...] = ()
    opens: str | None = None
    closes: str | None = None

    def __post_init__(self) -> None:  # computed once: read for every online ballot
        object.__setattr__(self, "opens_utc", _utc_text(self.opens) if self.opens is not None else None)
        object.__setattr__(self, "closes_utc", _utc_text(self.closes) if self.closes is not None else None)

    opens_utc: str | None = field(init=False, compare=False, repr=False, default=None)
    closes_utc: str | None = field(init=False, compare=False, repr=False, default=None)


def _utc_text(text: str) -> str:
    """``2026-09-07T08:00:00+02:00`` -> ``2026-09-07T06:00:00.000000Z`` (the cast-time form)."""
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@dataclass(frozen=True)
class Election:
    """An election definition: envelopes, projects, the voting policy, the precedence rule
    between channels and the quotas; indexed by id for the lookups below.
    """

    id: str
    name: str
    currency: str
    envelopes: tuple[Envelope, ...]
    projects: tuple[Project, ...]
    voting: VotingPolicy = field(default_factory=VotingPolicy)
    precedence: str = DEFAULT_PRECEDENCE
    extra: Mapping[str, Any] = field(default_factory=dict)
    quotas: tuple[QuotaSpec, ...] = ()
    # lookup tables filled by __post_init__ (not part of the value: no init, repr, compare)
    # keyed by text: a lookup takes any string (an id read from a ballot is checked here)
    _env: dict[str, Envelope] = field(init=False, repr=False, compare=False)
    _proj: dict[str, Project] = field(init=False, repr=False, compare=False)
    _by_env: dict[str, tuple[Project, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_env", {e.id: e for e in self.envelopes})
        object.__setattr__(self, "_proj", {p.id: p for p in self.projects})
        by_env: dict[str, list[Project]] = {e.id: [] for e in self.envelopes}
        for p in self.projects:
            by_env.setdefault(p.envelope, []).append(p)
        object.__setattr__(self, "_by_env", {k: tuple(v) for k, v in by_env.items()})

    def envelope(self, envelope_id: str) -> Envelope | None:
        """The envelope with this id, or None."""
        return self._env.get(envelope_id)

    def project(self, project_id: str) -> Project | None:
        """The project with this id, or None."""
        return self._proj.get(project_id)

    def projects_in(self, envelope_id: str) -> tuple[Project, ...]:
        """The projects of envelope ``envelope_id`` in definition order (empty if unknown)."""
        return self._by_env.get(envelope_id, ())

    def envelope_by_code(self, code: str) -> Envelope | None:
        """The envelope whose printed ``code`` is ``code`` (paper ballots), or None."""
        for e in self.envelopes:
            if e.code == code:
                return e
        return None

"""Majority judgment: rank projects by their median grade, then fill the budget in that order.

``majority-judgment`` — Definition. Every voter gives every project one grade of an ordered
scale (``GradeProfile.grades``, lowest first; Paris: "Pas convaincu·e" < "Pourquoi pas" <
"J'aime bien" < "J'adore"). A project the voter did not grade counts as
``GradeProfile.default_grade`` (by default the lowest grade: not grading a project is read
as not being convinced by it). For each project with ``n`` voters:

* its **majority grade** ``α`` is the lower median of its ``n`` grades: the highest grade
  that a strict majority of voters gave it *or better* (``2 · #(grade ≥ α) > n``); with an
  even ``n`` this is the lower of the two middle grades;
* its **proponents** ``p`` are the voters who graded it above ``α``, its **opponents** ``q``
  those below ``α``;
* its **majority gauge** (Balinski & Laraki 2007) is ``α+`` when ``p > q`` and ``α-`` when
  ``p ≤ q``. Projects are ordered by ``α`` (higher first); with the same ``α``, ``α+``
  before ``α-``; two ``α+`` by more proponents first; two ``α-`` by fewer opponents first.

``majority-judgment-typical`` orders the projects with the same ``α`` by ``p - q`` instead
(Fabre 2021, "typical judgment": continuous in the shares, where the gauge is not).

Then the budget is filled in that order as by ``greedy`` (a project whose cost does not fit
in the money left is skipped and the walk goes on), with quotas exactly as
:func:`engine.rules.quota.greedy_with_quotas`. The envelope's vote threshold does not apply
(grades are not votes; a note says so when one was set).

Parameters: ``problem.grades`` (a :class:`GradeProfile`, required), ``problem.costs``,
``budget``, ``quotas``; ``tie_break`` as for greedy. Returns an
:class:`~engine.rules.problem.AllocationResult` whose every outcome ``detail`` gives the
project's grade profile, its majority grade and gauge, and why it ranks after the project
before it.

Tie-break: projects with the same gauge (same ``α``, sign and ``p`` or ``q``; typical: same
``α`` and ``p - q``) are ordered by ``tie_break`` (default cheaper first, then id).

Complexity: O(P · G) to read the gauges off the ``P × G`` grade counts, O(P log P) to sort;
building the counts from ``A`` graded (project, grade) pairs is one ``numpy.bincount``,
O(A + P · G).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from engine.rules.greedy import greedy
from engine.rules.problem import AllocationProblem, AllocationResult, ProjectOutcome

PARIS_GRADES = ("Pas convaincu·e", "Pourquoi pas", "J'aime bien", "J'adore")


@dataclass(frozen=True, eq=False)
class GradeProfile:
    """How many voters gave each project each grade (ungraded already counted as the default).

    ``counts[j, g]``: voters who gave project ``j`` grade ``g`` (0 = lowest). Every row sums
    to ``n_voters``.
    """

    grades: tuple[str, ...]
    counts: np.ndarray  # int64, shape (n_projects, n_grades)
    default_grade: int = 0

    def __post_init__(self) -> None:
        if len(self.grades) < 2:
            raise ValueError("a grade scale needs at least two grades")
        if not 0 <= self.default_grade < len(self.grades):
            raise ValueError(f"default grade {self.default_grade} is not on the scale")
        if self.counts.ndim != 2 or self.counts.shape[1] != len(self.grades):
            raise ValueError("counts must have one column per grade")

    @property
    def n_projects(self) -> int:
        """Number of projects (rows of ``counts``)."""
        return int(self.counts.shape[0])

    @property
    def n_voters(self) -> int:
        """Number of voters (each project's grade counts sum to it)."""
        return int(self.counts[0].sum()) if self.n_projects else 0

    @classmethod
    def from_flat(cls, grades: tuple[str, ...], n_projects: int, n_voters: int, projects: np.ndarray,
                  given: np.ndarray, default_grade: int = 0) -> GradeProfile:
        """Profile from the graded pairs of all ballots: ``projects[k]`` got grade ``given[k]``.

        Each voter grades a project at most once (the caller checks); the ``n_voters`` minus
        the voters who graded a project count as ``default_grade`` for it.
        """
        g = len(grades)
        projects, given = np.asarray(projects), np.asarray(given)  # any integer dtype (uint8 grades are cheapest)
        if len(projects) and not (np.issubdtype(projects.dtype, np.integer) and np.issubdtype(given.dtype, np.integer)):
            raise ValueError("project indices and grades must be integers")
        if len(projects) != len(given):
            raise ValueError("one grade per graded project")
        if len(projects):
            if projects.min() < 0 or projects.max() >= n_projects:
                raise ValueError("project index out of range")
            if given.min() < 0 or given.max() >= g:
                raise ValueError(f"grade out of range 0..{g - 1}")
        key = np.multiply(projects, g, dtype=np.int64)  # one temporary (20 M pairs: 160 MB)
        np.add(key, given, out=key, casting="unsafe")
        counts = np.bincount(key, minlength=n_projects * g).reshape(n_projects, g)
        del key
        ungraded = n_voters - counts.sum(axis=1)
        if (ungraded < 0).any():
            raise ValueError("more grades for a project than voters")
        counts[:, default_grade] += ungraded
        return cls(grades, counts, default_grade)

    @classmethod
    def from_ballots(cls, grades: tuple[str, ...], n_projects: int, ballots: Iterable[Mapping[int, int]],
                     default_grade: int = 0) -> GradeProfile:
        """Profile from one ``{project index: grade}`` mapping per voter."""
        projects: list[int] = []
        given: list[int] = []
        n = 0
        for b in ballots:
            n += 1
            projects.extend(b.keys())
            given.extend(b.values())
        return cls.from_flat(grades, n_projects, n, np.asarray(projects, np.int64), np.asarray(given, np.int64),
                             default_grade)


@dataclass(frozen=True)
class Gauge:
    """One project's majority grade ``alpha`` (index), proponents ``p`` and opponents ``q``."""

    alpha: int
    p: int
    q: int

    @property
    def plus(self) -> bool:
        """Whether the proponents outnumber the opponents (the gauge's sign is +)."""
        return self.p > self.q


def gauges(profile: GradeProfile) -> list[Gauge]:
    """Majority grade (lower median), proponents and opponents of every project. O(P · G)."""
    counts = profile.counts
    n = profile.n_voters
    if n == 0:
        return [Gauge(profile.default_grade, 0, 0) for _ in range(profile.n_projects)]
    at_least = counts[:, ::-1].cumsum(axis=1)[:, ::-1]  # at_least[j, g] = #(grade >= g)
    alpha = (2 * at_least > n).sum(axis=1) - 1
    above = np.where(alpha + 1 < counts.shape[1],
                     at_least[np.arange(len(alpha)), np.minimum(alpha + 1, counts.shape[1] - 1)], 0)
    below = n - at_least[np.arange(len(alpha)), alpha]
    return [Gauge(int(a), int(p), int(q)) for a, p, q in zip(alpha.tolist(), above.tolist(), below.tolist(),
                                                             strict=True)]


def gauge_key(g: Gauge, typical: bool) -> tuple[int, ...]:
    """Sort key, larger is better: (alpha, +/-, p or -q), or (alpha, p - q) for typical judgment."""
    if typical:
        return (g.alpha, g.p - g.q)
    return (g.alpha, 1, g.p) if g.plus else (g.alpha, 0, -g.q)


def _pct(x: int, n: int) -> str:
    return f"{100 * x / n:.1f} %" if n else "0 %"


def grade_text(profile: GradeProfile, j: int, g: Gauge, typical: bool) -> str:
    """The grade profile and gauge of project ``j``, as written in its outcome detail."""
    n = profile.n_voters
    names = profile.grades
    dist = ", ".join(f"{names[k]}: {int(c)}" for k, c in enumerate(profile.counts[j].tolist()))
    text = (f"grades (lowest first) {dist} of {n} voters; majority grade {names[g.alpha]}; "
            f"{_pct(g.p, n)} above, {_pct(g.q, n)} below")
    if typical:
        return text + f" (difference {_pct(g.p - g.q, n)})"
    return text + f": gauge {names[g.alpha]}{'+' if g.plus else '-'}"


def why_after(profile: GradeProfile, g: Gauge, prev_id: str, prev: Gauge, typical: bool, tie_break: str) -> str:
    """Why a project ranks right after ``prev_id`` (whose gauge is ``prev``)."""
    n = profile.n_voters
    names = profile.grades
    if g.alpha < prev.alpha:
        return f"ranked after {prev_id}: lower majority grade ({names[g.alpha]} < {names[prev.alpha]})"
    if gauge_key(g, typical) == gauge_key(prev, typical):
        return f"ranked after {prev_id}: same majority gauge, tie broken by {tie_break}"
    if typical:
        return (f"ranked after {prev_id}: same majority grade, smaller difference above - below "
                f"({_pct(g.p - g.q, n)} < {_pct(prev.p - prev.q, n)})")
    if prev.plus and not g.plus:
        return (f"ranked after {prev_id}: same majority grade, but no more voters above it than below "
                f"({names[g.alpha]}- after {names[prev.alpha]}+)")
    if g.plus:
        return (f"ranked after {prev_id}: same majority grade, fewer voters above it "
                f"({_pct(g.p, n)} < {_pct(prev.p, n)})")
    return (f"ranked after {prev_id}: same majority grade, more voters below it "
            f"({_pct(g.q, n)} > {_pct(prev.q, n)})")


_TIE = re.compile(r"^tie on \S+ votes lost to")


def majority_judgment(problem: AllocationProblem, tie_break: str = "votes-cost-id", *,
                      typical: bool = False) -> AllocationResult:
    """Majority judgment (``typical``: Fabre's typical judgment) then greedy fill; see the module doc.

    Parameters: ``problem`` and ``tie_break`` (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`); ``problem.grades``.
    Returns: an :class:`~engine.rules.problem.AllocationResult`.
    Tie-break: equal gauges in the tie-break order (module doc).
    Complexity: O(P · G + P log P) for P projects and G grades.
    """
    profile = problem.grades
    if profile is None:
        raise ValueError("majority judgment needs the voters' grades (AllocationProblem.grades)")
    gs = gauges(profile)
    keys = [gauge_key(g, typical) for g in gs]
    classes = {k: r for r, k in enumerate(sorted(set(keys)))}
    walk = dataclasses.replace(problem, scores=tuple(float(classes[k]) for k in keys), threshold=float("-inf"))
    base = greedy(walk, tie_break)
    index = {pid: j for j, pid in enumerate(problem.project_ids)}
    outcomes: list[ProjectOutcome] = []
    prev: int | None = None
    for o in base.outcomes:
        j = index[o.project_id]
        why = ("ranked first: best majority gauge" if prev is None
               else why_after(profile, gs[j], problem.project_ids[prev], gs[prev], typical, tie_break))
        detail = o.detail
        if o.reason == "tie_lost":
            detail = _TIE.sub("tie on the majority gauge lost to", detail)
        text = f"{grade_text(profile, j, gs[j], typical)}; {why}" + (f"; {detail}" if detail else "")
        outcomes.append(dataclasses.replace(o, detail=text))
        prev = j
    notes = list(base.notes)
    if problem.threshold > 0:
        notes.append(f"vote threshold {problem.threshold:g} not applied: grades are not votes")
    name = "majority-judgment-typical" if typical else "majority-judgment"
    return dataclasses.replace(base, rule=name, outcomes=tuple(outcomes), notes=tuple(notes))


def majority_judgment_typical(problem: AllocationProblem, tie_break: str = "votes-cost-id") -> AllocationResult:
    """``majority-judgment-typical``: ties on the majority grade ordered by ``p - q``.

    Parameters: ``problem`` and ``tie_break`` (a name of :data:`~engine.rules.tiebreak.TIE_BREAKS`); ``problem.grades``.
    Returns: an :class:`~engine.rules.problem.AllocationResult`.
    Tie-break: as majority judgment. Complexity: O(P · G + P log P).
    """
    return majority_judgment(problem, tie_break, typical=True)

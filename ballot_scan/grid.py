"""Paper grids for grade and for/against envelopes: the columns, the boxes, the row decisions.

A grades envelope's paper ballot has one row per project and one box per grade (best grade
first, as ``grades`` lists them); a for-against envelope's row has two boxes, ``for`` then
``against``. Each box is judged by :meth:`ballot_scan.marks.BoxScore.classify` (``vote``,
``ambiguous`` or ``empty``); :func:`decide_grid` turns the judged boxes into the page's
opinions, row by row:

* exactly one marked box: that grade (or for / against);
* no marked box: no opinion (a grades envelope counts the project as its ``ungraded``
  grade, by default the lowest; a for-against envelope counts nothing);
* two or more marked boxes in a row (two grades on one project, or both for and against):
  ``overvote_row`` — the page goes to review, never guessed;
* a box judged ambiguous (faint, crossed out, …) in a row: ``ambiguous_row`` — review.

Not wired into the render and scan pipeline yet (``ballot_scan/render.py`` refuses such
envelopes with a clear error); :func:`grid_submission` builds the
:class:`~engine.model.ballots.Submission` a scan of an accepted grid page gives, so
validation and counting are those of online ballots. Pure; O(projects x columns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ballot_scan.layout import Rect
from ballot_scan.marks import AMBIGUOUS, VOTE
from engine.model.ballots import Channel, SourceRef, Submission
from engine.model.election import AGAINST, FOR, Envelope

GRID_BOX_MM = 6.0  # side of a grid box
GRID_GAP_MM = 4.0  # space between two boxes of a row (holds the strike zone beside each box)


def grid_columns(env: Envelope) -> tuple[str, ...]:
    """The box labels of one row, left to right: the grades best first, or for / against."""
    if env.ballot == "grades":
        return tuple(env.grades)
    if env.ballot == "for-against":
        return (FOR, AGAINST)
    raise ValueError(f"envelope {env.id!r} has approval ballots: one box per project, not a grid")


def grid_box_rects(row: Rect, n_columns: int) -> list[Rect]:
    """The boxes of one project row, right-aligned in ``row`` and vertically centred."""
    y = row.y + (row.h - GRID_BOX_MM) / 2
    width = n_columns * GRID_BOX_MM + (n_columns - 1) * GRID_GAP_MM
    x0 = row.x + row.w - width
    return [Rect(x0 + k * (GRID_BOX_MM + GRID_GAP_MM), y, GRID_BOX_MM, GRID_BOX_MM) for k in range(n_columns)]


@dataclass(frozen=True)
class GridDecision:
    """What a grid page says: ``opinions`` (project -> grade name / for / against) of the rows
    read unambiguously, and ``review`` (project, reason) for every row a person must judge."""

    opinions: dict[str, str] = field(default_factory=dict)
    review: tuple[tuple[str, str], ...] = ()

    @property
    def needs_review(self) -> bool:
        """Whether some row cannot be read without a person."""
        return bool(self.review)


def decide_grid(env: Envelope, project_ids: Sequence[str],
                judged: Mapping[tuple[str, int], str]) -> GridDecision:
    """Row decisions of a grid page (module doc); ``judged[(project, column)]`` is the box's
    class (``vote`` / ``ambiguous`` / ``empty``; a missing box counts as empty)."""
    columns = grid_columns(env)
    opinions: dict[str, str] = {}
    review: list[tuple[str, str]] = []
    for pid in project_ids:
        classes = [judged.get((pid, k), "empty") for k in range(len(columns))]
        marked = [k for k, c in enumerate(classes) if c == VOTE]
        if AMBIGUOUS in classes:
            review.append((pid, "ambiguous_row"))
        elif len(marked) > 1:
            review.append((pid, "overvote_row"))
        elif marked:
            opinions[pid] = columns[marked[0]]
    return GridDecision(opinions, tuple(review))


def grid_submission(token: str, env: Envelope, decision: GridDecision, source: SourceRef,
                    image_sha256: str, ballot_serial: str | None = None) -> Submission:
    """The paper submission of an accepted grid page (after review: no row left to judge)."""
    if decision.needs_review:
        raise ValueError(f"rows {[pid for pid, _ in decision.review]} still need review")
    return Submission(token, Channel.PAPER, {}, source, image_sha256=image_sha256, ballot_serial=ballot_serial,
                      opinions={env.id: dict(decision.opinions)})

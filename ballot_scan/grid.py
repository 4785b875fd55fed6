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

The page geometry is :func:`ballot_scan.layout.grid_layout`: each box is a
:class:`~ballot_scan.layout.MarkBox` whose ``column`` is its opinion, so the reader files its
measures under ``"<project>=<opinion>"`` and :func:`read_grid` decides the rows from those
keys. :func:`sheet_submission` builds the :class:`~engine.model.ballots.Submission` of any
accepted sheet (an approval list, or a grid's opinions), so the scanner, the multi-page
combiner and the adjudicator (who types ``project=opinion`` items) share one path, and
validation and counting are those of online ballots. Pure; O(projects x columns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ballot_scan.layout import grid_columns
from ballot_scan.marks import AMBIGUOUS, VOTE
from engine.model.ballots import Channel, SourceRef, Submission
from engine.model.election import Envelope
from engine.model.opinions import opinion_item, split_item


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


def box_item(key: str, columns: Sequence[str]) -> tuple[str, int] | None:
    """(project, column index) of a grid box key ``"<project>=<opinion>"``; None if the
    opinion is not one of ``columns`` (not a grid key of this envelope)."""
    try:
        pid, opinion = split_item(key)
    except ValueError:
        return None
    return (pid, columns.index(opinion)) if opinion in columns else None


def read_grid(env: Envelope, votes: Sequence[str], ambiguous: Mapping[str, str]) -> GridDecision:
    """The row decisions of a read grid page from the reader's box keys: ``votes`` (boxes
    judged marked) and ``ambiguous`` (box -> reason). Rows without any mark are not listed
    (no opinion). Keys that are not boxes of ``env``'s grid are ignored."""
    columns = grid_columns(env)
    judged: dict[tuple[str, int], str] = {}
    for keys, verdict in ((ambiguous, AMBIGUOUS), (votes, VOTE)):
        for key in keys:
            box = box_item(key, columns)
            if box is not None:
                judged[box] = verdict
    projects = sorted({pid for pid, _ in judged})
    return decide_grid(env, projects, judged)


def sheet_opinions(env: Envelope, items: Sequence[str]) -> dict[str, str]:
    """A grid sheet's ``project=opinion`` items (as read, or as an adjudicator types them) as
    the opinions of a :class:`Submission`; ValueError names an item that is not of the form,
    an opinion not printed on this envelope's grid, or a project given two opinions."""
    columns = grid_columns(env)
    out: dict[str, str] = {}
    for item in items:
        pid, opinion = split_item(item)
        if opinion not in columns:
            raise ValueError(f"{item!r}: {opinion!r} is not an opinion of envelope {env.id!r} "
                             f"(one of {', '.join(map(repr, columns))})")
        if pid in out:
            raise ValueError(f"project {pid!r} given two opinions ({out[pid]!r} and {opinion!r})")
        out[pid] = opinion
    return out


def sheet_submission(token: str, env: Envelope, items: Sequence[str], source: SourceRef, image_sha256: str,
                     ballot_serial: str | None) -> Submission:
    """The paper submission of one accepted sheet of ``env``: an approval sheet's project ids,
    or a grid sheet's ``project=opinion`` items (:func:`sheet_opinions`)."""
    if env.ballot == "approval":
        return Submission(token, Channel.PAPER, {env.id: list(items)}, source, None, image_sha256, ballot_serial)
    return Submission(token, Channel.PAPER, {}, source, image_sha256=image_sha256, ballot_serial=ballot_serial,
                      opinions={env.id: sheet_opinions(env, items)})


def grid_submission(token: str, env: Envelope, decision: GridDecision, source: SourceRef,
                    image_sha256: str, ballot_serial: str | None = None) -> Submission:
    """The paper submission of an accepted grid page (after review: no row left to judge)."""
    if decision.needs_review:
        raise ValueError(f"rows {[pid for pid, _ in decision.review]} still need review")
    items = [opinion_item(pid, opinion) for pid, opinion in decision.opinions.items()]
    return sheet_submission(token, env, items, source, image_sha256, ballot_serial)

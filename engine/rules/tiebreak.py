"""Tie-breaks: the one place that orders projects for every allocation rule.

A tie-break is a named :class:`TieBreak` object (as pabutools' ``tiebreaking.py`` has
``TieBreakingRule`` objects such as ``lexico_tie_breaking``). An election names it per
envelope (``tie_break = "votes-cost-id"``); rules receive the name and look the object up
with :func:`tie_break_named`. Three tie-breaks exist:

========================  ============================================================
name                      order of projects with equal votes (score)
========================  ============================================================
``votes-cost-id``         cheaper first, then project id in natural order (``P2`` < ``P10``)
``votes-id``              project id in natural order
``lexicographic``         project id as a plain string (``"10"`` < ``"9"``; pabutools' default)
========================  ============================================================

Two uses:

* :meth:`TieBreak.order` (:func:`project_order`): every project, best first: votes
  descending, then the tie-break. Greedy, quota, exclusive, exact (its welfare ties),
  majority judgment and for/against (through greedy) walk this order. The savings-cut
  rules (``engine/rules/cuts.py``) call it with ``larger_cost_first=True``: among lines
  with equal opposition the larger saving is cut first.
* :meth:`TieBreak.rank` (:func:`tie_rank`): each project's rank among projects tied on
  a rule's own criterion (Method of Equal Shares: equal price per unit of satisfaction).
  ``lexicographic`` ranks by id alone, exactly pabutools; the others rank as ``order``.

Complexity: ``order`` and ``rank`` sort ``n`` projects, O(n log n) comparisons of keys
whose natural-order part is O(length of the id).

The verifier keeps its own deliberate copy (``engine/verifier/tiebreak.py``, listed in
``engine/verifier/README.md``) so that it never imports the code it checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.rules.problem import AllocationProblem


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Order ids like a human: ``P2`` before ``P10``; digit runs compare as numbers.

    O(len(text)).
    """
    out: list[tuple[int, int | str]] = []
    num = ""
    word = ""
    for ch in text:
        if ch.isdigit():
            if word:
                out.append((1, word))
                word = ""
            num += ch
        else:
            if num:
                out.append((0, int(num)))
                num = ""
            word += ch
    if num:
        out.append((0, int(num)))
    if word:
        out.append((1, word))
    return tuple(out)


def _plain(text: str) -> str:
    return text


@dataclass(frozen=True)
class TieBreak:
    """A named tie-break: what decides between projects with equal votes.

    ``by_cost``: the cheaper project first (``larger_cost_first`` reverses it).
    ``id_key``: how project ids compare last (:func:`natural_key` or the plain string).
    ``rank_ignores_votes``: :meth:`rank` orders by id alone (pabutools' lexicographic).
    """

    name: str
    definition: str
    by_cost: bool
    id_key: Callable[[str], Any]
    rank_ignores_votes: bool = False

    def order(self, problem: AllocationProblem, *, larger_cost_first: bool = False) -> list[int]:
        """Indices of the projects, best first: score descending, then this tie-break.

        O(n log n)."""
        ids, costs, scores = problem.project_ids, problem.costs, problem.scores
        sign = -1 if larger_cost_first else 1
        if self.by_cost:
            return sorted(range(len(ids)), key=lambda i: (-scores[i], sign * costs[i], self.id_key(ids[i])))
        return sorted(range(len(ids)), key=lambda i: (-scores[i], self.id_key(ids[i])))

    def rank(self, problem: AllocationProblem) -> list[int]:
        """Rank of each project (0 = preferred) among projects tied on a rule's own
        criterion. O(n log n)."""
        if self.rank_ignores_votes:
            order = sorted(range(len(problem.project_ids)), key=lambda i: self.id_key(problem.project_ids[i]))
        else:
            order = self.order(problem)
        rank = [0] * len(order)
        for r, i in enumerate(order):
            rank[i] = r
        return rank


VOTES_COST_ID = TieBreak(
    "votes-cost-id", "equal votes: cheaper first, then project id in natural order",
    by_cost=True, id_key=natural_key,
)
VOTES_ID = TieBreak("votes-id", "equal votes: project id in natural order", by_cost=False, id_key=natural_key)
LEXICOGRAPHIC = TieBreak(
    "lexicographic", "equal votes: project id as a plain string (pabutools' default)",
    by_cost=False, id_key=_plain, rank_ignores_votes=True,
)

TIE_BREAK_OBJECTS: dict[str, TieBreak] = {t.name: t for t in (VOTES_COST_ID, VOTES_ID, LEXICOGRAPHIC)}
TIE_BREAKS: tuple[str, ...] = tuple(TIE_BREAK_OBJECTS)  # the names an election may use
DEFAULT_TIE_BREAK = VOTES_COST_ID.name


def tie_break_named(name: str) -> TieBreak:
    """The tie-break called ``name``; :class:`ValueError` naming the known ones otherwise."""
    try:
        return TIE_BREAK_OBJECTS[name]
    except KeyError:
        raise ValueError(f"unknown tie-break {name!r} (one of {', '.join(TIE_BREAKS)})") from None


def project_order(problem: AllocationProblem, tie_break: str) -> list[int]:
    """Indices of projects, best first, by score descending then the named tie-break
    (:meth:`TieBreak.order`). O(n log n)."""
    return tie_break_named(tie_break).order(problem)


def tie_rank(problem: AllocationProblem, tie_break: str) -> list[int]:
    """Rank of each project (0 = preferred) among projects tied on a rule's own criterion
    (:meth:`TieBreak.rank`). O(n log n)."""
    return tie_break_named(tie_break).rank(problem)

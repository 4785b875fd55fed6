"""Opinions on grade and for/against ballots, as the items of a ballot's selections.

An approval envelope's selection is a sorted tuple of project ids. A ``grades`` or
``for-against`` envelope (``Envelope.ballot``) stores one item per project the voter gave an
opinion on, ``"<project id>=<opinion>"``, sorted: the opinion is the grade's index on the
scale counted from the lowest (``"P012=3"``: Paris's "J'adore") or ``for`` / ``against``
(``"P012=against"``). The items are plain strings, so the store, the de-duplication, the
ballot key and the ballot log (``docs/bundle.md``) carry them unchanged; a project id may
hold ``=`` (the opinion is after the last one). The verifier reads them with its own copy
(``engine/verifier/counts.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.model.election import AGAINST, FOR, Envelope

SEPARATOR = "="


def opinion_item(project_id: str, opinion: str) -> str:
    """``"P012=3"``: one project's opinion as a selection item."""
    return f"{project_id}{SEPARATOR}{opinion}"


def split_item(item: str) -> tuple[str, str]:
    """``"P012=3"`` -> ``("P012", "3")``; ValueError for an item without an opinion."""
    pid, sep, opinion = item.rpartition(SEPARATOR)
    if not sep or not pid:
        raise ValueError(f"selection item {item!r} is not 'project=opinion'")
    return pid, opinion


def grade_of(item: str, n_grades: int) -> tuple[str, int]:
    """(project id, grade index) of a grade item; ValueError when the grade is off the scale."""
    pid, text = split_item(item)
    if not text.isdigit() or not 0 <= int(text) < n_grades:
        raise ValueError(f"grade {text!r} of project {pid!r} is not on the scale 0..{n_grades - 1}")
    return pid, int(text)


def stance_of(item: str) -> tuple[str, bool]:
    """(project id, True for ``for`` / False for ``against``) of a for/against item."""
    pid, text = split_item(item)
    if text not in (FOR, AGAINST):
        raise ValueError(f"opinion {text!r} of project {pid!r} is neither {FOR!r} nor {AGAINST!r}")
    return pid, text == FOR


def supported_projects(env: Envelope, items: Iterable[str]) -> list[str]:
    """The projects a selection of ``env`` supports, in item order: an approval selection's
    projects; on a grades envelope the projects graded *above* the grade an ungraded project
    counts as (``env.default_grade``: the voter's neutral point, the lowest grade by default);
    on a for-against envelope the projects voted ``for``. The fairness report's notion of
    "approved" for grade and for-against ballots (``engine/counting/fairness.py``).
    ValueError for an item that is not an opinion of ``env``."""
    if env.ballot == "approval":
        return list(items)
    if env.ballot == "grades":
        n, neutral = len(env.grades), env.default_grade
        return [pid for pid, grade in (grade_of(item, n) for item in items) if grade > neutral]
    return [pid for pid, is_for in (stance_of(item) for item in items) if is_for]


def support_definition(env: Envelope) -> str:
    """What :func:`supported_projects` counts, in words (published in ``fairness.json``)."""
    if env.ballot == "grades":
        return f"graded above {env.grade_scale[env.default_grade]!r}"
    return "voted for" if env.ballot == "for-against" else "approved"

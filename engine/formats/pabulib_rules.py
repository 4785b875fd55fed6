"""What some rules need from a pabulib instance beyond costs and scores.

* :func:`grade_profile` — a ``vote_type;scoring`` file read as grades for majority
  judgment: ``points`` are grade indices, 0 the lowest and META ``max_points`` the highest
  (the highest point given when the key is absent); a project a voter did not list counts
  as META ``default_score`` (default 0, the lowest grade).
* :func:`exclusive_groups` — the PROJECTS column ``exclusive_group`` (a pbcount extension:
  the pabulib format has no standard column for it; ``greedy-exclusive`` files describe the
  exclusions in their comment only): projects with the same non-empty value exclude each
  other.
"""

from __future__ import annotations

import numpy as np

from engine.formats.pabulib import PabulibError, PbInstance, parse_number
from engine.model.ids import ProjectId
from engine.rules.grades import GradeProfile
from engine.rules.problem import ExclusiveGroup

EXCLUSIVE_COLUMN = "exclusive_group"


def _meta_int(inst: PbInstance, key: str, source: str) -> int | None:
    raw = inst.meta.get(key, "").strip()
    if not raw:
        return None
    x = parse_number(raw)
    if x.denominator != 1 or x < 0:
        raise PabulibError(source, 0, f"META {key} {raw!r} is not a whole number >= 0 (a grade)")
    return int(x)


def grade_profile(inst: PbInstance, source: str = "<pb>") -> GradeProfile:
    """The grades of a ``scoring`` instance (see the module doc); errors name file and line."""
    if inst.vote_type != "scoring":
        raise PabulibError(source, 0, f"majority judgment needs vote_type scoring (grades), not {inst.vote_type}")
    top = _meta_int(inst, "max_points", source)
    default = _meta_int(inst, "default_score", source) or 0
    index = {p.project_id: j for j, p in enumerate(inst.projects)}
    projects: list[int] = []
    given: list[int] = []
    for v in inst.votes:
        for pid, x in zip(v.vote, v.points or (), strict=True):
            if x.denominator != 1 or x < 0 or (top is not None and x > top):
                scale = f"0..{top}" if top is not None else "0, 1, 2..."
                raise PabulibError(source, v.line, f"voter {v.voter_id!r}: points {x} for project {pid!r} "
                                   f"is not a grade ({scale})")
            projects.append(index[pid])
            given.append(int(x))
    if top is None:
        top = max([*given, default, 1])
    if default > top:
        raise PabulibError(source, 0, f"META default_score {default} is above max_points {top}")
    names = tuple(str(g) for g in range(top + 1))
    return GradeProfile.from_flat(names, len(inst.projects), len(inst.votes), np.asarray(projects, np.int64),
                                  np.asarray(given, np.int64), default)


def exclusive_groups(inst: PbInstance) -> tuple[ExclusiveGroup, ...]:
    """Groups of the ``exclusive_group`` PROJECTS column (empty when there is no such column)."""
    if EXCLUSIVE_COLUMN not in inst.project_columns:
        return ()
    groups: dict[str, set[ProjectId]] = {}
    for p in inst.projects:
        name = p.fields.get(EXCLUSIVE_COLUMN, "").strip()
        if name:
            groups.setdefault(name, set()).add(ProjectId(p.project_id))
    return tuple(ExclusiveGroup(name, frozenset(m)) for name, m in groups.items())

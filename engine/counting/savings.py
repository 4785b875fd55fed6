"""Savings envelopes (reverse PB) at count time: sector limits in, sector report out.

A savings envelope (``kind = "savings"``, :class:`~engine.model.election.SavingsSpec`) is
allocated by a cuts rule (:mod:`engine.rules.cuts`): its lines are the projects (cost =
amount saved if cut, category = sector), the votes to cut are the approvals, the target is
the envelope's ``budget``. This module turns the declared per-sector limits into
:class:`~engine.rules.cuts.SectorLimit` values and reports, per sector, the spending
before and after the cuts. Pure; O(lines).

A sector's *spending* is its declared ``spending``, else the sum of its lines' amounts.
``max_share`` of it is the most that may be saved in the sector, rounded down (exact
fractions, as the stand-alone verifier computes it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.errors import TargetUnreachable
from engine.model.election import Election, Envelope
from engine.rules import AllocationProblem, AllocationResult
from engine.rules.cuts import SectorLimit, cuts_exact, cuts_greedy
from engine.rules.tiebreak import natural_key


@dataclass(frozen=True)
class SectorReport:
    """One sector of a savings envelope after the count."""

    sector: str
    spending_before: int
    saved: int
    lines: int
    lines_cut: int
    max_cuts: int | None
    max_amount: int | None

    @property
    def spending_after(self) -> int:
        """The sector's spending once the published cuts are made."""
        return self.spending_before - self.saved


def sector_names(election: Election, env: Envelope) -> list[str]:
    """The sectors of the envelope's lines, in natural order."""
    return sorted({p.category for p in election.projects_in(env.id) if p.category is not None}, key=natural_key)


def sector_spending(election: Election, env: Envelope) -> dict[str, int]:
    """Each sector's spending before cuts: declared, else the sum of its lines' amounts."""
    assert env.savings is not None
    out: dict[str, int] = {}
    for name in sector_names(election, env):
        declared = env.savings.sector(name).spending
        out[name] = declared if declared is not None else sum(
            p.cost for p in election.projects_in(env.id) if p.category == name)
    return out


def savings_limits(election: Election, env: Envelope) -> tuple[SectorLimit, ...]:
    """The envelope's sector limits as the cuts rules take them (sectors without a limit left out)."""
    assert env.savings is not None
    spending = sector_spending(election, env)
    out = []
    for name in sector_names(election, env):
        max_cuts, share = env.savings.limits_of(name)
        if max_cuts is None and share is None:
            continue
        amount = math.floor(share * spending[name]) if share is not None else None
        members = frozenset(p.id for p in election.projects_in(env.id) if p.category == name)
        out.append(SectorLimit(name, members, max_cuts, amount))
    return tuple(out)


def allocate_savings(election: Election, env: Envelope, problem: AllocationProblem) -> AllocationResult:
    """Run the envelope's cuts rule with its sector limits; a target that cannot be reached
    raises :class:`~engine.errors.TargetUnreachable` naming the envelope and the most that
    can be saved."""
    rule = {"cuts-greedy": cuts_greedy, "cuts-exact": cuts_exact}[env.rule]
    try:
        return rule(problem, env.tie_break, limits=savings_limits(election, env))
    except TargetUnreachable as exc:
        raise TargetUnreachable(f"savings envelope {env.id!r}: {exc}", exc.most) from exc


def sector_reports(election: Election, env: Envelope, result: AllocationResult) -> list[SectorReport]:
    """Per sector: spending before and after, lines and lines cut, the limits applied."""
    spending = sector_spending(election, env)
    limits = {lim.sector: lim for lim in savings_limits(election, env)}
    cut = set(result.selected)
    out = []
    for name in sector_names(election, env):
        lines = [p for p in election.projects_in(env.id) if p.category == name]
        lim = limits.get(name)
        out.append(SectorReport(name, spending[name], sum(p.cost for p in lines if p.id in cut), len(lines),
                                sum(1 for p in lines if p.id in cut), lim.max_cuts if lim else None,
                                lim.max_amount if lim else None))
    return out

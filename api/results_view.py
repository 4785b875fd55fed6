"""The published results as plain data (JSON for ``/v1/results`` and the page).

Pure: built from a :class:`~engine.counting.count.CountResult`. Money in the election's currency
(integers), shares as fractions in [0, 1].

Popular-neighbourhood quota: when the election declares quotas on
``popular_neighbourhood = true`` projects (``[[quotas]]``, see docs/rules.md), the page
shows the declared minimum share and whether every envelope's reserve was met (the rule's
own :class:`~engine.rules.problem.QuotaReport`); otherwise it shows the share of the money
spent against Paris' reference of one third (``quota_declared: false``).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from engine.counting.count import CountResult
from engine.formats.election_canonical import definition_hash
from engine.model.ballots import Channel
from engine.model.election import Election

DEFAULT_POPULAR_SHARE = 1 / 3



_TIE_WINNERS = re.compile(r"lost to ([^;]+)")


def tie_winners(reason: str, detail: str) -> list[str]:
    """The projects a ``tie_lost`` project lost its tie to, read from the rule's detail
    (``tie on 57 votes lost to AR11-003, AR11-009; cost …``); empty for any other reason."""
    if reason != "tie_lost":
        return []
    m = _TIE_WINNERS.search(detail)
    return [x.strip() for x in m.group(1).split(",") if x.strip()] if m else []

def popular_quota_names(election: Election) -> list[str]:
    """Names of the quotas reserving money for popular neighbourhoods."""
    return [q.name for q in getattr(election, "quotas", ())
            if q.group_key == "popular_neighbourhood" and q.group_value is True]


def popular_quota_share(election: Election) -> float:
    """The declared minimum share for popular-neighbourhood projects, else one third."""
    for q in getattr(election, "quotas", ()):
        if q.group_key == "popular_neighbourhood" and q.group_value is True and q.min_share is not None:
            return float(q.min_share)
    return DEFAULT_POPULAR_SHARE


def results_document(result: CountResult, counted_at: str, closed_at: str | None,
                     pending_review: int = 0) -> dict[str, Any]:
    """The results as ``GET /v1/results`` and the page show them; ``pending_review``: paper
    pages still in review (not counted yet)."""
    e = result.election
    counted = result.dedup.counted
    n_paper = sum(1 for b in counted if b.channel is Channel.PAPER)
    superseded = Counter(s.reason for s in result.dedup.superseded)
    envelopes: list[dict[str, Any]] = []
    popular_names = popular_quota_names(e)
    quota_reports: list[Any] = []
    total_spent = 0
    popular_spent = 0
    for env in e.envelopes:
        alloc = result.allocation.envelopes[env.id]
        et = result.tally.envelopes[env.id]
        projects = []
        env_popular = 0
        for o in sorted(alloc.outcomes, key=lambda o: o.rank):
            p = e.project(o.project_id)
            assert p is not None
            v = et.projects[p.id]
            if o.selected and p.popular_neighbourhood:
                env_popular += p.cost
            projects.append({
                "id": p.id, "title": p.title, "cost": p.cost, "district": p.district,
                "category": p.category, "popular_neighbourhood": p.popular_neighbourhood,
                "votes_online": v.online, "votes_paper": v.paper, "votes_total": v.total,
                "rank": o.rank, "selected": o.selected, "cumulative_cost": o.cumulative_cost,
                "reason": o.reason, "tie_lost_to": tie_winners(o.reason, o.detail),
            })
        total_spent += alloc.cost
        popular_spent += env_popular
        reports = list(getattr(alloc, "quota_reports", ()))
        quota_reports.extend(r for r in reports if r.name in popular_names)
        envelopes.append({
            "quotas": alloc.to_dict()["quota_reports"],
            "id": env.id, "name": env.name, "kind": env.kind, "rule": alloc.rule,
            "tie_break": alloc.tie_break, "budget": env.budget, "spent": alloc.cost,
            "left_over": env.budget - alloc.cost, "projects_funded": len(alloc.selected),
            "popular_spent": env_popular,
            "ballots": {"online": et.ballots_online, "paper": et.ballots_paper, "total": et.ballots},
            "projects": projects,
        })
    budget = sum(x.budget for x in e.envelopes)
    return {
        "election": {
            "id": e.id, "name": e.name, "currency": e.currency, "precedence": e.precedence,
            "definition_hash": definition_hash(e), "closed_at": closed_at,
        },
        "counted_at": counted_at,
        "turnout": {
            "ballots_counted": len(counted), "online": len(counted) - n_paper, "paper": n_paper,
            "superseded": sum(superseded.values()), "superseded_by_reason": dict(sorted(superseded.items())),
            "rejected": sum(result.rejected_by_reason.values()),
            "rejected_by_reason": dict(sorted(result.rejected_by_reason.items())),
            "pending_review": pending_review,
        },
        "budget": {"total": budget, "spent": total_spent, "left_over": budget - total_spent},
        "popular_neighbourhood": {
            "spent": popular_spent,
            "share_of_spent": popular_spent / total_spent if total_spent else 0.0,
            "quota_share": popular_quota_share(e),
            "quota_declared": bool(popular_names),
            "quota_met": (all(r.met for r in quota_reports) if popular_names
                          else total_spent == 0 or popular_spent / total_spent >= popular_quota_share(e)),
        },
        "envelopes": envelopes,
    }

"""The canonical form of an election definition and its hash.

:func:`election_to_dict` gives the plain-data form (it round-trips through
:func:`engine.formats.election_definition.election_from_dict`); :func:`definition_hash`
is SHA-256 of its canonical JSON (sorted keys, no spaces, UTF-8), which the store
freezes on first ingestion and the bundle publishes. Keys with default values are left
out where they were added later, so hashes of older definitions do not change.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from typing import Any

from engine.model.election import Election, Envelope, Project, QuotaSpec


def quota_to_dict(q: QuotaSpec) -> dict[str, Any]:
    """A quota as it stands in the canonical definition (keys with default values are left
    out, so that existing definition hashes do not change).
    """
    d: dict[str, Any] = {"name": q.name, "group": {q.group_key: q.group_value},
                         "release_unused": q.release_unused}
    if q.scope != "envelope":  # only when not the default, so existing hashes are unchanged
        d["scope"] = q.scope
    if q.envelopes:
        d["envelopes"] = list(q.envelopes)
    for key in ("min_share", "max_share"):
        v = getattr(q, key)
        if v is not None:
            d[key] = f"{v.numerator}/{v.denominator}"
    for key in ("min_amount", "max_amount"):
        v = getattr(q, key)
        if v is not None:
            d[key] = v
    return d


def _fraction_text(v: Fraction) -> str:
    return f"{v.numerator}/{v.denominator}"


def savings_envelope_dict(x: Envelope, d: dict[str, Any]) -> dict[str, Any]:
    """A savings envelope's canonical form: ``target`` instead of ``budget``, then its
    sector rules (only those declared)."""
    assert x.savings is not None
    s = x.savings
    out = {k: v for k, v in d.items() if k != "budget"}
    out["target"] = x.budget
    if s.min_sectors:
        out["min_sectors"] = s.min_sectors
    if s.max_cuts_per_sector is not None:
        out["max_cuts_per_sector"] = s.max_cuts_per_sector
    if s.max_share_per_sector is not None:
        out["max_share_per_sector"] = _fraction_text(s.max_share_per_sector)
    if s.sectors:
        sectors: dict[str, Any] = {}
        for sec in s.sectors:
            one: dict[str, Any] = {}
            if sec.spending is not None:
                one["spending"] = sec.spending
            if sec.max_cuts is not None:
                one["max_cuts"] = sec.max_cuts
            if sec.max_share is not None:
                one["max_share"] = _fraction_text(sec.max_share)
            sectors[sec.name] = one
        out["sectors"] = sectors
    return out


def election_to_dict(e: Election) -> dict[str, Any]:
    """Canonical plain-data form (round-trips through :func:`election_from_dict`)."""

    def env_dict(x: Envelope) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": x.id,
            "name": x.name,
            "kind": x.kind,
            "code": x.code,
            "budget": x.budget,
            "max_selections": x.max_selections,
            "min_selections": x.min_selections,
            "rule": x.rule,
            "tie_break": x.tie_break,
        }
        if x.category_limits:
            d["category_limits"] = dict(sorted(x.category_limits.items()))
        if x.max_selection_cost is not None:
            d["max_selection_cost"] = x.max_selection_cost
        if x.district is not None:
            d["district"] = x.district
        if x.ballot != "approval":  # only when not the default, so existing hashes are unchanged
            d["ballot"] = x.ballot
        if x.grades:
            d["grades"] = list(x.grades)
        if x.ungraded is not None:
            d["ungraded"] = x.ungraded
        if x.exclusive:  # only when declared, so existing hashes are unchanged
            d["exclusive"] = [{"name": g.name, "projects": list(g.projects)} for g in x.exclusive]
        if x.savings is not None:
            d = savings_envelope_dict(x, d)
        return d

    def proj_dict(p: Project) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": p.id,
            "envelope": p.envelope,
            "title": p.title,
            "cost": p.cost,
            "popular_neighbourhood": p.popular_neighbourhood,
        }
        if p.district is not None:
            d["district"] = p.district
        if p.category is not None:
            d["category"] = p.category
        return d

    doc: dict[str, Any] = {
        "election": {"id": e.id, "name": e.name, "currency": e.currency, "precedence": e.precedence},
        "voting": {
            "max_envelopes_per_kind": dict(sorted(e.voting.max_envelopes_per_kind.items())),
            "required_kinds": list(e.voting.required_kinds),
        },
        "envelopes": [env_dict(x) for x in e.envelopes],
        "projects": [proj_dict(p) for p in e.projects],
    }
    if e.voting.opens is not None:  # only when declared, so hashes of older definitions are unchanged
        doc["voting"]["opens"] = e.voting.opens
        doc["voting"]["closes"] = e.voting.closes
    if e.quotas:  # only when declared, so hashes of definitions without quotas are unchanged
        doc["quotas"] = [quota_to_dict(q) for q in e.quotas]
    doc.update(e.extra)
    return doc


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 (used for hashes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def definition_hash(e: Election) -> str:
    """SHA-256 (hex) of the canonical JSON definition: what the store freezes."""
    return hashlib.sha256(canonical_json(election_to_dict(e)).encode()).hexdigest()

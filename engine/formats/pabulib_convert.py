"""Between pbcount elections and pabulib instances (pure functions).

* :func:`election_from_instance` / :func:`ballots_from_instance` — a ``.pb`` file as a
  one-envelope election and its ballots (approvals: every project a voter listed; points
  and rank order are not kept). ``voting_method = paper`` becomes a paper ballot, anything
  else online. Money is in the file's currency units, or in 1/``unit`` of it when the file
  has fractional costs (the election name says so).
* :func:`instance_from_count` — one envelope of a counted election as a ``.pb`` instance:
  voter ids are anonymous (``1..n`` in the order of the ballots' SHA-256 keys, which does not
  reveal voting order or identity), ``voting_method`` is ``internet`` or ``paper``, the
  ``selected`` column is the pbcount outcome.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

from engine.counting.count import CountResult
from engine.formats.election_definition import election_from_dict
from engine.formats.pabulib import META_RULES, PbInstance, PbProject, PbVote, money_scale
from engine.model import crockford
from engine.model.ballots import Ballot, Channel, Selections, SourceRef, ballot_key
from engine.model.election import Election
from engine.model.ids import EnvelopeId, ProjectId, ReceiptId

# pbcount rule -> pabulib META rule
PABULIB_RULE_NAMES = {ours: theirs for theirs, ours in META_RULES.items() if ours and theirs != "greedy-threshold"}


def election_from_instance(inst: PbInstance, election_id: str, rule: str = "greedy") -> tuple[Election, int]:
    """(election, unit): a single city-wide envelope holding every project of the file."""
    unit = money_scale([inst.budget, *(p.cost for p in inst.projects)])
    meta = inst.meta
    name = " ".join(x for x in (meta.get("description", ""), meta.get("unit", ""), meta.get("instance", "")) if x)
    if unit != 1:
        name += f" (amounts in 1/{unit} {meta.get('currency', 'currency unit')})"
    longest = max((len(v.vote) for v in inst.votes), default=1)
    max_len = int(meta["max_length"]) if meta.get("max_length", "").strip().isdigit() else longest
    envelope = {
        "id": "main", "name": name or election_id, "kind": "citywide", "code": "MAIN",
        "budget": int(inst.budget * unit), "max_selections": max(1, max_len, longest),
        "min_selections": 0, "rule": rule, "tie_break": "lexicographic",
    }
    projects = []
    for p in inst.projects:
        d: dict[str, object] = {"id": p.project_id, "envelope": "main",
                                "title": p.fields.get("name") or p.project_id,
                                "cost": max(1, int(p.cost * unit))}
        if p.fields.get("category"):
            d["category"] = p.fields["category"]
        if p.fields.get("district"):
            d["district"] = p.fields["district"]
        projects.append(d)
    doc = {
        "election": {"id": election_id, "name": name or election_id,
                     "currency": meta.get("currency", "EUR"), "precedence": "latest"},
        "voting": {"max_envelopes_per_kind": {"citywide": 1, "district": 0}, "required_kinds": []},
        "envelopes": [envelope],
        "projects": projects,
    }
    return election_from_dict(doc, f"pabulib:{election_id}"), unit


def ballots_from_instance(inst: PbInstance, source_name: str) -> list[Ballot]:
    """One approval ballot per voter of the file (empty ballots are skipped)."""
    out: list[Ballot] = []
    for v in inst.votes:
        if not v.vote:
            continue
        channel = Channel.PAPER if v.fields.get("voting_method", "").strip() == "paper" else Channel.ONLINE
        serial = f"pabulib:{v.voter_id}"
        selections: Selections = ((EnvelopeId("main"), tuple(ProjectId(p) for p in sorted(v.vote))),)
        key = ballot_key(channel, serial, "", selections, None)
        out.append(Ballot(key, serial, channel, "", selections, SourceRef(source_name, v.line),
                          receipt_id=import_receipt_id(key, channel)))
    return out


def import_receipt_id(key: str, channel: Channel) -> ReceiptId:
    """Receipt of an imported ballot (``R``/``P`` + 15 base32 symbols like any receipt): the
    data is already public, so a plain hash of the ballot key rather than a keyed one."""
    digest = hashlib.sha256(b"pbcount-import-receipt-v1" + key.encode()).digest()
    return ReceiptId(("P" if channel is Channel.PAPER else "R") + crockford.encode_bytes(digest[:10])[:15])


def instance_from_count(result: CountResult, envelope_id: EnvelopeId) -> PbInstance:
    """A ``.pb`` instance of one envelope of a counted election (anonymous voter ids)."""
    e = result.election
    env = e.envelope(envelope_id)
    if env is None:
        raise KeyError(envelope_id)
    alloc = result.allocation.envelopes[envelope_id]
    selected = set(alloc.selected)
    et = result.tally.envelopes[envelope_id]
    ballots = sorted((b for b in result.dedup.counted if b.projects(envelope_id)), key=lambda b: b.ballot_key)
    projects = tuple(
        PbProject(p.id, Fraction(p.cost), {
            "votes": str(et.projects[p.id].total), "name": p.title, "category": p.category or "",
            "district": p.district or "", "popular_neighbourhood": str(int(p.popular_neighbourhood)),
            "selected": str(int(p.id in selected)),
        })
        for p in e.projects_in(envelope_id)
    )
    votes = tuple(
        PbVote(str(i), b.projects(envelope_id), None,
               {"voting_method": "paper" if b.channel is Channel.PAPER else "internet"})
        for i, b in enumerate(ballots, start=1)
    )
    meta = {
        "description": f"{e.name}: {env.name}",
        "country": str(e.extra.get("country", "")),
        "unit": str(e.extra.get("unit", e.name)),
        "instance": e.id,
        "subunit": env.name,
        "num_projects": str(len(projects)),
        "num_votes": str(len(votes)),
        "budget": str(env.budget),
        "vote_type": "approval",
        "rule": PABULIB_RULE_NAMES.get(env.rule, "unknown") if not alloc.quota_reports else "greedy-custom",
        "date_begin": str(e.extra.get("date_begin", "")),
        "date_end": str(e.extra.get("date_end", "")),
        "min_length": str(env.min_selections),
        "max_length": str(env.max_selections),
        "currency": e.currency,
        "comment": f"exported by pbcount; rule {env.rule}, tie-break {env.tie_break}",
    }
    if env.district:
        meta["district"] = env.district
    return PbInstance(meta, projects, votes,
                      ("project_id", "cost", "votes", "name", "category", "district",
                       "popular_neighbourhood", "selected"),
                      ("voter_id", "vote", "voting_method"))

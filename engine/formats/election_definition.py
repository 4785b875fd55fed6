"""Reading an election definition: a TOML (or JSON) document into :class:`Election`.

Every table's keys are checked (an unknown key is an error with a "did you mean"
suggestion), every value is type-checked, and every error names the file and the key
path (:class:`~engine.errors.ElectionDefinitionError`). See ``docs/election-format.md``.
The values are :mod:`engine.model.election`; the canonical form is
:mod:`engine.formats.election_canonical`.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from engine.errors import ElectionDefinitionError
from engine.model.election import (
    BALLOT_TYPES,
    DEFAULT_PRECEDENCE,
    ENVELOPE_KINDS,
    PARIS_GRADES_BEST_FIRST,
    PRECEDENCE_RULES,
    QUOTA_GROUP_KEYS,
    QUOTA_SCOPES,
    Election,
    Envelope,
    ExclusiveSpec,
    Project,
    QuotaSpec,
    SavingsSpec,
    SectorSpec,
    VotingPolicy,
)
from engine.model.ids import EnvelopeId, ProjectId

# The keys each table may hold; anything else is an error with a "did you mean" suggestion
# (a typo such as ``popular_neighborhood`` must not be silently ignored). A new key is
# added here and documented in docs/election-format.md.
TOP_LEVEL_KEYS = ("election", "envelopes", "projects", "voting", "quotas")
# kept as-is: pabulib export metadata; the paper ballot's language and the results page's
# address printed on the stub (ballot_scan/render.py, docs/election-format.md)
METADATA_KEYS = ("country", "unit", "date_begin", "date_end", "language", "results_url")
ELECTION_KEYS = ("id", "name", "currency", "precedence")
VOTING_KEYS = ("max_envelopes_per_kind", "required_kinds", "opens", "closes")
ENVELOPE_KEYS = ("id", "name", "kind", "code", "district", "budget", "max_selections", "min_selections",
                 "category_limits", "max_selection_cost", "rule", "tie_break", "ballot", "grades", "ungraded",
                 "exclusive")
# one exclusive group of an envelope ([[envelopes.exclusive]]; rule greedy-exclusive only)
EXCLUSIVE_KEYS = ("name", "projects")
EXCLUSIVE_RULE = "greedy-exclusive"
PROJECT_KEYS = ("id", "envelope", "title", "cost", "district", "popular_neighbourhood", "category")
# savings envelopes (kind = "savings"): a target instead of a budget, sector rules; their
# lines may name the amount saved ``saving`` and the ``sector`` (canonical: cost, category)
SAVINGS_ENVELOPE_KEYS = ("id", "name", "kind", "code", "target", "max_selections", "min_selections",
                         "rule", "tie_break", "min_sectors", "max_cuts_per_sector", "max_share_per_sector",
                         "sectors")
SECTOR_KEYS = ("spending", "max_cuts", "max_share")
SAVINGS_LINE_KEYS = ("id", "envelope", "title", "cost", "saving", "category", "sector", "popular_neighbourhood")
QUOTA_KEYS = ("name", "group", "envelopes", "scope", "min_share", "min_amount", "max_share", "max_amount",
              "release_unused")
_ELSEWHERE = {"opens": "[voting] opens", "closes": "[voting] closes", "precedence": "[election] precedence",
              "max_envelopes_per_kind": "[voting] max_envelopes_per_kind",
              "required_kinds": "[voting] required_kinds"}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` (difflib), or ``""``
    (also for a ``word`` that is not a string: a malformed value has no close key)."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(d: Mapping[str, Any], known: Iterable[str], where: str, *, top: bool = False) -> None:
    """Refuse a key of table ``d`` that is not in ``known``, naming it and the closest known key."""
    allowed = tuple(known)
    for key in d:
        if key in allowed:
            continue
        elsewhere = _ELSEWHERE.get(key) if top else None
        hint = f" (did you mean {elsewhere}?)" if elsewhere else did_you_mean(str(key), allowed)
        raise ElectionDefinitionError(f"{where}.{key}" if not top else f"{where}: {key}",
                                      f"unknown key {key!r}{hint}; known keys: {', '.join(allowed)}")


def _parse_instant(value: Any, where: str) -> datetime:
    """An instant of the voting period: a TOML offset datetime or an ISO 8601 string with a timezone."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise ElectionDefinitionError(where, f"must be an ISO 8601 time with a timezone, got {value!r}") from None
    if not isinstance(value, datetime):
        raise ElectionDefinitionError(where, f"must be an ISO 8601 time with a timezone, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ElectionDefinitionError(where, f"needs a timezone (e.g. +02:00 or Z), got {value.isoformat()!r}")
    try:
        year = value.astimezone(UTC).year
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00
        year = 0
    if not 1000 <= year <= 9998:
        raise ElectionDefinitionError(where, f"year out of range in {value.isoformat()!r}")
    return value


def _req(d: Mapping[str, Any], key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise ElectionDefinitionError(where, f"missing required key '{key}'")
    val = d[key]
    if typ is int and isinstance(val, bool):
        raise ElectionDefinitionError(f"{where}.{key}", "must be an integer")
    if not isinstance(val, typ):
        name = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
        raise ElectionDefinitionError(f"{where}.{key}", f"must be {name}, got {val!r}")
    return val


def _opt(d: Mapping[str, Any], key: str, typ: type | tuple[type, ...], where: str, default: Any) -> Any:
    if key not in d or d[key] is None:
        return default
    return _req(d, key, typ, where)


def _known_rules() -> frozenset[str]:
    from engine.rules import ELECTION_RULES

    return ELECTION_RULES


def _known_tie_breaks() -> frozenset[str]:
    from engine.rules import TIE_BREAKS

    return frozenset(TIE_BREAKS)


@contextmanager
def _naming(what: str, d: Mapping[str, Any]) -> Iterator[None]:
    """Add ``(project 'AR11-003')`` to an error's location: ``projects[6]`` alone is hard to find."""
    try:
        yield
    except ElectionDefinitionError as exc:
        ident = d.get("id")
        if not isinstance(ident, str) or not ident:
            raise
        raise ElectionDefinitionError(f"{exc.location} ({what} {ident!r})", exc.message) from None


def _ballot_type(ed: Mapping[str, Any], w: str) -> tuple[str, tuple[str, ...], str | None]:
    """(ballot type, grades best first, the grade of an ungraded project or None) of an envelope.

    ``grades`` and ``ungraded`` belong to ``ballot = "grades"`` only; ``grades`` defaults to
    the four Paris grades, ``ungraded`` to the lowest (an unnamed grade is an error).
    """
    ballot = _opt(ed, "ballot", str, w, "approval")
    if ballot not in BALLOT_TYPES:
        raise ElectionDefinitionError(f"{w}.ballot", f"unknown ballot type {ballot!r}"
                                      f"{did_you_mean(ballot, BALLOT_TYPES)}; one of {', '.join(BALLOT_TYPES)}")
    if ballot != "grades":
        for key in ("grades", "ungraded"):
            if key in ed:
                raise ElectionDefinitionError(f"{w}.{key}", f"only for ballot = \"grades\" (this envelope: {ballot!r})")
        return ballot, (), None
    raw = _opt(ed, "grades", list, w, list(PARIS_GRADES_BEST_FIRST))
    if len(raw) < 2:
        raise ElectionDefinitionError(f"{w}.grades", "needs at least two grades, best first")
    for i, g in enumerate(raw):
        if not isinstance(g, str) or not g.strip():
            raise ElectionDefinitionError(f"{w}.grades[{i}]", f"must be a non-empty string, got {g!r}")
    if len(set(raw)) != len(raw):
        dup = next(g for g in raw if raw.count(g) > 1)
        raise ElectionDefinitionError(f"{w}.grades", f"grade {dup!r} is listed twice")
    ungraded = _opt(ed, "ungraded", str, w, None)
    if ungraded is not None and ungraded not in raw:
        raise ElectionDefinitionError(f"{w}.ungraded", f"{ungraded!r} is not one of the grades"
                                      f"{did_you_mean(ungraded, raw)}; one of {', '.join(map(repr, raw))}")
    return ballot, tuple(raw), ungraded


def _tie_break(ed: Mapping[str, Any], w: str, tie_breaks: frozenset[str]) -> str:
    """The envelope's ``tie_break`` (default ``votes-cost-id``), one of ``tie_breaks``."""
    tie: str = _opt(ed, "tie_break", str, w, "votes-cost-id")
    if tie not in tie_breaks:
        raise ElectionDefinitionError(
            f"{w}.tie_break", f"unknown tie-break {tie!r}{did_you_mean(tie, tie_breaks)}; one of {sorted(tie_breaks)}"
        )
    return tie


def _new_envelope_id(ed: Mapping[str, Any], w: str, seen_env: set[str]) -> str:
    """The envelope's ``id``, refused when an earlier envelope has it; recorded in ``seen_env``."""
    env_id: str = _req(ed, "id", str, w)
    if env_id in seen_env:
        raise ElectionDefinitionError(f"{w}.id", f"duplicate envelope id {env_id!r}")
    seen_env.add(env_id)
    return env_id


def _envelope(ed: Mapping[str, Any], w: str, seen_env: set[str], rules: frozenset[str],
              tie_breaks: frozenset[str]) -> Envelope:
    if ed.get("kind") == "savings":
        return _savings_envelope(ed, w, seen_env, tie_breaks)
    _check_keys(ed, ENVELOPE_KEYS, w)
    env_id = _new_envelope_id(ed, w, seen_env)
    kind = _req(ed, "kind", str, w)
    if kind not in ENVELOPE_KINDS:
        raise ElectionDefinitionError(f"{w}.kind", f"must be one of {ENVELOPE_KINDS}, got {kind!r}")
    budget = _req(ed, "budget", int, w)
    if budget <= 0:
        raise ElectionDefinitionError(f"{w}.budget", "must be positive")
    max_sel = _req(ed, "max_selections", int, w)
    min_sel = _opt(ed, "min_selections", int, w, 1)
    if max_sel < 1 or min_sel < 0 or min_sel > max_sel:
        raise ElectionDefinitionError(w, "need 0 <= min_selections <= max_selections, max >= 1")
    limits = _opt(ed, "category_limits", dict, w, {})
    for cat, lim in limits.items():
        if not isinstance(lim, int) or isinstance(lim, bool) or lim < 0:
            raise ElectionDefinitionError(f"{w}.category_limits.{cat}", "must be an integer >= 0")
    max_cost = _opt(ed, "max_selection_cost", int, w, None)
    ballot, grades, ungraded = _ballot_type(ed, w)
    if ballot != "approval" and (limits or max_cost is not None):
        raise ElectionDefinitionError(
            f"{w}.{'category_limits' if limits else 'max_selection_cost'}",
            f"applies to approval ballots only; this envelope has ballot = {ballot!r}")
    from engine.rules import BALLOT_RULES, DEFAULT_BALLOT_RULE

    rule = _opt(ed, "rule", str, w, DEFAULT_BALLOT_RULE[ballot])
    if ballot != "approval" and rule not in BALLOT_RULES[ballot]:
        raise ElectionDefinitionError(
            f"{w}.rule", f"rule {rule!r} cannot count ballot = {ballot!r}; use one of "
            f"{', '.join(sorted(BALLOT_RULES[ballot]))}")
    if ballot == "approval" and rule in BALLOT_RULES["grades"] | BALLOT_RULES["for-against"]:
        need = "grades" if rule in BALLOT_RULES["grades"] else "for-against"
        raise ElectionDefinitionError(f"{w}.rule", f"rule {rule!r} needs ballot = {need!r} in this envelope "
                                      "(it is an approval envelope: the default)")
    if ballot == "approval" and rule not in rules:
        from engine.rules import CUTS_RULES

        if rule in CUTS_RULES:
            raise ElectionDefinitionError(f"{w}.rule", f"rule {rule!r} allocates savings: it needs an envelope "
                                          "with kind = \"savings\" and a target (docs/election-format.md)")
        raise ElectionDefinitionError(f"{w}.rule", f"unknown rule {rule!r}{did_you_mean(rule, rules)}; "
                                      f"one of {sorted(rules)}")
    exclusive = _exclusive_groups(ed, w, rule)
    tie = _tie_break(ed, w, tie_breaks)
    return Envelope(
        id=EnvelopeId(env_id),
        name=_req(ed, "name", str, w),
        kind=kind,
        budget=budget,
        max_selections=max_sel,
        min_selections=min_sel,
        category_limits=dict(limits),
        max_selection_cost=max_cost,
        district=_opt(ed, "district", str, w, None),
        rule=rule,
        tie_break=tie,
        ballot=ballot,
        grades=grades,
        ungraded=ungraded,
        code=_opt(ed, "code", str, w, env_id.upper()),
        exclusive=exclusive,
    )


def _exclusive_groups(ed: Mapping[str, Any], w: str, rule: str) -> tuple[ExclusiveSpec, ...]:
    """The envelope's ``exclusive`` groups (``[[envelopes.exclusive]]``: ``name``, ``projects``):
    their shape only (names unique, at least two distinct project ids each); that the
    projects exist and belong to this envelope is checked by :func:`_check_exclusive` once
    the projects are read. Groups go with rule ``greedy-exclusive`` and it needs them."""
    raw = _opt(ed, "exclusive", list, w, [])
    if raw and rule != EXCLUSIVE_RULE:
        raise ElectionDefinitionError(f"{w}.exclusive", f"exclusive groups are counted by rule "
                                      f"{EXCLUSIVE_RULE!r} only; this envelope has rule {rule!r} "
                                      f"(set rule = {EXCLUSIVE_RULE!r}, or remove the groups)")
    if rule == EXCLUSIVE_RULE and not raw:
        raise ElectionDefinitionError(f"{w}.rule", f"rule {EXCLUSIVE_RULE!r} needs the envelope's exclusive "
                                      "groups: add [[envelopes.exclusive]] tables with name and projects "
                                      "(docs/election-format.md)")
    groups: list[ExclusiveSpec] = []
    for i, gd in enumerate(raw):
        wg = f"{w}.exclusive[{i}]"
        if not isinstance(gd, Mapping):
            raise ElectionDefinitionError(wg, "must be a table {name, projects}")
        _check_keys(gd, EXCLUSIVE_KEYS, wg)
        name = _req(gd, "name", str, wg).strip()
        if not name:
            raise ElectionDefinitionError(f"{wg}.name", "must not be empty")
        if any(g.name == name for g in groups):
            raise ElectionDefinitionError(f"{wg}.name", f"duplicate exclusive group name {name!r}")
        members = _req(gd, "projects", list, wg)
        for j, pid in enumerate(members):
            if not isinstance(pid, str) or not pid:
                raise ElectionDefinitionError(f"{wg}.projects[{j}]", f"must be a project id, got {pid!r}")
        if len(set(members)) != len(members):
            dup = next(p for p in members if members.count(p) > 1)
            raise ElectionDefinitionError(f"{wg}.projects", f"project {dup!r} is listed twice")
        if len(members) < 2:
            raise ElectionDefinitionError(f"{wg}.projects", f"an exclusive group needs at least two projects, "
                                          f"got {len(members)}")
        groups.append(ExclusiveSpec(name, tuple(ProjectId(p) for p in members)))
    return tuple(groups)


def _project(pd: Mapping[str, Any], w: str, seen_proj: set[str], envelopes: Mapping[str, Envelope]) -> Project:
    env_ref = pd.get("envelope")
    home = envelopes.get(env_ref) if isinstance(env_ref, str) else None
    if home is not None and home.savings is not None:
        return _savings_line(pd, w, seen_proj, home)
    _check_keys(pd, PROJECT_KEYS, w)
    pid = _req(pd, "id", str, w)
    if not pid or pid in seen_proj:
        raise ElectionDefinitionError(f"{w}.id", f"empty or duplicate project id {pid!r}")
    seen_proj.add(pid)
    env_id = _req(pd, "envelope", str, w)
    env = envelopes.get(env_id)
    if env is None:
        raise ElectionDefinitionError(f"{w}.envelope", f"unknown envelope {env_id!r}{did_you_mean(env_id, envelopes)}")
    cost = _req(pd, "cost", int, w)
    if cost <= 0:
        raise ElectionDefinitionError(f"{w}.cost", "must be positive")
    district = _opt(pd, "district", str, w, None)
    if district is not None and env.district is not None and district != env.district:
        raise ElectionDefinitionError(
            f"{w}.district", f"district {district!r} is not the district of its envelope {env_id!r} "
            f"({env.district!r})")
    return Project(
        id=ProjectId(pid),
        envelope=EnvelopeId(env_id),
        title=_req(pd, "title", str, w),
        cost=cost,
        district=district,
        popular_neighbourhood=_opt(pd, "popular_neighbourhood", bool, w, False),
        category=_opt(pd, "category", str, w, None),
    )


def _check_category_limits(envelopes: list[Envelope], projects: list[Project], source: str) -> None:
    """A limit on a category no project of its envelope has, close to one that exists, is a typo."""
    for i, env in enumerate(envelopes):
        cats = {p.category for p in projects if p.envelope == env.id and p.category is not None}
        for cat in env.category_limits:
            hint = did_you_mean(cat, cats) if cat not in cats else ""
            if hint:
                raise ElectionDefinitionError(
                    f"{source}: envelopes[{i}].category_limits.{cat} (envelope {env.id!r})",
                    f"no project of this envelope has category {cat!r}{hint}")


def _check_exclusive(envelopes: list[Envelope], projects: list[Project], source: str) -> None:
    """Every project of an exclusive group exists and belongs to the group's envelope (a group
    cannot span envelopes: each envelope is counted on its own)."""
    home = {p.id: p.envelope for p in projects}
    for i, env in enumerate(envelopes):
        for k, g in enumerate(env.exclusive):
            w = f"{source}: envelopes[{i}].exclusive[{k}].projects (envelope {env.id!r}, group {g.name!r})"
            for pid in g.projects:
                where = home.get(pid)
                if where is None:
                    mine = [p.id for p in projects if p.envelope == env.id]
                    raise ElectionDefinitionError(w, f"unknown project {pid!r}{did_you_mean(pid, mine)}")
                if where != env.id:
                    raise ElectionDefinitionError(w, f"project {pid!r} belongs to envelope {where!r}: an "
                                                  "exclusive group stays within its envelope")


def election_from_dict(doc: Mapping[str, Any], source: str = "election") -> Election:
    """Build and validate an :class:`Election` from a parsed document."""
    if not isinstance(doc, Mapping):
        raise ElectionDefinitionError(source, "top level must be a table/object")
    _check_keys(doc, TOP_LEVEL_KEYS + METADATA_KEYS, source, top=True)
    head = _req(doc, "election", dict, source)
    where = f"{source}: election"
    _check_keys(head, ELECTION_KEYS, where)
    eid = _req(head, "id", str, where).strip()
    if not eid:
        raise ElectionDefinitionError(f"{where}.id", "must not be empty")
    name = _req(head, "name", str, where)
    currency = _opt(head, "currency", str, where, "EUR")
    precedence = _opt(head, "precedence", str, where, DEFAULT_PRECEDENCE)
    if precedence not in PRECEDENCE_RULES:
        raise ElectionDefinitionError(
            f"{where}.precedence",
            f"unknown rule {precedence!r}{did_you_mean(precedence, PRECEDENCE_RULES)}; "
            f"one of {', '.join(PRECEDENCE_RULES)}"
        )
    rules, tie_breaks = _known_rules(), _known_tie_breaks()

    envelopes: list[Envelope] = []
    seen_env: set[str] = set()
    env_docs = _req(doc, "envelopes", list, source)
    if not env_docs:
        raise ElectionDefinitionError(f"{source}: envelopes", "at least one envelope is needed")
    for i, ed in enumerate(env_docs):
        w = f"{source}: envelopes[{i}]"
        if not isinstance(ed, Mapping):
            raise ElectionDefinitionError(w, "must be a table")
        with _naming("envelope", ed):
            envelopes.append(_envelope(ed, w, seen_env, rules, tie_breaks))
    codes = [e.code for e in envelopes]
    if len(set(codes)) != len(codes):
        raise ElectionDefinitionError(f"{source}: envelopes", "envelope codes must be unique")
    env_by_id: dict[str, Envelope] = {e.id: e for e in envelopes}

    projects: list[Project] = []
    seen_proj: set[str] = set()
    for i, pd in enumerate(_req(doc, "projects", list, source)):
        w = f"{source}: projects[{i}]"
        if not isinstance(pd, Mapping):
            raise ElectionDefinitionError(w, "must be a table")
        with _naming("project", pd):
            projects.append(_project(pd, w, seen_proj, env_by_id))
    _check_category_limits(envelopes, projects, source)
    _check_exclusive(envelopes, projects, source)
    envelopes = _finish_savings(envelopes, projects, source)

    vd = _opt(doc, "voting", dict, source, {})
    w = f"{source}: voting"
    _check_keys(vd, VOTING_KEYS, w)
    per_kind = _opt(vd, "max_envelopes_per_kind", dict, w, {"citywide": 1, "district": 1})
    for k, v in per_kind.items():
        if k not in ENVELOPE_KINDS:
            raise ElectionDefinitionError(f"{w}.max_envelopes_per_kind.{k}",
                                          f"unknown kind {k!r}{did_you_mean(k, ENVELOPE_KINDS)}")
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ElectionDefinitionError(f"{w}.max_envelopes_per_kind.{k}", "must be an integer >= 0")
    if any(e.savings is not None for e in envelopes) and "savings" not in per_kind:
        per_kind = {**per_kind, "savings": 1}  # one savings envelope per ballot unless declared
    required = tuple(_opt(vd, "required_kinds", list, w, []))
    for k in required:
        if k not in ENVELOPE_KINDS:
            raise ElectionDefinitionError(f"{w}.required_kinds", f"unknown kind {k!r}{did_you_mean(k, ENVELOPE_KINDS)}")
    opens = closes = None
    if vd.get("opens") is not None or vd.get("closes") is not None:
        if vd.get("opens") is None or vd.get("closes") is None:
            raise ElectionDefinitionError(w, "a voting period needs both 'opens' and 'closes'")
        t_open = _parse_instant(vd["opens"], f"{w}.opens")
        t_close = _parse_instant(vd["closes"], f"{w}.closes")
        if not t_open < t_close:
            raise ElectionDefinitionError(f"{w}.opens", f"must be before closes ({t_close.isoformat()})")
        opens, closes = t_open.isoformat(), t_close.isoformat()
    quotas = _quotas_from_doc(doc, source, envelopes)
    extra = {k: v for k, v in doc.items() if k not in TOP_LEVEL_KEYS}
    return Election(
        id=eid,
        name=name,
        currency=currency,
        envelopes=tuple(envelopes),
        projects=tuple(projects),
        voting=VotingPolicy(dict(per_kind), required, opens, closes),
        precedence=precedence,
        extra=extra,
        quotas=quotas,
    )


def _savings_envelope(ed: Mapping[str, Any], w: str, seen_env: set[str], tie_breaks: frozenset[str]) -> Envelope:
    """A ``kind = "savings"`` envelope: ``target`` (the amount to save, > 0) instead of a
    budget; ``rule`` one of the cuts rules (default ``cuts-greedy``); per-sector limits and
    ``min_sectors``. ``max_selections`` defaults to every line (set by :func:`_finish_savings`)."""
    from engine.rules import CUTS_RULES

    if "budget" in ed:
        raise ElectionDefinitionError(f"{w}.budget", "a savings envelope has a 'target' (the amount to save), "
                                      "not a budget")
    _check_keys(ed, SAVINGS_ENVELOPE_KEYS, w)
    env_id = _new_envelope_id(ed, w, seen_env)
    target = _req(ed, "target", int, w)
    if target <= 0:
        raise ElectionDefinitionError(f"{w}.target", "must be positive")
    max_sel = _opt(ed, "max_selections", int, w, 0)  # 0: every line, filled in by _finish_savings
    min_sel = _opt(ed, "min_selections", int, w, 1)
    if max_sel < 0 or min_sel < 0 or (max_sel and min_sel > max_sel):
        raise ElectionDefinitionError(w, "need 0 <= min_selections <= max_selections")
    rule = _opt(ed, "rule", str, w, "cuts-greedy")
    if rule not in CUTS_RULES:
        raise ElectionDefinitionError(f"{w}.rule", f"a savings envelope uses a cuts rule, one of {sorted(CUTS_RULES)}; "
                                      f"got {rule!r}{did_you_mean(rule, CUTS_RULES)}")
    tie = _tie_break(ed, w, tie_breaks)
    min_sectors = _opt(ed, "min_sectors", int, w, 0)
    max_cuts = _opt(ed, "max_cuts_per_sector", int, w, None)
    if min_sectors < 0:
        raise ElectionDefinitionError(f"{w}.min_sectors", "must be >= 0")
    if max_cuts is not None and max_cuts < 0:
        raise ElectionDefinitionError(f"{w}.max_cuts_per_sector", "must be >= 0")
    share = _share(ed["max_share_per_sector"], f"{w}.max_share_per_sector") if "max_share_per_sector" in ed else None
    sectors: list[SectorSpec] = []
    for name, sd in _opt(ed, "sectors", dict, w, {}).items():
        ws = f"{w}.sectors.{name}"
        if not isinstance(sd, Mapping):
            raise ElectionDefinitionError(ws, "must be a table {spending, max_cuts, max_share}")
        _check_keys(sd, SECTOR_KEYS, ws)
        spending = _opt(sd, "spending", int, ws, None)
        cuts = _opt(sd, "max_cuts", int, ws, None)
        if (spending is not None and spending <= 0) or (cuts is not None and cuts < 0):
            raise ElectionDefinitionError(ws, "spending must be positive and max_cuts >= 0")
        sectors.append(SectorSpec(str(name), spending, cuts,
                                  _share(sd["max_share"], f"{ws}.max_share") if "max_share" in sd else None))
    return Envelope(
        id=EnvelopeId(env_id), name=_req(ed, "name", str, w), kind="savings", budget=target, max_selections=max_sel,
        min_selections=min_sel, rule=rule, tie_break=tie, code=_opt(ed, "code", str, w, env_id.upper()),
        savings=SavingsSpec(min_sectors, max_cuts, share, tuple(sorted(sectors, key=lambda s: s.name))),
    )


def _savings_line(pd: Mapping[str, Any], w: str, seen_proj: set[str], env: Envelope) -> Project:
    """A spending line of a savings envelope: ``saving`` (or ``cost``), the amount saved if
    it is cut, and its ``sector`` (or ``category``), both required."""
    _check_keys(pd, SAVINGS_LINE_KEYS, w)
    pid = _req(pd, "id", str, w)
    if not pid or pid in seen_proj:
        raise ElectionDefinitionError(f"{w}.id", f"empty or duplicate line id {pid!r}")
    seen_proj.add(pid)
    for a, b in (("saving", "cost"), ("sector", "category")):
        if a in pd and b in pd:
            raise ElectionDefinitionError(w, f"give {a!r} or {b!r}, not both")
    amount_key = "saving" if "saving" in pd else "cost"
    amount = _req(pd, amount_key, int, w)
    if amount <= 0:
        raise ElectionDefinitionError(f"{w}.{amount_key}", "must be positive (the amount saved if the line is cut)")
    if _opt(pd, "popular_neighbourhood", bool, w, False):
        raise ElectionDefinitionError(f"{w}.popular_neighbourhood", "a spending line takes no quota flag")
    sector = _req(pd, "sector" if "sector" in pd or "category" not in pd else "category", str, w)
    if not sector.strip():
        raise ElectionDefinitionError(f"{w}.sector", "must not be empty")
    return Project(id=pid, envelope=env.id, title=_req(pd, "title", str, w), cost=amount, category=sector)


def _finish_savings(envelopes: list[Envelope], projects: list[Project], source: str) -> list[Envelope]:
    """Savings envelopes once their lines are known: ``max_selections`` defaults to every
    line; declared sectors must have lines; ``min_sectors`` must be reachable."""
    out = []
    for i, env in enumerate(envelopes):
        if env.savings is None:
            out.append(env)
            continue
        w = f"{source}: envelopes[{i}] (envelope {env.id!r})"
        lines = [p for p in projects if p.envelope == env.id]
        if not lines:
            raise ElectionDefinitionError(w, "a savings envelope needs at least one spending line")
        names = {p.category for p in lines if p.category is not None}
        for s in env.savings.sectors:
            if s.name not in names:
                raise ElectionDefinitionError(f"{w}.sectors.{s.name}", f"no line has sector {s.name!r}"
                                              f"{did_you_mean(s.name, names)}")
        if env.savings.min_sectors > len(names):
            raise ElectionDefinitionError(f"{w}.min_sectors", f"{env.savings.min_sectors} sectors required on a "
                                          f"ballot, but the lines have only {len(names)}")
        if env.max_selections == 0:
            env = replace(env, max_selections=len(lines))
        if env.min_selections > env.max_selections:
            raise ElectionDefinitionError(w, "need min_selections <= max_selections")
        out.append(env)
    return out


def _share(value: Any, where: str) -> Fraction:
    """A share of a budget: a number in [0, 1] or a fraction string like "1/3"."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError
        share = Fraction(value) if not isinstance(value, float) else Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise ElectionDefinitionError(where, f"must be a number or a fraction like \"1/3\", got {value!r}") from None
    if not 0 <= share <= 1:
        raise ElectionDefinitionError(where, f"must be between 0 and 1, got {value!r}")
    return share


def _quotas_from_doc(doc: Mapping[str, Any], source: str, envelopes: list[Envelope]) -> tuple[QuotaSpec, ...]:
    from engine.rules import QUOTA_RULES

    out: list[QuotaSpec] = []
    names: set[str] = set()
    by_id = {e.id: e for e in envelopes}
    for i, qd in enumerate(_opt(doc, "quotas", list, source, [])):
        w = f"{source}: quotas[{i}]"
        if not isinstance(qd, Mapping):
            raise ElectionDefinitionError(w, "must be a table")
        _check_keys(qd, QUOTA_KEYS, w)
        name = _req(qd, "name", str, w)
        if name in names:
            raise ElectionDefinitionError(f"{w}.name", f"duplicate quota name {name!r}")
        names.add(name)
        group = _req(qd, "group", dict, w)
        if len(group) != 1 or next(iter(group)) not in QUOTA_GROUP_KEYS:
            hint = did_you_mean(str(next(iter(group))), QUOTA_GROUP_KEYS) if len(group) == 1 else ""
            raise ElectionDefinitionError(
                f"{w}.group", f"must name exactly one of {', '.join(QUOTA_GROUP_KEYS)}, got {dict(group)!r}{hint}"
            )
        gkey, gval = next(iter(group.items()))
        if gkey == "popular_neighbourhood" and not isinstance(gval, bool):
            raise ElectionDefinitionError(f"{w}.group.{gkey}", "must be true or false")
        if gkey != "popular_neighbourhood" and not isinstance(gval, str):
            raise ElectionDefinitionError(f"{w}.group.{gkey}", "must be a string")
        envs = tuple(_opt(qd, "envelopes", list, w, []))
        for env_id in envs:
            if env_id not in by_id:
                raise ElectionDefinitionError(f"{w}.envelopes", f"unknown envelope {env_id!r}")
        if not envs and any(e.savings is not None for e in envelopes):
            # "every envelope" means every spending envelope: a savings envelope has no budget to
            # reserve from; named explicitly, so the canonical form and the verifier see the same
            envs = tuple(e.id for e in envelopes if e.savings is None)
        scope = _opt(qd, "scope", str, w, "envelope")
        if scope not in QUOTA_SCOPES:
            raise ElectionDefinitionError(f"{w}.scope", f"must be one of {', '.join(QUOTA_SCOPES)}, got {scope!r}")
        min_share = _share(qd["min_share"], f"{w}.min_share") if "min_share" in qd else None
        max_share = _share(qd["max_share"], f"{w}.max_share") if "max_share" in qd else None
        min_amount = _opt(qd, "min_amount", int, w, None)
        max_amount = _opt(qd, "max_amount", int, w, None)
        if min_share is not None and min_amount is not None:
            raise ElectionDefinitionError(w, "give min_share or min_amount, not both")
        if max_share is not None and max_amount is not None:
            raise ElectionDefinitionError(w, "give max_share or max_amount, not both")
        if all(x is None for x in (min_share, min_amount, max_share, max_amount)):
            raise ElectionDefinitionError(w, "needs min_share, min_amount, max_share or max_amount")
        if (min_amount is not None or max_amount is not None) and len(envs) != 1 and scope != "election":
            raise ElectionDefinitionError(w, "min_amount/max_amount need exactly one envelope in 'envelopes'")
        for amount, key in ((min_amount, "min_amount"), (max_amount, "max_amount")):
            if amount is not None and amount < 0:
                raise ElectionDefinitionError(f"{w}.{key}", "must be >= 0")
        if scope == "election" and (max_share is not None or max_amount is not None):
            raise ElectionDefinitionError(w, "an election-wide quota takes a minimum only (min_share or min_amount)")
        if scope == "election" and min_share is None and min_amount is None:
            raise ElectionDefinitionError(w, "an election-wide quota needs min_share or min_amount")
        q = QuotaSpec(name, gkey, gval, envs, min_share, min_amount, max_share, max_amount,
                      _opt(qd, "release_unused", bool, w, True), scope)
        for env in envelopes:
            if not q.applies_to(env.id):
                continue
            lo, hi = q.amounts(env.budget)
            if hi is not None and hi < lo:
                raise ElectionDefinitionError(w, f"maximum {hi} is below the minimum {lo} in envelope {env.id!r}")
            if env.rule not in QUOTA_RULES:
                raise ElectionDefinitionError(
                    w, f"envelope {env.id!r} uses rule {env.rule!r}, which does not support quotas "
                    f"(use one of {', '.join(sorted(QUOTA_RULES))})"
                )
        out.append(q)
    return tuple(out)


def load_election(path: str | Path) -> Election:
    """Load a ``.toml`` or ``.json`` election definition, raising ElectionDefinitionError."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ElectionDefinitionError(str(p), f"cannot read file: {exc.strerror}") from exc
    try:
        doc = json.loads(raw) if p.suffix.lower() == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ElectionDefinitionError(str(p), f"syntax error: {exc}") from exc
    except RecursionError as exc:  # "[[[[…" deeper than the decoder's recursion limit
        raise ElectionDefinitionError(str(p), "syntax error: nested too deeply") from exc
    return election_from_dict(doc, p.name)

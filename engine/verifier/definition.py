"""``election.json``: the frozen definition, and the validity of one published ballot under it.

A deliberate independent copy of what ``engine/formats/election_definition.py`` (reading the definition)
and ``engine/model/ballots.py`` (``validate_submission``) decide, from the published JSON.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import fail
from .jsonio import canonical, read_json


@dataclass(frozen=True)
class Env:
    """An envelope as ``election.json`` publishes it (what ballot validity and the rules need)."""

    id: str
    name: str
    kind: str
    budget: int
    max_selections: int
    min_selections: int
    category_limits: Mapping[str, int]
    max_selection_cost: int | None
    rule: str
    tie_break: str
    ballot: str = "approval"  # approval | grades | for-against
    grades: tuple[str, ...] = ()  # best first, as published
    ungraded: str | None = None  # the grade of an ungraded project (None: the lowest)
    # a savings envelope (kind "savings"): its canonical savings keys (min_sectors,
    # max_cuts_per_sector, max_share_per_sector, sectors); budget is its target
    savings: Mapping[str, Any] | None = None
    # exclusive groups (rule greedy-exclusive): (group name, member project ids), as published
    exclusive: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def grade_names(self) -> tuple[str, ...]:
        """The grades lowest first (a ballot log item ``P=2`` is grade ``grade_names[2]``)."""
        return tuple(reversed(self.grades))

    @property
    def default_grade(self) -> int:
        """Index (lowest first) counted for a project a ballot does not grade."""
        return self.grade_names.index(self.ungraded) if self.ungraded is not None else 0


SAVINGS_KEYS = ("min_sectors", "max_cuts_per_sector", "max_share_per_sector", "sectors")


def _env(e: Mapping[str, Any]) -> Env:
    savings = {k: e[k] for k in SAVINGS_KEYS if k in e} if e["kind"] == "savings" else None
    return Env(e["id"], e["name"], e["kind"], int(e["target"] if savings is not None else e["budget"]),
               int(e["max_selections"]), int(e.get("min_selections", 1)), dict(e.get("category_limits", {})),
               e.get("max_selection_cost"), e.get("rule", "greedy"), e.get("tie_break", "votes-cost-id"),
               str(e.get("ballot", "approval")), tuple(e.get("grades", ())), e.get("ungraded"), savings,
               tuple((str(g["name"]), tuple(g["projects"])) for g in e.get("exclusive", ())))


@dataclass(frozen=True)
class Proj:
    """A project as ``election.json`` publishes it."""

    id: str
    envelope: str
    title: str
    cost: int
    district: str | None
    category: str | None
    popular_neighbourhood: bool


@dataclass(frozen=True)
class QuotaDef:
    """A declared quota (engine.model.election.QuotaSpec): money reserved/capped for a group."""

    name: str
    group_key: str  # popular_neighbourhood | category | district
    group_value: Any
    envelopes: tuple[str, ...]
    min_share: Fraction | None
    min_amount: int | None
    max_share: Fraction | None
    max_amount: int | None
    release_unused: bool
    scope: str = "envelope"  # or "election": one requirement over all its envelopes

    def applies_to(self, env_id: str) -> bool:
        """Whether the quota is applied in ``env_id`` (all envelopes when none is named)."""
        return not self.envelopes or env_id in self.envelopes

    def amounts(self, budget: int) -> tuple[int, int | None]:
        """(reserved minimum, maximum or None) for an envelope with this budget."""
        lo = self.min_amount if self.min_amount is not None else (
            math.ceil(self.min_share * budget) if self.min_share is not None else 0)
        hi = self.max_amount if self.max_amount is not None else (
            math.floor(self.max_share * budget) if self.max_share is not None else None)
        return lo, hi

    def matches(self, p: Proj) -> bool:
        """Whether project ``p`` is in the quota's group."""
        if self.group_key == "popular_neighbourhood":
            return p.popular_neighbourhood is self.group_value
        return getattr(p, self.group_key) == self.group_value


@dataclass
class Definition:
    """The published election definition as the verifier reads it: envelopes, projects (by id
    and by envelope), the per-kind and required-kind voting limits, and the quotas.
    """

    id: str
    name: str
    envelopes: list[Env]
    projects: dict[str, Proj]
    per_kind: Mapping[str, int]
    required_kinds: tuple[str, ...]
    by_env: dict[str, list[Proj]] = field(default_factory=dict)
    quotas: list[QuotaDef] = field(default_factory=list)
    currency: str = ""


def _fraction(value: Any) -> Fraction | None:
    if value is None:
        return None
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def parse_quota(q: Mapping[str, Any]) -> QuotaDef:
    """A :class:`QuotaDef` from one quota of the definition; ValueError for an unknown group key."""
    (key, value), = q["group"].items()
    if key not in ("popular_neighbourhood", "category", "district"):
        raise ValueError(f"quota {q['name']!r}: unknown group key {key!r}")
    return QuotaDef(q["name"], key, value, tuple(q.get("envelopes", ())), _fraction(q.get("min_share")),
                    q.get("min_amount"), _fraction(q.get("max_share")), q.get("max_amount"),
                    bool(q.get("release_unused", True)), str(q.get("scope", "envelope")))


def _check_exclusive(env: Env, projects: list[Proj]) -> None:
    """An envelope's exclusive groups as the definition reader allows them: with rule
    ``greedy-exclusive`` only (which needs them), uniquely named, of at least two of the
    envelope's own projects; ValueError otherwise."""
    if bool(env.exclusive) != (env.rule == "greedy-exclusive"):
        raise ValueError(f"envelope {env.id!r}: exclusive groups go with rule 'greedy-exclusive' only, "
                         f"and it needs them (rule {env.rule!r}, {len(env.exclusive)} groups)")
    mine = {p.id for p in projects}
    names = [name for name, _members in env.exclusive]
    if len(set(names)) != len(names):
        raise ValueError(f"envelope {env.id!r}: an exclusive group name is used twice")
    for name, members in env.exclusive:
        if len(set(members)) != len(members) or len(members) < 2 or not set(members) <= mine:
            raise ValueError(f"envelope {env.id!r}: exclusive group {name!r} needs two or more distinct "
                             f"projects of the envelope, got {list(members)}")


def parse_definition(doc: Mapping[str, Any]) -> Definition:
    """A :class:`Definition` from the ``definition`` object of ``election.json``."""
    envs = [_env(e) for e in doc["envelopes"]]
    projects: dict[str, Proj] = {}
    by_env: dict[str, list[Proj]] = {e.id: [] for e in envs}
    for p in doc["projects"]:
        pr = Proj(p["id"], p["envelope"], p["title"], int(p["cost"]), p.get("district"),
                  p.get("category"), bool(p.get("popular_neighbourhood", False)))
        if pr.id in projects or pr.envelope not in by_env:
            raise ValueError(f"project {pr.id!r}: duplicate or unknown envelope")
        projects[pr.id] = pr
        by_env[pr.envelope].append(pr)
    for env in envs:
        _check_exclusive(env, by_env[env.id])
    voting = doc.get("voting", {})
    return Definition(
        doc["election"]["id"], doc["election"]["name"], envs, projects,
        dict(voting.get("max_envelopes_per_kind", {"citywide": 1, "district": 1})),
        tuple(voting.get("required_kinds", [])), by_env, [parse_quota(q) for q in doc.get("quotas", [])],
        str(doc["election"].get("currency", "")),
    )


class BallotRules:
    """Validity of a published ballot under the rules (mirrors engine.model.ballots.validate_submission).

    Each envelope's selection is checked once per distinct selection (memoised): ballots
    repeat the same few choices, and this is the verifier's inner loop.
    """

    def __init__(self, d: Definition) -> None:
        self.d = d
        self.env_by_id = {e.id: e for e in d.envelopes}
        self._memo: dict[tuple[str, tuple[str, ...]], str | None] = {}
        self._combos: dict[tuple[tuple[str, ...], bool], str | None] = {}

    def problem(self, selections: Any, paper: bool = False) -> str | None:
        """Why a ballot's selections are not valid, or None. A ``paper`` line is one sheet
        of a voter's paper ballot: required kinds are not checked on it (the bundle does
        not link sheets to voters; the count checks a voter's sheets together)."""
        if not isinstance(selections, dict) or not selections:
            return "selections must be a non-empty object {envelope: [project ids]}"
        combo = tuple(selections)
        if (combo, paper) not in self._combos:
            self._combos[(combo, paper)] = self._combination_problem(combo, paper)
        if self._combos[(combo, paper)]:
            return self._combos[(combo, paper)]
        memo = self._memo
        for env_id, chosen in selections.items():
            try:
                key = (env_id, tuple(chosen))
                known = key in memo
            except TypeError:
                return f"envelope {env_id!r}: selection must be a list of project ids"
            if not known:
                if not isinstance(chosen, list) or not all(isinstance(p, str) for p in chosen):
                    return f"envelope {env_id!r}: selection must be a list of project ids"
                memo[key] = self._envelope_problem(self.env_by_id[env_id], chosen)
            if memo[key]:
                return memo[key]
        return None

    def _combination_problem(self, env_ids: tuple[str, ...], paper: bool = False) -> str | None:
        kinds: dict[str, int] = {}
        for env_id in env_ids:
            env = self.env_by_id.get(env_id)
            if env is None:
                return f"unknown envelope {env_id!r}"
            kinds[env.kind] = kinds.get(env.kind, 0) + 1
        per_kind = self.d.per_kind
        for kind, n in kinds.items():
            if n > per_kind.get(kind, 0):
                return f"{n} envelopes of kind {kind!r}; at most {per_kind.get(kind, 0)} allowed"
        for kind in () if paper else self.d.required_kinds:
            if kind not in kinds:
                return f"a {kind!r} envelope is required"
        return None

    @staticmethod
    def _opinions_problem(env: Env, items: list[str]) -> str | None:
        """Why a grade / for-against selection's ``project=opinion`` items are not valid, or None."""
        n = len(env.grades)
        for item in items:
            pid, sep, opinion = item.rpartition("=")
            if not sep or not pid:
                return f"envelope {env.id!r}: item {item!r} is not 'project=opinion' ({env.ballot} ballots)"
            ok = (opinion.isdigit() and str(int(opinion)) == opinion and int(opinion) < n if env.ballot == "grades"
                  else opinion in ("for", "against"))
            if not ok:
                return (f"envelope {env.id!r}: opinion {opinion!r} of project {pid!r} is not valid "
                        f"on {env.ballot} ballots")
        return None

    def _envelope_problem(self, env: Env, chosen: list[str]) -> str | None:
        if not chosen:
            return f"envelope {env.id!r}: empty selection"
        if chosen != sorted(chosen):
            return f"envelope {env.id!r}: project ids are not sorted"
        if env.ballot != "approval":
            problem = self._opinions_problem(env, chosen)
            if problem:
                return problem
            chosen = [item.rpartition("=")[0] for item in chosen]
        cats: dict[str, int] = {}
        cost = 0
        for pid in chosen:
            p = self.d.projects.get(pid)
            if p is None:
                return f"unknown project {pid!r}"
            if p.envelope != env.id:
                return f"project {pid!r} belongs to envelope {p.envelope!r}, not {env.id!r}"
            if p.category is not None:
                cats[p.category] = cats.get(p.category, 0) + 1
            cost += p.cost
        if len(set(chosen)) != len(chosen):
            return f"envelope {env.id!r}: a project is selected twice"
        if len(chosen) < env.min_selections:
            return f"envelope {env.id!r}: {len(chosen)} projects, at least {env.min_selections} required"
        if len(chosen) > env.max_selections:
            return f"envelope {env.id!r}: {len(chosen)} projects, at most {env.max_selections} allowed"
        for cat, lim in env.category_limits.items():
            if cats.get(cat, 0) > lim:
                return f"envelope {env.id!r}: {cats[cat]} projects of category {cat!r}, at most {lim}"
        if env.max_selection_cost is not None and cost > env.max_selection_cost:
            return f"envelope {env.id!r}: selection costs {cost}, more than {env.max_selection_cost}"
        if env.savings is not None and len(cats) < int(env.savings.get("min_sectors", 0)):
            return (f"envelope {env.id!r}: cuts in {len(cats)} sector(s), at least "
                    f"{env.savings['min_sectors']} sectors required")
        return None


def check_election(directory: Path, signed: Mapping[str, Any]) -> Definition:
    """Read ``election.json``: its definition must hash to its ``definition_hash``, which must
    be the one signed in the manifest, for the same election id. Returns the definition.
    """
    doc = read_json(directory, "election.json")
    if not isinstance(doc, dict) or "definition" not in doc:
        raise fail("election.json", "format", "needs 'definition' and 'definition_hash'")
    h = hashlib.sha256(canonical(doc["definition"]).encode()).hexdigest()
    if h != doc.get("definition_hash"):
        raise fail("election.json", "definition_hash",
                   f"the definition hashes to {h}, not the declared {doc.get('definition_hash')}")
    if h != signed.get("definition_hash"):
        raise fail("election.json", "definition_hash", "differs from the definition_hash signed in manifest.json")
    try:
        d = parse_definition(doc["definition"])
    except (KeyError, TypeError, ValueError) as exc:
        raise fail("election.json", "definition_format", f"cannot read the definition: {exc!r}") from exc
    if d.id != signed.get("election_id"):
        raise fail("election.json", "election_id", "differs from the election_id in manifest.json")
    return d

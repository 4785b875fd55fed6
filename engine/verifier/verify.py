"""Independent verifier of a pbcount results bundle (format ``pbcount-bundle-v1``).

Run it alone::

    python -m engine.verifier.verify BUNDLE_DIR [--key results.pub] [--previous OLD_BUNDLE_DIR]

It prints ``VERIFIED`` and exits 0, or prints ``FAILED: <file>:<line>: <check>: <detail>``
for the first failing check and exits 1 (2 for a usage error). This file needs only the
Python standard library and ``cryptography`` (for Ed25519), so a journalist can read it top
to bottom (about 1,100 lines) and run it on any machine. The only other pbcount file it uses
is optional: ``engine/verifier/rules_reference.py`` (standard library only), which recomputes
envelopes allocated with the Method of Equal Shares; copy it next to this file to verify
those (without it they fail as ``rule_unsupported``). The format is in ``docs/bundle.md``.

Checks, in order (the first failure stops):

1. ``manifest.json`` — parses; its Ed25519 signature over the canonical JSON of ``signed``
   verifies with the public key it names; ``results.pub`` is that key; with ``--key`` the
   key must also equal the separately published one (otherwise anyone could re-sign a
   forged bundle with their own key — always pass ``--key`` for a real audit).
2. Every file listed in the manifest exists and has the listed SHA-256; every required
   file is listed.
3. ``election.json`` — the SHA-256 of the canonical definition is the declared
   ``definition_hash``, also the one in the manifest.
4. ``ballots.jsonl`` — each line is canonical JSON; ``count`` lines are valid ballots under
   the published rules (known envelopes, allowed envelope combination, known projects of
   that envelope, no repeat, min/max selections, category limits, cost cap), receipts
   well-formed and never counted twice; ``withdraw`` lines name a counted receipt; each
   publication's segment is in the published order (withdrawals then counts, each by
   receipt id).
5. ``merkle.json`` — the RFC 6962 root over the lines is the published head (also signed in
   the manifest); every earlier head in ``history`` is the root of a prefix; the RFC 6962
   consistency proof from the previous head verifies. With ``--previous`` the earlier
   bundle's signed head must appear in this history (nobody rewrote earlier ballots).
6. ``tally.json`` — recomputed from the counted ballots.
7. ``allocation.json`` — recomputed per envelope from the tally with the published rule
   and tie-break (see :data:`RULES`).
8. ``projects.csv`` and ``envelopes.csv`` — every cell agrees with the election, the tally
   and the allocation (superseded counts come from ``tally.json``: superseded ballots are
   not published, so those figures are declared, not recomputed).
9. ``rejected.jsonl`` sums to the declared total; ``adjudication.jsonl`` is well-formed.
10. ``audit.jsonl`` — the hash chain is intact and ends with this publication's ``publish``
    entry naming this tree head.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import hashlib
import io
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "pbcount-bundle-v1"
REQUIRED_FILES = (
    "election.json", "ballots.jsonl", "rejected.jsonl", "adjudication.jsonl", "audit.jsonl",
    "tally.json", "allocation.json", "projects.csv", "envelopes.csv", "merkle.json", "results.pub",
)
RECEIPT_RE = re.compile(r"[RP][0-9A-HJKMNP-TV-Z]{15}")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
GENESIS = "0" * 64


class VerificationFailure(Exception):
    """The first check that failed: which file, which line (1-based, 0 = whole file), what."""

    def __init__(self, file: str, line: int, check: str, detail: str) -> None:
        super().__init__(f"{file}:{line}: {check}: {detail}" if line else f"{file}: {check}: {detail}")
        self.file, self.line, self.check, self.detail = file, line, check, detail


def fail(file: str, check: str, detail: str, line: int = 0) -> VerificationFailure:
    return VerificationFailure(file, line, check, detail)


canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


# =========================================================================== RFC 6962
# An independent copy of the verification side of engine/model/merkle.py (RFC 9162 §2.1).


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes: a stack of perfect subtrees, merged right to left at the end."""
    stack: list[tuple[int, bytes]] = []  # (subtree size, hash)
    for h in leaf_hashes:
        size, cur = 1, h
        while stack and stack[-1][0] == size:
            cur = _node(stack.pop()[1], cur)
            size *= 2
        stack.append((size, cur))
    if not stack:
        return hashlib.sha256(b"").digest()
    cur = stack.pop()[1]
    while stack:
        cur = _node(stack.pop()[1], cur)
    return cur


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index < 0 or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            r = _node(r, p)
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2 (with the trivial cases m == n and m == 0)."""
    if m < 0 or m > n:
        return False
    if m == n:
        return len(proof) == 0 and root_m == root_n
    if m == 0:
        return len(proof) == 0
    path = list(proof)
    if m & (m - 1) == 0:
        path = [root_m, *path]
    if not path:
        return False
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn //= 2
        sn //= 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            sr = _node(sr, c)
        fn //= 2
        sn //= 2
    return fr == root_m and sr == root_n and sn == 0


def leaf_hash_of_line(line: str) -> bytes:
    return hashlib.sha256(b"\x00" + line.encode()).digest()


# =========================================================================== election


@dataclass(frozen=True)
class Env:
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


@dataclass(frozen=True)
class Proj:
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
        return not self.envelopes or env_id in self.envelopes

    def amounts(self, budget: int) -> tuple[int, int | None]:
        lo = self.min_amount if self.min_amount is not None else (
            math.ceil(self.min_share * budget) if self.min_share is not None else 0)
        hi = self.max_amount if self.max_amount is not None else (
            math.floor(self.max_share * budget) if self.max_share is not None else None)
        return lo, hi

    def matches(self, p: Proj) -> bool:
        if self.group_key == "popular_neighbourhood":
            return p.popular_neighbourhood is self.group_value
        return getattr(p, self.group_key) == self.group_value


@dataclass
class Definition:
    id: str
    name: str
    envelopes: list[Env]
    projects: dict[str, Proj]
    per_kind: Mapping[str, int]
    required_kinds: tuple[str, ...]
    by_env: dict[str, list[Proj]] = field(default_factory=dict)
    quotas: list[QuotaDef] = field(default_factory=list)


def _fraction(value: Any) -> Fraction | None:
    if value is None:
        return None
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def parse_quota(q: Mapping[str, Any]) -> QuotaDef:
    (key, value), = q["group"].items()
    if key not in ("popular_neighbourhood", "category", "district"):
        raise ValueError(f"quota {q['name']!r}: unknown group key {key!r}")
    return QuotaDef(q["name"], key, value, tuple(q.get("envelopes", ())), _fraction(q.get("min_share")),
                    q.get("min_amount"), _fraction(q.get("max_share")), q.get("max_amount"),
                    bool(q.get("release_unused", True)), str(q.get("scope", "envelope")))


def parse_definition(doc: Mapping[str, Any]) -> Definition:
    envs = [
        Env(e["id"], e["name"], e["kind"], int(e["budget"]), int(e["max_selections"]),
            int(e.get("min_selections", 1)), dict(e.get("category_limits", {})),
            e.get("max_selection_cost"), e.get("rule", "greedy"), e.get("tie_break", "votes-cost-id"))
        for e in doc["envelopes"]
    ]
    projects: dict[str, Proj] = {}
    by_env: dict[str, list[Proj]] = {e.id: [] for e in envs}
    for p in doc["projects"]:
        pr = Proj(p["id"], p["envelope"], p["title"], int(p["cost"]), p.get("district"),
                  p.get("category"), bool(p.get("popular_neighbourhood", False)))
        if pr.id in projects or pr.envelope not in by_env:
            raise ValueError(f"project {pr.id!r}: duplicate or unknown envelope")
        projects[pr.id] = pr
        by_env[pr.envelope].append(pr)
    voting = doc.get("voting", {})
    return Definition(
        doc["election"]["id"], doc["election"]["name"], envs, projects,
        dict(voting.get("max_envelopes_per_kind", {"citywide": 1, "district": 1})),
        tuple(voting.get("required_kinds", [])), by_env, [parse_quota(q) for q in doc.get("quotas", [])],
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
        self._combos: dict[tuple[str, ...], str | None] = {}

    def problem(self, selections: Any) -> str | None:
        """Why a ballot's selections are not valid, or None."""
        if not isinstance(selections, dict) or not selections:
            return "selections must be a non-empty object {envelope: [project ids]}"
        combo = tuple(selections)
        if combo not in self._combos:
            self._combos[combo] = self._combination_problem(combo)
        if self._combos[combo]:
            return self._combos[combo]
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

    def _combination_problem(self, env_ids: tuple[str, ...]) -> str | None:
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
        for kind in self.d.required_kinds:
            if kind not in kinds:
                return f"a {kind!r} envelope is required"
        return None

    def _envelope_problem(self, env: Env, chosen: list[str]) -> str | None:
        if not chosen:
            return f"envelope {env.id!r}: empty selection"
        if chosen != sorted(chosen):
            return f"envelope {env.id!r}: project ids are not sorted"
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
        return None


# =========================================================================== allocation rules
# Same definitions, tie-breaks and explanations as engine/rules (greedy.py, problem.py).


@dataclass(frozen=True)
class Quota:
    name: str
    members: frozenset[str]
    min_amount: int
    max_amount: int | None
    release_unused: bool


@dataclass(frozen=True)
class Problem:
    ids: tuple[str, ...]
    costs: tuple[int, ...]
    scores: tuple[float, ...]
    budget: int
    threshold: float
    quotas: tuple[Quota, ...] = ()
    # each counted ballot's projects in this envelope; filled only for PROFILE_RULES
    approvals: tuple[tuple[str, ...], ...] = ()


def natural_key(text: str) -> tuple:
    out: list[tuple[int, int | str]] = []
    num = word = ""
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


def project_order(p: Problem, tie_break: str) -> list[int]:
    idx = range(len(p.ids))
    if tie_break == "votes-cost-id":
        return sorted(idx, key=lambda i: (-p.scores[i], p.costs[i], natural_key(p.ids[i])))
    if tie_break == "votes-id":
        return sorted(idx, key=lambda i: (-p.scores[i], natural_key(p.ids[i])))
    if tie_break == "lexicographic":
        return sorted(idx, key=lambda i: (-p.scores[i], p.ids[i]))
    raise ValueError(f"unknown tie-break {tie_break!r}")


def greedy(p: Problem, tie_break: str, stop: bool = False) -> dict[str, Any]:
    """Fund in order of votes while money lasts (``stop``: end at the first misfit)."""
    left, spent, stopped = p.budget, 0, False
    selected: list[str] = []
    outcomes: list[dict[str, Any]] = []
    funded_by_score: dict[float, list[tuple[str, int]]] = {}

    def out(pid: str, rank: int, sel: bool, reason: str, detail: str = "") -> None:
        outcomes.append({"project_id": pid, "rank": rank, "selected": sel, "cumulative_cost": spent,
                         "reason": reason, "detail": detail})

    for rank, i in enumerate(project_order(p, tie_break), start=1):
        pid, cost, score = p.ids[i], p.costs[i], p.scores[i]
        if score < p.threshold:
            out(pid, rank, False, "below_threshold", f"{score:g} votes < threshold {p.threshold:g}")
        elif stopped:
            out(pid, rank, False, "stopped", "rule stopped earlier")
        elif cost <= left:
            left -= cost
            spent += cost
            selected.append(pid)
            funded_by_score.setdefault(score, []).append((pid, cost))
            out(pid, rank, True, "funded")
        elif stop:
            stopped = True
            out(pid, rank, False, "stopped", f"cost {cost} > {left} left; greedy-stop ends here")
        else:
            rivals = [t for t, c in funded_by_score.get(score, []) if cost <= left + c]
            if rivals:
                out(pid, rank, False, "tie_lost",
                    f"tie on {score:g} votes lost to {', '.join(rivals)}; cost {cost} > {left} left")
            else:
                out(pid, rank, False, "did_not_fit", f"cost {cost} > {left} left")
    return {"rule": "greedy-stop" if stop else "greedy", "tie_break": tie_break, "budget": p.budget,
            "cost": spent, "selected": selected, "notes": [], "outcomes": outcomes, "quota_reports": []}


def greedy_with_quotas(p: Problem, tie_break: str) -> dict[str, Any]:
    """engine/rules/quota.py: greedy that keeps each quota's reserve, then releases it."""
    order = project_order(p, tie_break)
    ids, costs, scores, quotas = p.ids, p.costs, p.scores, p.quotas
    spent_q = [0] * len(quotas)
    left, spent = p.budget, 0
    decided: dict[int, dict[str, Any]] = {}
    refused: list[int] = []

    def outcome(i: int, rank: int, sel: bool, reason: str, detail: str = "") -> dict[str, Any]:
        return {"project_id": ids[i], "rank": rank, "selected": sel, "cumulative_cost": spent,
                "reason": reason, "detail": detail}

    member_of = [{qi for qi, q in enumerate(quotas) if ids[i] in q.members} for i in range(len(ids))]
    for rank, i in enumerate(order, start=1):
        cost, score = costs[i], scores[i]
        if score < p.threshold:
            decided[i] = outcome(i, rank, False, "below_threshold", f"{score:g} votes < threshold {p.threshold:g}")
            continue
        capped = [qi for qi in sorted(member_of[i])
                  if quotas[qi].max_amount is not None and spent_q[qi] + cost > quotas[qi].max_amount]
        if capped:
            q = quotas[capped[0]]
            decided[i] = outcome(i, rank, False, "quota_max", f"group {q.name!r} would reach "
                                 f"{spent_q[capped[0]] + cost} > maximum {q.max_amount}")
            continue
        if cost > left:
            decided[i] = outcome(i, rank, False, "did_not_fit", f"cost {cost} > {left} left")
            refused.append(i)
            continue
        reserve = sum(max(0, q.min_amount - spent_q[qi] - (cost if qi in member_of[i] else 0))
                      for qi, q in enumerate(quotas))
        if cost > left - reserve:
            names = ", ".join(repr(q.name) for qi, q in enumerate(quotas)
                              if qi not in member_of[i] and spent_q[qi] < q.min_amount)
            decided[i] = outcome(i, rank, False, "quota_reserve",
                                 f"cost {cost} > {left - reserve} left outside the reserve "
                                 f"({reserve} still reserved for {names or 'its quotas'})")
            refused.append(i)
            continue
        left -= cost
        spent += cost
        for qi in member_of[i]:
            spent_q[qi] += cost
        decided[i] = outcome(i, rank, True, "funded")

    reports: list[dict[str, Any]] = []
    notes: list[str] = []
    for qi, q in enumerate(quotas):
        short = max(0, q.min_amount - spent_q[qi])
        why = ""
        if short:
            group = [i for i in range(len(ids)) if qi in member_of[i] and scores[i] >= p.threshold]
            total = sum(costs[i] for i in group)
            unfunded = [i for i in group if not decided[i]["selected"]]
            if total < q.min_amount:
                why = (f"the group's {len(group)} eligible projects cost {total} in total, "
                       f"less than the {q.min_amount} reserved")
            elif unfunded:
                why = (f"each of the group's {len(unfunded)} unfunded projects costs more than the money "
                       f"left (cheapest {min(costs[i] for i in unfunded)} > {left} left)")
            else:
                why = "every eligible project of the group is funded"
            notes.append(f"quota {q.name!r} not met: group got {spent_q[qi]} of {q.min_amount} "
                         f"(short by {short}): {why}")
        reports.append({"name": q.name, "min_amount": q.min_amount, "max_amount": q.max_amount,
                        "group_spent": spent_q[qi], "met": short == 0, "shortfall": short, "reason": why})
    released = [q for qi, q in enumerate(quotas) if q.release_unused and spent_q[qi] < q.min_amount]
    if released:
        notes.append("released unused reserve of " + ", ".join(repr(q.name) for q in released)
                     + " to the other projects (final pass)")
        keep = [qi for qi, q in enumerate(quotas) if not q.release_unused]
        for i in refused:
            cost = costs[i]
            still = sum(max(0, quotas[qi].min_amount - spent_q[qi] - (cost if qi in member_of[i] else 0))
                        for qi in keep)
            if cost <= left - still:
                left -= cost
                spent += cost
                for qi in member_of[i]:
                    spent_q[qi] += cost
                o = decided[i]
                decided[i] = {**o, "selected": True, "cumulative_cost": spent, "reason": "funded_after_release",
                              "detail": f"pass 1: {o['reason']} ({o['detail']})"}
        for qi, r in enumerate(reports):
            r["group_spent"] = spent_q[qi]
    return {"rule": "greedy", "tie_break": tie_break, "budget": p.budget, "cost": spent,
            "selected": [ids[i] for i in order if decided[i]["selected"]], "notes": notes,
            "outcomes": [decided[i] for i in order], "quota_reports": reports}


def greedy_rule(p: Problem, tie_break: str) -> dict[str, Any]:
    return greedy_with_quotas(p, tie_break) if p.quotas else greedy(p, tie_break)


def greedy_stop_rule(p: Problem, tie_break: str) -> dict[str, Any]:
    if p.quotas:
        raise ValueError("greedy-stop does not support quotas")
    return greedy(p, tie_break, stop=True)


# Rule name (as in election definitions) -> function recomputing allocation.json's entry.
# To verify another rule, add it here with the same output shape (rule, tie_break, budget,
# cost, selected, notes, outcomes[project_id, rank, selected, cumulative_cost, reason,
# detail], quota_reports); an envelope whose rule is missing fails with check
# "rule_unsupported". Rules that need each voter's approvals (MES) can read them from the
# counted ballots (ballots.jsonl) — pass them in when adding such a rule.
# Rules that need each voter's approvals (Method of Equal Shares) are also listed in
# PROFILE_RULES: their Problem then carries ``approvals`` from the counted ballots.
PROFILE_RULES: set[str] = set()
RULES: dict[str, Callable[[Problem, str], dict[str, Any]]] = {
    "greedy": greedy_rule,
    "greedy-stop": greedy_stop_rule,
}

# Method of Equal Shares (mes, mes-add1, mes-greedy, mes-add1-greedy and their -comparison
# variants): a stdlib-only re-implementation in engine/verifier/rules_reference.py (issue 3; checked
# field by field against engine/rules/mes.py in tests/unit/test_rules_reference.py). Without that
# file next to this one, those envelopes fail with "rule_unsupported". "exact" (the
# knapsack, by branch and bound, quotas included) is there too.
try:
    from engine.verifier.rules_reference import reference_rules as _mes_reference_rules
except ImportError:  # this file copied out of pbcount: rules_reference.py next to it, or nothing
    try:
        from rules_reference import reference_rules as _mes_reference_rules  # type: ignore[no-redef]
    except ImportError:
        _mes_reference_rules = None
if _mes_reference_rules is not None:
    _MES_RULES = _mes_reference_rules(greedy_rule)
    PROFILE_RULES.update(name for name in _MES_RULES if name.startswith("mes"))
    RULES.update(_MES_RULES)


# =========================================================================== the bundle


@dataclass
class Verified:
    publication: int
    tree_size: int
    root_hash: str
    counted: int
    key_fingerprint: str
    key_pinned: bool
    notes: list[str] = field(default_factory=list)


def _read(directory: Path, name: str) -> bytes:
    p = directory / name
    if not p.is_file():
        raise fail(name, "present", f"missing from {directory}")
    return p.read_bytes()


def _json(directory: Path, name: str) -> Any:
    try:
        return json.loads(_read(directory, name).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(name, "json", f"not valid UTF-8 JSON ({exc})") from exc


def _jsonl(directory: Path, name: str) -> list[tuple[int, str, Any]]:
    return list(_iter_jsonl(directory, name))


def _iter_jsonl(directory: Path, name: str) -> Iterator[tuple[int, str, Any]]:
    """(line number, line, parsed object) for each line; streamed (ballots.jsonl is large)."""
    raw = _read(directory, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(name, "utf8", f"not UTF-8 ({exc})") from exc
    if text and not text.endswith("\n"):
        raise fail(name, "format", "the last line has no newline", text.count("\n") + 1)
    del raw
    for no, line in enumerate(text.split("\n")[:-1] if text else [], start=1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise fail(name, "json", f"not valid JSON ({exc.msg})", no) from exc
        if not isinstance(obj, dict):
            raise fail(name, "json", "a line must be a JSON object", no)
        yield no, line, obj


def load_key(pem: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise fail(where, "public_key", "not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise fail(where, "public_key", "not an Ed25519 public key")
    return key


def raw_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def check_manifest(directory: Path, pinned: bytes | None) -> tuple[dict[str, Any], Ed25519PublicKey]:
    m = _json(directory, "manifest.json")
    if not isinstance(m, dict) or not isinstance(m.get("signed"), dict) or not isinstance(m.get("signature"), dict):
        raise fail("manifest.json", "format", "needs objects 'signed' and 'signature'")
    signed, sig = m["signed"], m["signature"]
    if signed.get("format") != FORMAT:
        raise fail("manifest.json", "format", f"format {signed.get('format')!r}, this verifier reads {FORMAT}")
    if sig.get("algorithm") != "Ed25519":
        raise fail("manifest.json", "signature", f"algorithm {sig.get('algorithm')!r} is not Ed25519")
    if not isinstance(signed.get("public_key"), str):
        raise fail("manifest.json", "public_key", "signed.public_key must be a PEM string")
    key = load_key(signed["public_key"].encode(), "manifest.json")
    file_key = load_key(_read(directory, "results.pub"), "results.pub")
    if raw_key(file_key) != raw_key(key):
        raise fail("results.pub", "key_matches_manifest", "results.pub is not the key named in manifest.json")
    if pinned is not None and raw_key(load_key(pinned, "--key")) != raw_key(key):
        raise fail("manifest.json", "key_pinned",
                   "the bundle is signed with another key than the published results key (--key)")
    try:
        value = base64.b64decode(str(sig.get("value", "")), validate=True)
        key.verify(value, canonical(signed).encode())
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise fail("manifest.json", "signature", "Ed25519 signature does not verify") from exc
    return signed, key


def check_file_hashes(directory: Path, signed: Mapping[str, Any]) -> None:
    files = signed.get("files")
    if not isinstance(files, dict):
        raise fail("manifest.json", "format", "signed.files must be an object")
    for name in REQUIRED_FILES:
        if name not in files:
            raise fail("manifest.json", "files_listed", f"{name} is not listed")
    for name, digest in sorted(files.items()):
        if "/" in name or name.startswith(".") or name == "manifest.json":
            raise fail("manifest.json", "files_listed", f"unexpected file name {name!r}")
        actual = hashlib.sha256(_read(directory, name)).hexdigest()
        if actual != digest:
            raise fail(name, "sha256", f"SHA-256 is {actual}, manifest.json says {digest}")


def check_election(directory: Path, signed: Mapping[str, Any]) -> Definition:
    doc = _json(directory, "election.json")
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


def check_ballots(directory: Path, d: Definition) -> tuple[list[str], dict[str, dict[str, Any]], list[int]]:
    """Lines, the counted ballots (receipt -> entry) and each line's publication number."""
    name = "ballots.jsonl"
    lines: list[str] = []
    pubs: list[int] = []
    live: dict[str, dict[str, Any]] = {}
    prev_key: tuple[int, int, str] | None = None
    rules = BallotRules(d)
    for no, line, e in _iter_jsonl(directory, name):
        if canonical(e) != line:
            raise fail(name, "canonical_json", "line is not in canonical form (sorted keys, no spaces)", no)
        op, pub, receipt = e.get("op"), e.get("pub"), e.get("receipt")
        if not isinstance(pub, int) or isinstance(pub, bool) or pub < 1:
            raise fail(name, "publication", f"pub must be a positive integer, got {pub!r}", no)
        if not isinstance(receipt, str) or not RECEIPT_RE.fullmatch(receipt):
            raise fail(name, "receipt_format", f"receipt {receipt!r} is not R/P + 15 base32 symbols", no)
        if op == "count":
            allowed = {"op", "pub", "receipt", "channel", "selections", "image_sha256"}
            if set(e) - allowed:
                raise fail(name, "fields", f"unexpected fields {sorted(set(e) - allowed)}", no)
            channel = e.get("channel")
            if channel == "paper":
                if not isinstance(e.get("image_sha256"), str) or not SHA256_RE.fullmatch(e["image_sha256"]):
                    raise fail(name, "image_sha256", "a paper ballot needs the image's SHA-256 (hex)", no)
            elif channel == "online":
                if "image_sha256" in e:
                    raise fail(name, "image_sha256", "an online ballot has no image", no)
            else:
                raise fail(name, "channel", f"channel {channel!r} is neither online nor paper", no)
            problem = rules.problem(e.get("selections"))
            if problem:
                raise fail(name, "ballot_valid", f"receipt {receipt}: {problem}", no)
            if receipt in live:
                raise fail(name, "receipt_unique", f"receipt {receipt} is counted twice", no)
            live[receipt] = e
            key = (pub, 1, receipt)
        elif op == "withdraw":
            if set(e) != {"op", "pub", "receipt", "reason"} or not isinstance(e["reason"], str):
                raise fail(name, "fields", "a withdraw line has exactly op, pub, receipt, reason", no)
            if receipt not in live:
                raise fail(name, "withdraw_counted", f"receipt {receipt} is not counted, cannot be withdrawn", no)
            del live[receipt]
            key = (pub, 0, receipt)
        else:
            raise fail(name, "op", f"op {op!r} is neither count nor withdraw", no)
        if prev_key is not None and key <= prev_key:
            raise fail(name, "order", "lines must go by publication, withdrawals then counts, "
                       "each by receipt id (the order of voting must not show)", no)
        prev_key = key
        lines.append(line)
        pubs.append(pub)
    return lines, live, pubs


def _hex32(value: Any, where: str, check: str) -> bytes:
    if not isinstance(value, str) or not SHA256_RE.fullmatch(value):
        raise fail(where, check, f"{value!r} is not a 64-digit lowercase hex hash")
    return bytes.fromhex(value)


def check_merkle(directory: Path, signed: Mapping[str, Any], lines: list[str], pubs: list[int],
                 previous: Mapping[str, Any] | None) -> tuple[int, int, str, list[str]]:
    name = "merkle.json"
    notes: list[str] = []
    m = _json(directory, name)
    if not isinstance(m, dict):
        raise fail(name, "format", "must be an object")
    leaves = [leaf_hash_of_line(x) for x in lines]
    root = merkle_root(leaves).hex()
    if m.get("tree_size") != len(lines):
        raise fail(name, "tree_size", f"declares {m.get('tree_size')!r} leaves, ballots.jsonl has {len(lines)}")
    if m.get("root_hash") != root:
        raise fail(name, "root_hash", f"the RFC 6962 root of ballots.jsonl is {root}, not {m.get('root_hash')}")
    pub = m.get("publication")
    for k in ("publication", "tree_size", "root_hash"):
        if signed.get(k) != m.get(k):
            raise fail(name, "signed_head", f"{k} differs from the one signed in manifest.json")
    history = m.get("history")
    if not isinstance(history, list) or not history or not all(isinstance(h, dict) for h in history):
        raise fail(name, "history", "history must list every publication's tree head")
    if [h.get("publication") for h in history] != list(range(1, len(history) + 1)) or history[-1].get(
        "publication"
    ) != pub:
        raise fail(name, "history", "history must be publications 1..n ending with this one")
    start = 0
    for h in history:
        size, k = h.get("tree_size"), h["publication"]
        if not isinstance(size, int) or not start <= size <= len(lines):
            raise fail(name, "history", f"publication {k}: tree size {size!r} out of order")
        if merkle_root(leaves[:size]).hex() != h.get("root_hash"):
            raise fail(name, "history_rewritten",
                       f"the first {size} lines no longer hash to publication {k}'s root {h.get('root_hash')}")
        for i in range(start, size):
            if pubs[i] != k:
                raise fail("ballots.jsonl", "publication", f"line belongs to publication {k}, says {pubs[i]}", i + 1)
        start = size
    if history[-1].get("tree_size") != len(lines) or history[-1].get("root_hash") != root:
        raise fail(name, "history", "the last history entry is not this tree head")
    prev = m.get("previous")
    proof_hex = m.get("consistency_proof")
    if not isinstance(proof_hex, list):
        raise fail(name, "consistency_proof", "must be a list of hex hashes")
    proof = [_hex32(p, name, "consistency_proof") for p in proof_hex]
    if len(history) > 1:
        if prev != history[-2]:
            raise fail(name, "previous", "previous must be the second-to-last history entry")
        if not verify_consistency(prev["tree_size"], len(lines), _hex32(prev["root_hash"], name, "previous"),
                                  bytes.fromhex(root), proof):
            raise fail(name, "consistency_proof",
                       f"does not prove publication {prev['publication']}'s tree is a prefix of this one")
    elif prev is not None or proof:
        raise fail(name, "previous", "the first publication has no previous head")
    if previous is not None:
        k = previous.get("publication")
        if not isinstance(k, int) or not 1 <= k <= len(history):
            raise fail(name, "previous_bundle", f"the earlier bundle's publication {k!r} is not in this history")
        old = {"publication": k, "tree_size": previous.get("tree_size"), "root_hash": previous.get("root_hash")}
        if history[k - 1] != old:
            raise fail(name, "previous_bundle",
                       f"publication {k} was published as size {old['tree_size']} root {old['root_hash']}; "
                       f"this bundle's history says {history[k - 1]} — earlier ballots were rewritten")
        notes.append(f"earlier publication {k} (size {old['tree_size']}) is a prefix of this log")
    return pub, len(lines), root, notes


def recompute_tally(d: Definition, live: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    envs: dict[str, Any] = {
        e.id: {"ballots": {"online": 0, "paper": 0, "total": 0},
               "projects": {p.id: {"online": 0, "paper": 0, "total": 0} for p in d.by_env[e.id]}}
        for e in d.envelopes
    }
    n = {"online": 0, "paper": 0, "total": 0}
    for e in live.values():
        ch = e["channel"]
        n[ch] += 1
        n["total"] += 1
        for env_id, chosen in e["selections"].items():
            et = envs[env_id]
            et["ballots"][ch] += 1
            et["ballots"]["total"] += 1
            for pid in chosen:
                pv = et["projects"][pid]
                pv[ch] += 1
                pv["total"] += 1
    return {"ballots": n, "envelopes": envs}


def check_tally(directory: Path, d: Definition, live: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    name = "tally.json"
    t = _json(directory, name)
    mine = recompute_tally(d, live)
    if not isinstance(t, dict):
        raise fail(name, "format", "must be an object")
    if t.get("ballots") != mine["ballots"]:
        raise fail(name, "ballots", f"published {t.get('ballots')}, recomputed {mine['ballots']}")
    published = t.get("envelopes")
    if not isinstance(published, dict) or set(published) != set(mine["envelopes"]):
        raise fail(name, "envelopes", "envelopes differ from the election's")
    for env_id, et in mine["envelopes"].items():
        pe = published[env_id]
        if not isinstance(pe, dict):
            raise fail(name, "format", f"envelope {env_id} must be an object")
        if pe.get("ballots") != et["ballots"]:
            raise fail(name, "envelope_ballots",
                       f"envelope {env_id}: published {pe.get('ballots')}, recomputed {et['ballots']}")
        pp = pe.get("projects")
        if not isinstance(pp, dict) or set(pp) != set(et["projects"]):
            raise fail(name, "projects", f"envelope {env_id}: project list differs from the election's")
        for pid, v in et["projects"].items():
            if pp[pid] != v:
                raise fail(name, "votes", f"envelope {env_id} project {pid}: published {pp[pid]}, recomputed {v}")
    sup = t.get("superseded")
    if not isinstance(sup, dict) or not isinstance(sup.get("total"), int) or not isinstance(
        sup.get("by_reason"), dict
    ) or not isinstance(sup.get("by_envelope"), dict):
        raise fail(name, "superseded", "needs total, by_reason and by_envelope")
    if sum(sup["by_reason"].values()) != sup["total"]:
        raise fail(name, "superseded", "by_reason does not add up to total")
    if not isinstance(t.get("rejected_total"), int):
        raise fail(name, "rejected_total", "must be an integer")
    return t


def envelope_approvals(env_id: str, live: Mapping[str, Mapping[str, Any]] | None) -> tuple[tuple[str, ...], ...]:
    """The project ids each counted ballot approves in this envelope (ballots covering it)."""
    return tuple(tuple(e["selections"][env_id]) for e in (live or {}).values() if env_id in e["selections"])


def _apportion(amount: int, budgets: Mapping[str, int]) -> dict[str, int]:
    total = sum(budgets.values())
    return {e: -(-amount * b // total) for e, b in budgets.items()} if total else dict.fromkeys(budgets, 0)


def _election_quota_target(d: Definition, q: QuotaDef) -> tuple[int, dict[str, int]]:
    budgets = {e.id: e.budget for e in d.envelopes if q.applies_to(e.id)}
    if q.min_amount is not None:
        return q.min_amount, budgets
    assert q.min_share is not None
    return math.ceil(q.min_share * sum(budgets.values())), budgets


def recompute_allocation(d: Definition, tally: Mapping[str, Any], threshold: float,
                         live: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """engine/counting/allocation.py: each envelope with its rule, then election-wide quota rebalancing.

    An election-wide quota reserves in each envelope a budget-proportional part of the
    required money; while the group's total is short, the shortfall is added (budget-
    proportionally, rounded up) to the reserves of envelopes that met their reserve and
    still have an eligible unfunded group project within their budget; at most as many
    rounds as envelopes.
    """
    name = "allocation.json"
    extra: dict[tuple[str, str], int] = {}
    envs = {e.id: e for e in d.envelopes}

    def run(env: Env) -> tuple[Problem, dict[str, Any]]:
        rule = RULES.get(env.rule)
        if rule is None:
            raise fail(name, "rule_unsupported",
                       f"envelope {env.id} uses rule {env.rule!r}, which this verifier cannot recompute "
                       f"(it knows {', '.join(sorted(RULES))})")
        projects = d.by_env[env.id]
        votes = tally["envelopes"][env.id]["projects"]
        quotas = []
        for q in d.quotas:
            if not q.applies_to(env.id):
                continue
            if q.scope == "election":
                target, budgets = _election_quota_target(d, q)
                lo, hi = _apportion(target, budgets)[env.id] + extra.get((q.name, env.id), 0), None
            else:
                lo, hi = q.amounts(env.budget)
            quotas.append(Quota(q.name, frozenset(p.id for p in projects if q.matches(p)), lo, hi,
                                q.release_unused))
        problem = Problem(tuple(p.id for p in projects), tuple(p.cost for p in projects),
                          tuple(float(votes[p.id]["total"]) for p in projects), env.budget, threshold,
                          tuple(quotas), envelope_approvals(env.id, live) if env.rule in PROFILE_RULES else ())
        try:
            return problem, rule(problem, env.tie_break)
        except ValueError as exc:
            raise fail(name, "rule_unsupported", f"envelope {env.id}: {exc}") from exc

    def can_take_more(problem: Problem, mine: Mapping[str, Any], quota: str) -> bool:
        report = next((r for r in mine["quota_reports"] if r["name"] == quota), None)
        q = next((x for x in problem.quotas if x.name == quota), None)
        if report is None or q is None or not report["met"]:
            return False
        selected = set(mine["selected"])
        return any(pid in q.members and pid not in selected and score >= problem.threshold
                   and cost <= problem.budget
                   for pid, cost, score in zip(problem.ids, problem.costs, problem.scores, strict=True))

    ran = {env.id: run(env) for env in d.envelopes}
    wide = [q for q in d.quotas if q.scope == "election"]

    def group_spent(q: QuotaDef) -> int:
        return sum(r["group_spent"] for e in ran if q.applies_to(e)
                   for r in ran[e][1]["quota_reports"] if r["name"] == q.name)

    for _ in range(len(d.envelopes)):
        touched: set[str] = set()
        for q in wide:
            target, _budgets = _election_quota_target(d, q)
            short = target - group_spent(q)
            if short <= 0:
                continue
            cands = {e: envs[e].budget for e in ran if q.applies_to(e) and can_take_more(*ran[e], q.name)}
            for e, add in _apportion(short, cands).items():
                extra[(q.name, e)] = extra.get((q.name, e), 0) + add
                touched.add(e)
        if not touched:
            break
        for e in sorted(touched):
            ran[e] = run(envs[e])
    return {e: mine for e, (_p, mine) in ran.items()}


def check_allocation(directory: Path, d: Definition, tally: Mapping[str, Any],
                     live: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    name = "allocation.json"
    a = _json(directory, name)
    if not isinstance(a, dict) or not isinstance(a.get("envelopes"), dict):
        raise fail(name, "format", "needs 'threshold' and 'envelopes'")
    threshold = a.get("threshold")
    if not isinstance(threshold, int | float) or isinstance(threshold, bool):
        raise fail(name, "threshold", "must be a number")
    if set(a["envelopes"]) != {e.id for e in d.envelopes}:
        raise fail(name, "envelopes", "envelopes differ from the election's")
    recomputed = recompute_allocation(d, tally, threshold, live)
    for env in d.envelopes:
        mine = recomputed[env.id]
        pub = a["envelopes"][env.id]
        if not isinstance(pub, dict):
            raise fail(name, "format", f"envelope {env.id} must be an object")
        for k in ("rule", "tie_break", "budget", "cost", "selected", "notes", "quota_reports"):
            if pub.get(k) != mine[k]:
                raise fail(name, k, f"envelope {env.id}: published {pub.get(k)!r}, recomputed {mine[k]!r}")
        outcomes = pub.get("outcomes")
        if not isinstance(outcomes, list) or len(outcomes) != len(mine["outcomes"]):
            raise fail(name, "outcomes", f"envelope {env.id}: one outcome per project expected")
        for o_pub, o_mine in zip(outcomes, mine["outcomes"], strict=True):
            if o_pub != o_mine:
                raise fail(name, "outcomes", f"envelope {env.id}: published {o_pub}, recomputed {o_mine}")
    return a


def _csv_rows(directory: Path, name: str) -> list[list[str]]:
    try:
        text = _read(directory, name).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(name, "utf8", "not UTF-8") from exc
    return list(csv.reader(io.StringIO(text)))


def _compare_rows(name: str, header: list[str], got: list[list[str]], want: list[list[Any]]) -> None:
    if not got or got[0] != header:
        raise fail(name, "header", f"expected columns {','.join(header)}", 1)
    body = got[1:]
    for i, (g, w) in enumerate(zip(body, want, strict=False), start=2):
        ws = ["" if v is None else str(v) for v in w]
        if len(g) != len(ws):
            raise fail(name, "columns", f"{len(g)} cells, expected {len(ws)}", i)
        for col, gv, wv in zip(header, g, ws, strict=True):
            if gv != wv:
                raise fail(name, col, f"published {gv!r}, recomputed {wv!r}", i)
    if len(body) != len(want):
        raise fail(name, "rows", f"{len(body)} data rows, expected {len(want)}", min(len(body), len(want)) + 2)


PROJECT_COLUMNS = [
    "envelope_id", "project_id", "title", "cost", "district", "category",
    "popular_neighbourhood", "votes_online", "votes_paper", "votes_total", "vote_share_pct", "rank",
    "selected", "cumulative_cost", "reason", "detail",
]
ENVELOPE_COLUMNS = [
    "envelope_id", "name", "kind", "budget", "spent", "left_over", "projects_funded",
    "ballots_total", "ballots_online", "ballots_paper", "superseded",
]


def _pct(part: int, whole: int) -> str:
    """As engine.formats.results_csv.pct: 100 * part / whole, two decimals, empty if whole is 0."""
    return f"{100 * part / whole:.2f}" if whole else ""


def check_csvs(directory: Path, d: Definition, tally: Mapping[str, Any], alloc: Mapping[str, Any]) -> None:
    rows: list[list[Any]] = []
    for env in d.envelopes:
        votes = tally["envelopes"][env.id]["projects"]
        n_env = tally["envelopes"][env.id]["ballots"]["total"]
        for o in sorted(alloc["envelopes"][env.id]["outcomes"], key=lambda o: o["rank"]):
            p = d.projects[o["project_id"]]
            v = votes[p.id]
            rows.append([env.id, p.id, p.title, p.cost, p.district or "", p.category or "",
                         int(p.popular_neighbourhood), v["online"], v["paper"], v["total"], _pct(v["total"], n_env),
                         o["rank"],
                         int(o["selected"]), o["cumulative_cost"], o["reason"], o["detail"]])
    _compare_rows("projects.csv", PROJECT_COLUMNS, _csv_rows(directory, "projects.csv"), rows)

    sup = tally["superseded"]
    erows: list[list[Any]] = []
    for env in d.envelopes:
        a = alloc["envelopes"][env.id]
        b = tally["envelopes"][env.id]["ballots"]
        erows.append([env.id, env.name, env.kind, env.budget, a["cost"], env.budget - a["cost"], len(a["selected"]),
                      b["total"], b["online"], b["paper"], sup["by_envelope"].get(env.id, 0)])
    _compare_rows("envelopes.csv", ENVELOPE_COLUMNS, _csv_rows(directory, "envelopes.csv"), erows)


def check_rejected_and_adjudication(directory: Path, tally: Mapping[str, Any]) -> None:
    total = 0
    seen: set[str] = set()
    for no, _line, e in _jsonl(directory, "rejected.jsonl"):
        if set(e) != {"reason", "count", "description"} or not isinstance(e["count"], int) or e["count"] < 0:
            raise fail("rejected.jsonl", "fields", "a line is {reason, count >= 0, description}", no)
        if not isinstance(e["reason"], str) or e["reason"] in seen:
            raise fail("rejected.jsonl", "reason_unique", f"reason {e['reason']!r} listed twice", no)
        seen.add(e["reason"])
        total += e["count"]
    if total != tally["rejected_total"]:
        raise fail("rejected.jsonl", "total", f"counts add up to {total}, tally.json says {tally['rejected_total']}")
    for no, _line, e in _jsonl(directory, "adjudication.jsonl"):
        if set(e) != {"review", "image_sha256", "reasons", "outcome"}:
            raise fail("adjudication.jsonl", "fields", "a line is {review, image_sha256, reasons, outcome}", no)
        if e["outcome"] not in ("pending", "accepted", "rejected"):
            raise fail("adjudication.jsonl", "outcome", f"unknown outcome {e['outcome']!r}", no)


def audit_entry_hash(e: Mapping[str, Any]) -> str:
    body = {k: e[k] for k in ("seq", "at", "actor", "action", "details", "prev_hash")}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def check_audit(directory: Path, pub: int, size: int, root: str) -> int:
    """The hash chain of engine/model/audit.py (verify_chain), and the publish entry of this head."""
    name = "audit.jsonl"
    prev, last = GENESIS, None
    entries = _jsonl(directory, name)
    for i, (no, _line, e) in enumerate(entries, start=1):
        if e.get("seq") != i:
            raise fail(name, "audit_chain", f"sequence number {e.get('seq')!r}, expected {i} (gap or reorder)", no)
        if e.get("prev_hash") != prev:
            raise fail(name, "audit_chain", f"prev_hash does not match entry {i - 1}", no)
        try:
            h = audit_entry_hash(e)
        except KeyError as exc:
            raise fail(name, "audit_chain", f"missing field {exc}", no) from exc
        if h != e.get("entry_hash"):
            raise fail(name, "audit_chain", "entry_hash does not match its content", no)
        prev, last = h, e
    if last is None or last.get("action") != "publish":
        raise fail(name, "publish_entry", "the log must end with this publication's 'publish' entry")
    det = last.get("details")
    if not isinstance(det, dict) or (det.get("publication"), det.get("tree_size"), det.get("root_hash")) != (
        pub, size, root
    ):
        raise fail(name, "publish_entry", "the last 'publish' entry names another tree head", len(entries))
    return len(entries)


def _previous_head(path: Path, key: Ed25519PublicKey) -> dict[str, Any]:
    """The signed tree head of an earlier bundle (a directory or its manifest.json)."""
    directory = path if path.is_dir() else path.parent
    signed, old_key = check_manifest(directory, None)
    if raw_key(old_key) != raw_key(key):
        raise fail("--previous", "key_pinned", "the earlier bundle is signed with another key")
    return {k: signed.get(k) for k in ("publication", "tree_size", "root_hash")}


def verify_bundle(directory: Path, *, key_pem: bytes | None = None, previous: Path | None = None,
                  progress: Callable[[str], None] | None = None) -> Verified:
    """Run every check; return what was verified or raise :class:`VerificationFailure`."""
    say = progress or (lambda _msg: None)
    if not directory.is_dir():
        raise fail(str(directory), "present", "not a directory")

    def step(file: str, what: str, check: Callable[..., Any], *args: Any) -> Any:
        """Run one check; content of an unexpected shape fails as ``format`` of that file."""
        say(what)
        try:
            return check(*args)
        except VerificationFailure:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise fail(file, "format", f"unexpected content while checking {what}: {exc!r}") from exc

    signed, key = step("manifest.json", "manifest signature", check_manifest, directory, key_pem)
    step("manifest.json", "file hashes", check_file_hashes, directory, signed)
    d = step("election.json", "election definition", check_election, directory, signed)
    lines, live, pubs = step("ballots.jsonl", "ballots", check_ballots, directory, d)
    prev_head = step("--previous", "previous bundle", _previous_head, previous, key) if previous else None
    pub, size, root, notes = step("merkle.json", "Merkle tree", check_merkle, directory, signed, lines, pubs,
                                  prev_head)
    tally = step("tally.json", "tally", check_tally, directory, d, live)
    alloc = step("allocation.json", "allocation", check_allocation, directory, d, tally, live)
    step("projects.csv", "CSV files", check_csvs, directory, d, tally, alloc)
    step("rejected.jsonl", "rejections and adjudication", check_rejected_and_adjudication, directory, tally)
    n_audit = step("audit.jsonl", "audit log", check_audit, directory, pub, size, root)
    fp = hashlib.sha256(raw_key(key)).hexdigest()[:16]
    if key_pem is None:
        notes.append("the signing key was NOT pinned: pass --key with the separately published results.pub")
    notes.append(f"audit log: {n_audit} entries, chain intact")
    return Verified(pub, size, root, len(live), fp, key_pem is not None, notes)


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.verifier.verify", description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", type=Path, help="directory of the results bundle")
    ap.add_argument("--key", type=Path, help="the results public key published separately (PEM)")
    ap.add_argument("--previous", type=Path, help="an earlier bundle of the same election (directory)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")
    args = ap.parse_args(list(argv) if argv is not None else None)
    pem = None
    if args.key is not None:
        try:
            pem = args.key.read_bytes()
        except OSError as exc:
            print(f"error: {args.key}: {exc.strerror}", file=sys.stderr)
            return 2

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"checking {msg}…", file=sys.stderr)

    try:
        v = verify_bundle(args.bundle, key_pem=pem, previous=args.previous, progress=progress)
    except VerificationFailure as exc:
        print(f"FAILED: {exc}")
        return 1
    if not args.quiet:
        for n in v.notes:
            print(f"note: {n}", file=sys.stderr)
    print(f"VERIFIED publication {v.publication}: {v.counted} counted ballots, tree size {v.tree_size}, "
          f"root {v.root_hash}, key {v.key_fingerprint}{'' if v.key_pinned else ' (not pinned)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

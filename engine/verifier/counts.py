"""``tally.json``, ``allocation.json``, ``rejected.jsonl``, ``adjudication.jsonl``: recomputed.

The tally from the counted ballots; each envelope's allocation from the tally with the
published rule and tie-break (:mod:`engine.verifier.rules_reference`; majority judgment
:mod:`engine.verifier.rules_grades`, for-against and greedy-exclusive
:mod:`engine.verifier.rules_greedy_variants`, on each ballot's grades, the for/against
counts or the envelope's exclusive groups), then election-wide quota rebalancing
as ``engine/counting/allocation.py`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .definition import Definition, Env, QuotaDef
from .errors import fail
from .jsonio import read_json, read_jsonl
from .rules_cuts import cuts_exact, cuts_greedy, sector_limits
from .rules_grades import grade_rules
from .rules_greedy_variants import for_against, greedy_exclusive
from .rules_reference import PROFILE_RULES, RULES, Problem, Quota, greedy_rule, greedy_stop_rule


def recompute_tally(d: Definition, live: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The ``tally.json`` ballots and votes recomputed from the ``live`` (counted) log entries,
    per envelope and project, by channel.
    """
    envs: dict[str, Any] = {
        e.id: {"ballots": {"online": 0, "paper": 0, "total": 0},
               "projects": {p.id: {"online": 0, "paper": 0, "total": 0} for p in d.by_env[e.id]}}
        for e in d.envelopes
    }
    kind = {e.id: e for e in d.envelopes}
    n = {"online": 0, "paper": 0, "total": 0}
    for e in live.values():
        ch = e["channel"]
        n[ch] += 1
        n["total"] += 1
        for env_id, chosen in e["selections"].items():
            et = envs[env_id]
            et["ballots"][ch] += 1
            et["ballots"]["total"] += 1
            if kind[env_id].ballot != "approval":
                _add_opinions(kind[env_id], et["projects"], chosen, ch)
                continue
            for pid in chosen:
                pv = et["projects"][pid]
                pv[ch] += 1
                pv["total"] += 1
    for env in d.envelopes:  # the published extras of grade and for-against envelopes
        et = envs[env.id]
        for pv in et["projects"].values():
            if env.ballot == "grades":
                pv.setdefault("grades", [0] * len(env.grades))
                pv["ungraded"] = et["ballots"]["total"] - pv["total"]
            elif env.ballot == "for-against":
                pv.setdefault("against", 0)
                pv["for"] = pv["total"]
    return {"ballots": n, "envelopes": envs}


def _add_opinions(env: Env, projects: dict[str, Any], items: Any, ch: str) -> None:
    """One ballot's ``project=opinion`` items: a grade index (lowest first) or for/against."""
    for item in items:
        pid, _sep, opinion = item.rpartition("=")
        pv = projects[pid]
        if env.ballot == "grades":
            pv.setdefault("grades", [0] * len(env.grades))[int(opinion)] += 1
        elif opinion != "for":
            pv["against"] = pv.get("against", 0) + 1
            continue
        pv[ch] += 1
        pv["total"] += 1


def envelope_opinions(env_id: str, live: Mapping[str, Mapping[str, Any]] | None) -> list[dict[str, str]]:
    """Per counted ballot covering this envelope, its ``{project: opinion}`` (grade/for-against)."""
    return [dict(item.rpartition("=")[::2] for item in e["selections"][env_id])
            for e in (live or {}).values() if env_id in e["selections"]]


@dataclass(frozen=True)
class OpinionProblem(Problem):
    """A grade or for-against envelope as :mod:`.rules_grades` and :mod:`.rules_greedy_variants`
    read it: the grade scale (lowest first), the default grade and each ballot's grades, or
    the for and against counts (problem order)."""

    grade_names: tuple[str, ...] = ()
    default_grade: int = 0
    grade_ballots: tuple[Mapping[str, int], ...] = ()
    votes_for: tuple[int, ...] = ()
    votes_against: tuple[int, ...] = ()


@dataclass(frozen=True)
class ExclusiveProblem(Problem):
    """A ``greedy-exclusive`` envelope as :func:`.rules_greedy_variants.greedy_exclusive` reads
    it: the problem plus the envelope's exclusive groups ``(name, member ids)``."""

    exclusive: tuple[tuple[str, frozenset[str]], ...] = ()


# Every rule this verifier recomputes: the approval rules of rules_reference, majority
# judgment (rules_grades), for-against and greedy-exclusive (rules_greedy_variants), each
# the verifier's own copy.
ALL_RULES: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    **RULES,
    **grade_rules(greedy_rule),
    "for-against": lambda p, tie: for_against(p, tie, greedy_rule),
    "for-against-stop": lambda p, tie: for_against(p, tie, greedy_rule, stop=greedy_stop_rule),
    "greedy-exclusive": greedy_exclusive,
}


def _problem(env: Env, base: Problem, votes: Mapping[str, Any],
             live: Mapping[str, Mapping[str, Any]] | None) -> Problem:
    """The problem of an envelope: ``base`` itself for approval ballots, with the opinions else,
    with the exclusive groups for ``greedy-exclusive``."""
    if env.ballot == "grades":
        ballots = tuple({pid: int(g) for pid, g in b.items()} for b in envelope_opinions(env.id, live))
        return OpinionProblem(base.ids, base.costs, base.scores, base.budget, 0.0, base.quotas,
                              grade_names=env.grade_names, default_grade=env.default_grade, grade_ballots=ballots)
    if env.ballot == "for-against":
        return OpinionProblem(base.ids, base.costs, base.scores, base.budget, base.threshold, base.quotas,
                              votes_for=tuple(votes[pid]["for"] for pid in base.ids),
                              votes_against=tuple(votes[pid]["against"] for pid in base.ids))
    if env.exclusive:
        return ExclusiveProblem(base.ids, base.costs, base.scores, base.budget, base.threshold, base.quotas,
                                exclusive=tuple((name, frozenset(m)) for name, m in env.exclusive))
    return base


def check_tally(directory: Path, d: Definition, live: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Compare ``tally.json`` with :func:`recompute_tally` field by field, and check the shape of
    its superseded and rejected totals; returns the published tally.
    """
    name = "tally.json"
    t = read_json(directory, name)
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


def _savings_entry(env: Env, d: Definition, tally: Mapping[str, Any], threshold: float,
                   live: Mapping[str, Mapping[str, Any]] | None,
                   published: Mapping[str, Any] | None) -> dict[str, Any]:
    """A savings envelope (:mod:`.rules_cuts`): cuts-greedy recomputed, cuts-exact checked
    against the published set."""
    assert env.savings is not None
    projects = d.by_env[env.id]
    votes = tally["envelopes"][env.id]["projects"]
    problem = Problem(tuple(p.id for p in projects), tuple(p.cost for p in projects),
                      tuple(float(votes[p.id]["total"]) for p in projects), env.budget, threshold, (),
                      envelope_approvals(env.id, live))
    limits = sector_limits(env.savings, projects)
    if env.rule == "cuts-greedy":
        return cuts_greedy(problem, env.tie_break, limits)
    if env.rule == "cuts-exact":
        return cuts_exact(problem, env.tie_break, limits, published)
    raise fail("allocation.json", "rule_unsupported", f"savings envelope {env.id} uses rule {env.rule!r}")


def recompute_allocation(d: Definition, tally: Mapping[str, Any], threshold: float,
                         live: Mapping[str, Mapping[str, Any]] | None,
                         published: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
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
        if env.savings is not None:  # reverse PB: no quotas
            entry = _savings_entry(env, d, tally, threshold, live, (published or {}).get(env.id))
            return Problem((), (), (), env.budget, threshold), entry
        rule = ALL_RULES.get(env.rule)
        if rule is None:
            raise fail(name, "rule_unsupported",
                       f"envelope {env.id} uses rule {env.rule!r}, which this verifier cannot recompute "
                       f"(it knows {', '.join(sorted(ALL_RULES))})")
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
        problem = _problem(env, problem, votes, live)
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
    """Recompute every envelope's allocation with the verifier's own rules
    (:data:`~engine.verifier.rules_reference.RULES`) and the election-wide quotas, and compare
    with ``allocation.json`` field by field; returns the published allocation.
    """
    name = "allocation.json"
    a = read_json(directory, name)
    if not isinstance(a, dict) or not isinstance(a.get("envelopes"), dict):
        raise fail(name, "format", "needs 'threshold' and 'envelopes'")
    threshold = a.get("threshold")
    if not isinstance(threshold, int | float) or isinstance(threshold, bool):
        raise fail(name, "threshold", "must be a number")
    if set(a["envelopes"]) != {e.id for e in d.envelopes}:
        raise fail(name, "envelopes", "envelopes differ from the election's")
    recomputed = recompute_allocation(d, tally, threshold, live, a["envelopes"])
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


def check_rejected_and_adjudication(directory: Path, tally: Mapping[str, Any],
                                    signed: Mapping[str, Any] | None = None) -> int:
    """Rejection counts add up to the declared total; decisions are well-formed; the signed
    ``pending_review`` is the number of ``pending`` decisions. Returns that number."""
    total = 0
    seen: set[str] = set()
    for no, _line, e in read_jsonl(directory, "rejected.jsonl"):
        if set(e) != {"reason", "count", "description"} or not isinstance(e["count"], int) or e["count"] < 0:
            raise fail("rejected.jsonl", "fields", "a line is {reason, count >= 0, description}", no)
        if not isinstance(e["reason"], str) or e["reason"] in seen:
            raise fail("rejected.jsonl", "reason_unique", f"reason {e['reason']!r} listed twice", no)
        seen.add(e["reason"])
        total += e["count"]
    if total != tally["rejected_total"]:
        raise fail("rejected.jsonl", "total", f"counts add up to {total}, tally.json says {tally['rejected_total']}")
    pending = 0
    for no, _line, e in read_jsonl(directory, "adjudication.jsonl"):
        if set(e) != {"review", "image_sha256", "reasons", "outcome"}:
            raise fail("adjudication.jsonl", "fields", "a line is {review, image_sha256, reasons, outcome}", no)
        if e["outcome"] not in ("pending", "accepted", "rejected"):
            raise fail("adjudication.jsonl", "outcome", f"unknown outcome {e['outcome']!r}", no)
        pending += e["outcome"] == "pending"
    declared = (signed or {}).get("pending_review")
    if not isinstance(declared, int) or isinstance(declared, bool) or declared < 0:
        raise fail("manifest.json", "pending_review", f"signed.pending_review must be a count, got {declared!r}")
    if declared != pending:
        raise fail("adjudication.jsonl", "pending_review",
                   f"{pending} decisions are pending, the signed manifest says {declared}")
    return pending

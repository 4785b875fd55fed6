"""``fairness.json``: recomputed (histograms, shares, Gini) and its EJR/PJR witnesses checked.

An independent standard-library twin of ``engine/counting/fairness.py`` for the figures
that are a direct function of the ballots and the funded projects, per approval envelope
(its counted ballots sorted by receipt id, as the engine orders them for this file):

* ``voters``, ``funded``; ``funded_projects_histogram`` (share of voters with 0, 1, 2 …
  funded approved projects); ``cost_share_histogram`` (11 bins: ``0 %``, then
  ``ceil(10 · funded cost / approved cost)`` tenths); ``nothing_funded_share``;
* ``gini_cost`` / ``gini_count``: Gini of the funded approved cost / count per voter,
  compared within 1e-9 (the engine sums with numpy);
* each EJR witness is recomputed exactly (the voters approving all of ``T`` whose
  satisfaction, plus for "up to one" the dearest unfunded project of ``T``, is below
  ``cost(T)``: their number, the first 20 indices, the required size, large enough); a PJR
  witness is checked as far as its listed voters go (they approve ``T``, the group is
  large enough, their funded approved projects together cost less than ``cost(T)``).
  A ``satisfied`` verdict is the engine's bounded search, not re-run here (a note says so).

Grade and for-against envelopes: the same figures over the projects each ballot supports
(graded above the grade an ungraded project counts as, or voted ``for``: own reading of the
``project=opinion`` items, :func:`supported`), ``support`` naming it, and no EJR/PJR keys.
O(approvals + n log n).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .definition import Definition, Env
from .errors import fail
from .jsonio import read_json

NAME = "fairness.json"
COST_BINS = ("0 %", *(f"({10 * (k - 1)}, {10 * k}] %" for k in range(1, 11)))
WITNESS_VOTERS = 20


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values (0 when all are 0)."""
    v = sorted(values)
    n, total = len(v), sum(v)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum(x * (n - i) for i, x in enumerate(v))
    return (n + 1 - 2 * weighted / total) / n


def envelope_ballots(env_id: str, live: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """The approvals of each counted ballot covering ``env_id``, ballots sorted by receipt id."""
    return [list(live[r]["selections"][env_id]) for r in sorted(live) if env_id in live[r]["selections"]]


def supported(env: Env, items: Sequence[str]) -> list[str]:
    """The projects one grade / for-against selection supports (the module doc)."""
    out = []
    for item in items:
        pid, _sep, opinion = item.rpartition("=")
        if (int(opinion) > env.default_grade) if env.ballot == "grades" else opinion == "for":
            out.append(pid)
    return out


def support_words(env: Env) -> str:
    """``support`` of a grade / for-against report, as the engine writes it."""
    return f"graded above {env.grade_names[env.default_grade]!r}" if env.ballot == "grades" else "voted for"


def recompute(costs: Mapping[str, int], selected: Sequence[str], ballots: Sequence[Sequence[str]]) -> dict[str, Any]:
    """The directly computable figures of one envelope's report."""
    funded = set(selected)
    n = len(ballots)
    n_funded = [sum(1 for p in b if p in funded) for b in ballots]
    sat = [sum(costs[p] for p in b if p in funded) for b in ballots]
    appr = [sum(costs[p] for p in b) for b in ballots]
    out: dict[str, Any] = {"voters": n, "funded": len(funded)}
    if n == 0:
        out.update({"funded_projects_histogram": [], "cost_share_histogram": dict.fromkeys(COST_BINS, 0.0),
                    "nothing_funded_share": 0.0, "gini_cost": 0.0, "gini_count": 0.0})
        return out
    hist = [0] * (max(n_funded) + 1)
    for k in n_funded:
        hist[k] += 1
    bins = [0] * 11
    for s, a in zip(sat, appr, strict=True):
        bins[min(10, max(0, -((-10 * s) // a))) if a > 0 else 0] += 1
    out.update({
        "funded_projects_histogram": [c / n for c in hist],
        "cost_share_histogram": {b: c / n for b, c in zip(COST_BINS, bins, strict=True)},
        "nothing_funded_share": sum(1 for k in n_funded if k == 0) / n,
        "gini_cost": gini([float(x) for x in sat]),
        "gini_count": gini([float(x) for x in n_funded]),
    })
    return out


def check_witness(env_id: str, name: str, w: Mapping[str, Any], costs: Mapping[str, int], budget: int,
                  selected: set[str], ballots: Sequence[Sequence[str]]) -> None:
    """One EJR/PJR witness of ``fairness.json`` (see the module doc)."""
    where = f"envelope {env_id} {name}"
    t = list(w["projects"])
    if not t or any(p not in costs for p in t):
        raise fail(NAME, "witness", f"{where}: unknown or no projects {t}")
    n = len(ballots)
    cost = sum(costs[p] for p in t)
    surplus = max((costs[p] for p in t if p not in selected), default=0) if name.endswith("up_to_one") else 0
    required = -(-n * cost // budget) if budget else (0 if cost == 0 else n + 1)
    if w["required"] != required:
        raise fail(NAME, "witness", f"{where}: required {w['required']}, recomputed {required}")
    if not (w["group_size"] > 0 and w["group_size"] * budget >= n * cost):
        raise fail(NAME, "witness", f"{where}: a group of {w['group_size']} cannot pay for {t}")
    approve = [i for i, b in enumerate(ballots) if set(t) <= set(b)]
    if name.startswith("ejr"):
        group = [i for i in approve if sum(costs[p] for p in ballots[i] if p in selected) + surplus < cost]
        if w["group_size"] != len(group) or list(w["voters"]) != group[:WITNESS_VOTERS]:
            raise fail(NAME, "witness", f"{where}: the group is {len(group)} voters {group[:WITNESS_VOTERS]}, "
                       f"published {w['group_size']} {w['voters']}")
        return
    listed = list(w["voters"])
    if not set(listed) <= set(approve) or len(listed) != min(w["group_size"], WITNESS_VOTERS):
        raise fail(NAME, "witness", f"{where}: listed voters do not all approve {t}")
    union = {p for i in listed for p in ballots[i] if p in selected}
    if sum(costs[p] for p in union) + surplus >= cost:
        raise fail(NAME, "witness", f"{where}: the listed voters' funded projects cost at least {cost}")


def check_fairness(directory: Path, d: Definition, alloc: Mapping[str, Any],
                   live: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Compare ``fairness.json`` with the recomputed figures; returns notes for the report."""
    doc = read_json(directory, NAME)
    if not isinstance(doc, dict) or not isinstance(doc.get("envelopes"), dict) \
            or set(doc["envelopes"]) != {e.id for e in d.envelopes}:
        raise fail(NAME, "envelopes", "needs one entry per envelope of the election")
    notes: list[str] = []
    for env in d.envelopes:
        entry = doc["envelopes"][env.id]
        if entry.get("ballot") != env.ballot:
            raise fail(NAME, "ballot", f"envelope {env.id}: ballot {entry.get('ballot')!r}, defined {env.ballot!r}")
        report = entry.get("report")
        if not isinstance(report, dict):
            raise fail(NAME, "report", f"envelope {env.id}: no report")
        costs = {p.id: p.cost for p in d.by_env[env.id]}
        selected = list(alloc["envelopes"][env.id]["selected"])
        ballots = envelope_ballots(env.id, live)
        if env.ballot != "approval":
            mine = {**recompute(costs, selected, [supported(env, b) for b in ballots]), "support": support_words(env)}
            if set(report) != set(mine):
                raise fail(NAME, "report", f"envelope {env.id}: {env.ballot} report keys {sorted(report)}, "
                           f"expected {sorted(mine)} (no EJR/PJR on {env.ballot} ballots)")
        else:
            mine = recompute(costs, selected, ballots)
        for key, value in mine.items():
            pub = report.get(key)
            same = (abs(pub - value) <= 1e-9 if key.startswith("gini") and isinstance(pub, float) else pub == value)
            if not same:
                raise fail(NAME, key, f"envelope {env.id}: published {pub!r}, recomputed {value!r}")
        if env.ballot != "approval":
            continue
        for name in ("ejr", "ejr_up_to_one", "pjr", "pjr_up_to_one"):
            verdict = report[name]
            if verdict["satisfied"] == ("witness" in verdict):
                raise fail(NAME, "witness", f"envelope {env.id} {name}: a violation needs a witness, and only it")
            if "witness" in verdict:
                check_witness(env.id, name, verdict["witness"], costs, env.budget, set(selected), ballots)
            else:
                notes.append(f"fairness: envelope {env.id} {name} satisfied per the engine's search "
                             "(not re-run by the verifier)")
    return notes

"""The verifier's savings rules (engine/verifier/rules_cuts.py, stdlib) against the engine's
(engine/rules/cuts.py, numpy + HiGHS), field by field, on random envelopes with sector limits.

cuts-greedy is recomputed by both; cuts-exact is solved by the engine (ILP) and checked by
the verifier: an exhaustive search up to 16 eligible lines, local optimality above.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from engine.errors import TargetUnreachable
from engine.rules import AllocationProblem, ApprovalProfile
from engine.rules.cuts import SectorLimit, cuts_exact, cuts_greedy
from engine.verifier import rules_cuts
from engine.verifier.errors import VerificationFailure
from engine.verifier.rules_reference import Problem


def world(seed: int, n_lines: int) -> tuple[AllocationProblem, Problem, tuple[SectorLimit, ...],
                                             tuple[rules_cuts.SectorLimit, ...]]:
    rng = random.Random(seed)
    ids = tuple(f"L{i}" for i in range(1, n_lines + 1))
    sectors = [rng.choice("abc") for _ in ids]
    costs = tuple(rng.choice([10, 20, 25, 30, 40, 50, 80]) for _ in ids)
    ballots = [[j for j in range(n_lines) if rng.random() < 0.35] for _ in range(rng.randint(5, 25))]
    ballots = [b for b in ballots if b]
    votes = tuple(float(sum(j in b for b in ballots)) for j in range(n_lines))
    target = rng.randint(1, max(1, sum(costs) // 2))
    eng_limits, ver_limits = [], []
    for s in "abc":
        members = frozenset(i for i, x in zip(ids, sectors, strict=True) if x == s)
        if not members:
            continue
        cuts = rng.choice([None, 1, 2, 3])
        amount = rng.choice([None, 60, 100, 150])
        eng_limits.append(SectorLimit(s, members, cuts, amount))
        ver_limits.append(rules_cuts.SectorLimit(s, members, cuts, amount))
    profile = ApprovalProfile.from_ballots(n_lines, ballots)
    eng = AllocationProblem(ids, costs, votes, target, threshold=1, profile=profile)
    approvals = tuple(tuple(ids[j] for j in b) for b in ballots)
    ver = Problem(ids, costs, votes, target, 1, (), approvals)
    return eng, ver, tuple(eng_limits), tuple(ver_limits)


def _engine(rule: Any, eng: AllocationProblem, tie: str, limits: tuple[SectorLimit, ...]) -> dict[str, Any] | None:
    try:
        return dict(rule(eng, tie, limits=limits).to_dict())
    except TargetUnreachable:
        return None


@pytest.mark.parametrize("tie", ["votes-cost-id", "votes-id", "lexicographic"])
def test_greedy_and_exact_agree_with_the_engine(tie: str) -> None:
    compared = {"greedy": 0, "exact_small": 0, "exact_large": 0}
    for seed in range(60):
        n = 6 + seed % 5 if seed % 6 else 22  # every sixth envelope is above the exhaustive bound
        eng, ver, el, vl = world(seed, n)
        g = _engine(cuts_greedy, eng, tie, el)
        if g is not None:
            assert rules_cuts.cuts_greedy(ver, tie, vl) == g, seed
            compared["greedy"] += 1
        x = _engine(cuts_exact, eng, tie, el)
        if x is not None:
            assert rules_cuts.cuts_exact(ver, tie, vl, x) == x, seed
            compared["exact_small" if n <= rules_cuts.EXHAUSTIVE_MAX else "exact_large"] += 1
    assert min(compared.values()) >= 5, compared  # the random envelopes exercised every path


def test_exact_check_refuses_a_feasible_but_worse_set() -> None:
    for seed in range(40):
        eng, ver, el, vl = world(seed, 8)
        x = _engine(cuts_exact, eng, "votes-cost-id", el)
        g = _engine(cuts_greedy, eng, "votes-cost-id", el)
        if x is None or g is None or set(g["selected"]) == set(x["selected"]):
            continue
        with pytest.raises(VerificationFailure, match="exhaustive search finds"):
            rules_cuts.cuts_exact(ver, "votes-cost-id", vl, {**x, "selected": g["selected"]})
        return
    raise AssertionError("no random envelope where greedy and exact differ")


def test_exact_check_refuses_a_set_over_a_sector_limit_or_short_of_the_target() -> None:
    eng, ver, _el, _vl = world(3, 8)
    with pytest.raises(VerificationFailure, match="short of the target"):
        rules_cuts.cuts_exact(ver, "votes-cost-id", (), {"selected": []})
    everything = [i for i, v in zip(ver.ids, ver.scores, strict=True) if v >= 1]
    tight = (rules_cuts.SectorLimit("all", frozenset(ver.ids), 1, None),)
    with pytest.raises(VerificationFailure, match="sector all: .* cuts, at most 1"):
        rules_cuts.cuts_exact(ver, "votes-cost-id", tight, {"selected": everything})

"""The verifier's stdlib Method of Equal Shares gives exactly what engine/rules/mes.py publishes."""

from __future__ import annotations

import json
import random

import pytest
from helpers.rule_results import VProblem, engine_dict

from engine.rules import ELECTION_RULES, RULES, AllocationProblem, ApprovalProfile
from engine.rules.greedy import greedy
from engine.verifier.rules_reference import MES_RULES, reference_rules


def plain_greedy(p: VProblem, tie_break: str) -> dict:  # type: ignore[type-arg]
    problem = AllocationProblem(p.ids, p.costs, p.scores, p.budget, p.threshold)
    return engine_dict(greedy(problem, tie_break))


def random_case(seed: int) -> tuple[AllocationProblem, VProblem]:
    rnd = random.Random(seed)
    m = rnd.randint(2, 12)
    ids = tuple(f"P{j}" for j in range(m))
    costs = tuple(rnd.choice([rnd.randint(1, 60), 0 if rnd.random() < 0.05 else 5]) for _ in ids)
    ballots = [tuple(sorted(rnd.sample(ids, rnd.randint(1, min(4, m))))) for _ in range(rnd.randint(5, 300))]
    scores = tuple(float(sum(pid in b for b in ballots)) for pid in ids)
    budget = rnd.randint(20, 150)  # small money: add1 steps one unit at a time
    threshold = float(rnd.choice([0, 1, 3]))
    index = {pid: j for j, pid in enumerate(ids)}
    profile = ApprovalProfile.from_ballots(m, [[index[x] for x in b] for b in ballots])
    return (AllocationProblem(ids, costs, scores, budget, threshold, profile=profile),
            VProblem(ids, costs, scores, budget, threshold, (), tuple(ballots)))


REFERENCE = reference_rules(plain_greedy)


@pytest.mark.parametrize("rule", [*MES_RULES, *(r + "-comparison" for r in MES_RULES)])
@pytest.mark.parametrize("tie_break", ["votes-cost-id", "lexicographic"])
def test_reference_equals_engine(rule: str, tie_break: str) -> None:
    for seed in range(25):
        problem, vproblem = random_case(seed)
        assert REFERENCE[rule](vproblem, tie_break) == engine_dict(RULES[rule](problem, tie_break)), seed


def test_reference_exact_equals_engine() -> None:
    for seed in range(60):
        rnd = random.Random(seed)
        n = rnd.randint(1, 14)
        ids = tuple(f"P{j}" for j in range(n))
        costs = tuple(rnd.randint(1, 8) * rnd.choice([1, 1000]) for _ in ids)  # ties are common
        scores = tuple(float(rnd.randint(0, 6)) for _ in ids)
        budget = rnd.randint(1, 30) * rnd.choice([1, 1000])
        threshold = float(rnd.choice([0, 1, 2]))
        for tie_break in ("votes-cost-id", "votes-id", "lexicographic"):
            ours = RULES["exact"](AllocationProblem(ids, costs, scores, budget, threshold), tie_break)
            ref = REFERENCE["exact"](VProblem(ids, costs, scores, budget, threshold), tie_break)
            assert ref == engine_dict(ours), (seed, tie_break)


def test_reference_exact_with_quotas_equals_engine() -> None:
    """Minimums met, maximums binding, minimums no subset reaches (relaxed and reported),
    overlapping groups: the same selection, notes and quota reports as HiGHS."""
    from engine.rules.problem import Quota

    kinds: set[str] = set()
    for seed in range(80):
        rnd = random.Random(1000 + seed)
        n = rnd.randint(2, 12)
        ids = tuple(f"P{j}" for j in range(n))
        costs = tuple(rnd.randint(1, 9) * rnd.choice([1, 100]) for _ in ids)
        scores = tuple(float(rnd.randint(0, 6)) for _ in ids)
        budget = rnd.randint(5, 40) * rnd.choice([1, 100])
        quotas = []
        for k in range(rnd.randint(1, 2)):
            members = frozenset(rnd.sample(ids, rnd.randint(1, n)))
            lo = rnd.randint(0, budget // 2) if rnd.random() < 0.8 else budget + 1  # sometimes unreachable
            hi = rnd.choice([None, rnd.randint(lo, budget) if lo <= budget else None])
            quotas.append(Quota(f"q{k}", members, lo, hi))
        threshold = float(rnd.choice([0, 1]))
        for tie_break in ("votes-cost-id", "lexicographic"):
            try:
                ours = engine_dict(RULES["exact"](AllocationProblem(ids, costs, scores, budget, threshold,
                                                                    tuple(quotas)), tie_break))
            except ValueError as exc:
                with pytest.raises(ValueError, match="contradictory"):
                    REFERENCE["exact"](VProblem(ids, costs, scores, budget, threshold, tuple(quotas)), tie_break)
                kinds.add(str(exc)[:20])
                continue
            ref = REFERENCE["exact"](VProblem(ids, costs, scores, budget, threshold, tuple(quotas)), tie_break)
            assert ref == ours, (seed, tie_break)
            kinds.update("short" if r["shortfall"] else "met" for r in ours["quota_reports"])
            kinds.update("capped" for q, r in zip(quotas, ours["quota_reports"], strict=True)
                         if q.max_amount is not None and r["group_spent"] == q.max_amount)
    assert {"met", "short", "capped"} <= kinds  # the cases above were all exercised


def test_every_engine_rule_has_a_reference() -> None:
    from engine.rules import BALLOT_RULES
    from engine.verifier.counts import ALL_RULES

    # rules_reference.py greedy; greedy-exclusive: rules_greedy_variants.py
    verifiable_elsewhere = {"greedy", "greedy-stop", "greedy-exclusive"}
    assert set(ELECTION_RULES) == set(REFERENCE) | verifiable_elsewhere
    # every rule an election envelope can name is registered in the verifier (majority
    # judgment: rules_grades.py; savings envelopes' cuts rules: rules_cuts.py, by kind)
    assert set().union(*BALLOT_RULES.values()) <= set(ALL_RULES)


@pytest.mark.pabulib
@pytest.mark.parametrize("rule", ["mes-add1", "mes-greedy-comparison", "exact"])
def test_published_mes_election_passes_the_standalone_verifier(tmp_path, rule: str) -> None:  # type: ignore[no-untyped-def]
    from conftest import pabulib_dir
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from engine.formats.bundle import publish_store
    from engine.formats.pabulib import read_pabulib
    from engine.formats.pabulib_convert import ballots_from_instance, election_from_instance
    from engine.storage.store import Store
    from engine.verifier import verify_bundle

    inst = read_pabulib(pabulib_dir() / "Netherlands_Assen_2024.pb")
    election, _ = election_from_instance(inst, "assen-2024", rule)
    store = Store.open(f"sqlite:///{tmp_path / 'assen.db'}")
    store.freeze_election(election)
    store.commit_chunk(None, "assen", ballots_from_instance(inst, "Netherlands_Assen_2024.pb"))
    publish_store(store, Ed25519PrivateKey.generate(), tmp_path / "bundle", actor="test")
    store.close()
    allocation = json.loads((tmp_path / "bundle" / "allocation.json").read_text())
    assert allocation["envelopes"]["main"]["rule"] == rule
    verified = verify_bundle(tmp_path / "bundle")
    assert verified.counted == sum(1 for v in inst.votes if v.vote)

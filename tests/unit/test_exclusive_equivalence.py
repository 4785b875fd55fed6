"""greedy-exclusive elections: the engine's count and the verifier's recount agree, on seeded
random elections with exclusive groups (overlapping groups, ties, zero-vote projects).

The whole path the verifier takes: the definition goes through its canonical JSON (what
``election.json`` publishes) into ``engine.verifier.definition.parse_definition``, the
ballots become ballot-log entries, and ``recompute_tally`` + ``recompute_allocation`` are
compared field by field with the engine's ``tally`` + ``allocate_election`` output
(``AllocationResult.to_dict``, what ``allocation.json`` holds).
"""

from __future__ import annotations

import json
import random
from typing import Any

from engine.counting.allocation import ELIGIBILITY_THRESHOLD, allocate_election
from engine.counting.tally import tally
from engine.formats.election_canonical import election_to_dict
from engine.formats.election_definition import election_from_dict
from engine.model.ballots import Ballot, Channel, SourceRef
from engine.model.election import Election
from engine.model.ids import EnvelopeId, ProjectId
from engine.verifier.counts import recompute_allocation, recompute_tally
from engine.verifier.definition import parse_definition

TIE_BREAKS = ("votes-cost-id", "votes-id", "lexicographic")
COMPARED = ("rule", "tie_break", "budget", "cost", "selected", "notes", "quota_reports", "outcomes")


def random_election(rng: random.Random, n: int) -> Election:
    """One citywide and one district envelope; each greedy-exclusive with 1-3 random groups
    (members may overlap) or, one time in four, plain greedy."""
    envelopes: list[dict[str, Any]] = []
    projects: list[dict[str, Any]] = []
    for env_id, kind in (("city", "citywide"), ("dist", "district")):
        m = rng.randint(2, 11)
        ids = [f"{env_id[0].upper()}{j}" for j in range(1, m + 1)]
        costs = [rng.choice([5, 10, 10, 20, 25, 30, 40]) for _ in ids]
        env: dict[str, Any] = {"id": env_id, "name": env_id, "kind": kind, "budget": rng.randint(20, 120),
                               "max_selections": m, "tie_break": rng.choice(TIE_BREAKS)}
        if rng.random() < 0.75:
            env["rule"] = "greedy-exclusive"
            env["exclusive"] = [{"name": f"g{k}", "projects": rng.sample(ids, rng.randint(2, min(4, m)))}
                                for k in range(rng.randint(1, 3))]
        envelopes.append(env)
        projects.extend({"id": pid, "envelope": env_id, "title": pid, "cost": c} for pid, c in zip(ids, costs,
                                                                                                   strict=True))
    doc = {"election": {"id": f"random-{n}", "name": "random"}, "envelopes": envelopes, "projects": projects}
    return election_from_dict(doc, f"random-{n}")


def random_ballots(rng: random.Random, e: Election) -> list[Ballot]:
    """Voters approving a few projects each (popular projects more often, so ties and
    zero-vote projects both happen)."""
    ballots = []
    for i in range(rng.randint(1, 25)):
        selections = []
        for env in e.envelopes:
            ids = [p.id for p in e.projects_in(env.id)]
            weights = [1 + (j % 3) for j in range(len(ids))]
            chosen = {rng.choices(ids, weights)[0] for _ in range(rng.randint(0, 4))}
            if chosen:
                selections.append((EnvelopeId(env.id), tuple(sorted(ProjectId(p) for p in chosen))))
        if selections:
            ballots.append(Ballot(f"k{i}", f"v{i}", Channel.ONLINE, "2026-05-10T10:00:00.000000Z",
                                  tuple(selections), SourceRef("random.jsonl", i + 1)))
    return ballots


def test_engine_and_verifier_agree_on_random_exclusive_elections() -> None:
    rng = random.Random(20261202)
    reasons: set[str] = set()
    rules: set[str] = set()
    for n in range(300):
        e = random_election(rng, n)
        ballots = random_ballots(rng, e)
        t = tally(e, ballots)
        engine = {env_id: r.to_dict() for env_id, r in allocate_election(e, t, ballots).envelopes.items()}
        d = parse_definition(json.loads(json.dumps(election_to_dict(e))))
        live = {b.ballot_key: {"channel": "online", "selections": {env: list(p) for env, p in b.selections}}
                for b in ballots}
        mine = recompute_allocation(d, recompute_tally(d, live), ELIGIBILITY_THRESHOLD, live)
        assert set(mine) == set(engine)
        for env_id, ours in engine.items():
            for key in COMPARED:
                assert mine[env_id][key] == ours[key], (n, env_id, key)
            reasons.update(o["reason"] for o in ours["outcomes"])
            rules.add(ours["rule"])
    # the seeded cases exercised every way a project of these elections can end
    assert {"funded", "excluded", "did_not_fit", "tie_lost", "below_threshold"} <= reasons
    assert rules == {"greedy", "greedy-exclusive"}

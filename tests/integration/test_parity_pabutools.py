"""Our rules select exactly the same projects as pabutools 1.2.3 (the research reference).

Both sides read the same real ``.pb`` files from ``../shared/pabulib`` and use the same
tie-break (``lexicographic``: project id as a string, pabutools' default), exact arithmetic
on the pabutools side (its default fractions).

Scope, chosen to keep CI time bounded (pabutools is pure Python: greedy and MES take
~20 s each on the largest files here; see ``benchmarks/bench_rules.py`` for those):

* ``greedy`` and ``mes``: every instance whose ballots x projects <= ``CI_SIZE`` (the
  105 smallest of 229 files, all vote types; pabutools' ``Cost_Sat`` ignores points, so
  our side scores by approval count there too). Of the larger files only Łódź 2022 and
  Warsaw 2026 are compared (greedy, MES), in the benchmark; the ~120 others are not.
* ``exact``: max total approval (pabutools ``max_additive_utilitarian_welfare`` with
  ``Cardinality_Sat``) on the approval files of that set with <= 60 projects (pabutools
  solves it with CBC through PuLP, one process per file): the welfare must be equal (the
  selected sets may differ only between equally good optima), and equal sets when the
  optimum is unique is not asserted because ties are legitimate.
* ``mes-add1``: pabutools ``exhaustion_by_budget_increase`` with ``budget_step = n voters``
  (one currency unit per voter) on Assen 2024 (a real MES city; 84 voters, yet pabutools
  needs ~5-12 s for its 843 add1 steps). Wieliczka and Świecie are checked against their
  official outcomes in ``test_official_outcomes.py``. pabutools' add1 on Warsaw 2026
  (366 s, 10 GB) is only run by ``benchmarks/bench_rules.py --pabutools-add1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import pabulib_dir

from engine.formats.pabulib import PbInstance, allocation_problem, read_pabulib, read_pabulib_meta
from engine.rules import RULES

pytestmark = pytest.mark.pabulib

pabutools = pytest.importorskip("pabutools")
from pabutools.election import Cardinality_Sat, Cost_Sat, parse_pabulib  # noqa: E402
from pabutools.rules import (  # noqa: E402
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    max_additive_utilitarian_welfare,
    method_of_equal_shares,
)

# PBCOUNT_PARITY_SIZE raises the bound for a one-off run over more (or all) of the corpus.
CI_SIZE = int(os.environ.get("PBCOUNT_PARITY_SIZE") or 15_000)
ADD1_FILES = ["Netherlands_Assen_2024.pb"]


def _corpus_small() -> list[Path]:
    root = pabulib_dir()
    out = []
    for f in sorted(root.glob("*.pb")):
        meta = read_pabulib_meta(f)
        if int(meta["num_votes"]) * int(meta["num_projects"]) <= CI_SIZE:
            out.append(f)
    return out


@pytest.fixture(scope="module")
def small_files() -> list[tuple[Path, PbInstance]]:
    files = _corpus_small()
    assert len(files) >= 100, "the CI subset should cover most of the corpus"
    return [(f, read_pabulib(f)) for f in files]


def _names(alloc) -> set[str]:  # type: ignore[no-untyped-def]
    return {p.name for p in alloc}


def test_greedy_and_mes_match_pabutools(small_files: list[tuple[Path, PbInstance]]) -> None:
    mismatches = []
    for f, inst in small_files:
        pi, pp = parse_pabulib(str(f))
        problem = allocation_problem(inst, score="votes", apply_threshold=False)
        ours_g = set(RULES["greedy"](problem, "lexicographic").selected)
        theirs_g = _names(greedy_utilitarian_welfare(pi, pp, sat_class=Cost_Sat))
        if ours_g != theirs_g:
            mismatches.append((f.name, "greedy", sorted(ours_g ^ theirs_g)))
        ours_m = set(RULES["mes"](problem, "lexicographic").selected)
        theirs_m = _names(method_of_equal_shares(pi, pp, sat_class=Cost_Sat))
        if ours_m != theirs_m:
            mismatches.append((f.name, "mes", sorted(ours_m ^ theirs_m)))
    assert mismatches == []


def test_exact_welfare_matches_pabutools(small_files: list[tuple[Path, PbInstance]]) -> None:
    checked = 0
    for f, inst in small_files:
        if inst.vote_type != "approval" or len(inst.projects) > 60:
            continue
        pi, pp = parse_pabulib(str(f))
        problem = allocation_problem(inst, score="votes", with_profile=False, apply_threshold=False)
        ours = RULES["exact"](problem, "lexicographic")
        theirs = _names(max_additive_utilitarian_welfare(pi, pp, sat_class=Cardinality_Sat))
        score = dict(zip(problem.project_ids, problem.scores, strict=True))
        cost = dict(zip(problem.project_ids, problem.costs, strict=True))
        assert sum(cost[p] for p in ours.selected) <= problem.budget
        assert sum(score[p] for p in ours.selected) == sum(score[p] for p in theirs), f.name
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize("name", ADD1_FILES)
def test_mes_add1_matches_pabutools(name: str) -> None:
    f = pabulib_dir() / name
    pi, pp = parse_pabulib(str(f))
    theirs = exhaustion_by_budget_increase(
        pi, pp, method_of_equal_shares, {"sat_class": Cost_Sat},
        budget_step=pp.num_ballots(), exhaustive_stop=False,
    )
    ours = RULES["mes-add1"](allocation_problem(read_pabulib(f), apply_threshold=False), "lexicographic")
    assert set(ours.selected) == _names(theirs)

"""The fairness report equals pabutools' analysis functions on 30 real pabulib files.

The 30 smallest approval files of ``../shared/pabulib`` (quick for pabutools' exact
fractions), each allocated with the file's own rule where pbcount has it (else greedy).
Compared: the funded-projects histogram (``satisfaction_histogram`` with
``Cardinality_Sat``), the cost-share histogram (``satisfaction_histogram`` with 11 bins
of a satisfaction measure "approved cost funded / approved cost"), the share of voters
with nothing funded (``1 - percent_non_empty_handed``) and the Gini coefficients
(``gini_coefficient_of_satisfaction`` with ``Cost_Sat`` and ``Cardinality_Sat``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import pabulib_dir

from engine.counting.fairness import COST_BINS, fairness_report
from engine.formats.pabulib import allocation_problem, official_rule, read_pabulib, read_pabulib_meta
from engine.rules import PROFILE_RULES, RULES

pytestmark = pytest.mark.pabulib
N_FILES = 30


def smallest_approval_files() -> list[Path]:
    files = sorted(pabulib_dir().glob("*.pb"), key=lambda f: f.stat().st_size)
    return [f for f in files if read_pabulib_meta(f).get("vote_type") == "approval"][:N_FILES]


def test_fairness_equals_pabutools_on_30_files() -> None:
    pytest.importorskip("pabutools")
    from pabutools.analysis.votersatisfaction import (
        gini_coefficient_of_satisfaction,
        percent_non_empty_handed,
        satisfaction_histogram,
    )
    from pabutools.election import Cardinality_Sat, Cost_Sat, parse_pabulib, total_cost
    from pabutools.election.satisfaction.additivesatisfaction import AdditiveSatisfaction
    from pabutools.fractions import frac

    class ShareOfApprovedCost(AdditiveSatisfaction):  # funded approved cost / approved cost
        def __init__(self, instance, profile, ballot) -> None:  # type: ignore[no-untyped-def]
            whole = total_cost(ballot)
            AdditiveSatisfaction.__init__(
                self, instance, profile, ballot,
                lambda i, pr, b, p, pre: frac(p.cost, whole) if whole and p in b else 0)

    files = smallest_approval_files()
    assert len(files) == N_FILES
    for f in files:
        inst = read_pabulib(f)
        try:
            rule = official_rule(inst)
        except ValueError:
            rule = "greedy"
        problem = allocation_problem(inst)
        result = RULES[rule](problem, "votes-cost-id") if rule in PROFILE_RULES or rule in RULES else None
        assert result is not None
        ours = fairness_report(problem, result)
        pb_inst, pb_prof = parse_pabulib(str(f))
        funded = [pb_inst.get_project(pid) for pid in result.selected]
        top = len(ours["funded_projects_histogram"]) - 1
        counts = satisfaction_histogram(pb_inst, pb_prof, funded, Cardinality_Sat, max(top, 1), max(top, 1) + 1)
        assert ours["funded_projects_histogram"] == pytest.approx([float(x) for x in counts[:top + 1]]), f.name
        shares = satisfaction_histogram(pb_inst, pb_prof, funded, ShareOfApprovedCost, 1, 11)
        assert list(ours["cost_share_histogram"].values()) == pytest.approx([float(x) for x in shares]), f.name
        assert list(ours["cost_share_histogram"]) == list(COST_BINS)
        assert ours["nothing_funded_share"] == pytest.approx(
            1 - float(percent_non_empty_handed(pb_inst, pb_prof, funded))), f.name
        assert ours["gini_cost"] == pytest.approx(
            float(gini_coefficient_of_satisfaction(pb_inst, pb_prof, funded, Cost_Sat)), abs=1e-12), f.name
        assert ours["gini_count"] == pytest.approx(
            float(gini_coefficient_of_satisfaction(pb_inst, pb_prof, funded, Cardinality_Sat)), abs=1e-12), f.name

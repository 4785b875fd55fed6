"""Pricing by types of interchangeable people (engine/sortition/pricing.py) finds panels as
heavy as the per-person ILP (engine/sortition/maximin.py ``_best_panel``), and valid ones."""

from __future__ import annotations

import random

import numpy as np
import pytest

from engine.sortition import parse_features, parse_pool
from engine.sortition.maximin import _best_panel, panel_rows
from engine.sortition.pricing import best_panel_by_type, person_types
from fixtures.sortition_pool import sortition_world


@pytest.mark.parametrize("households", [False, True])
def test_typed_pricing_matches_the_per_person_ilp(households: bool) -> None:
    pool_text, features_text = sortition_world(80, 12)
    if households:  # pairs of neighbours share an address: the household rule splits types
        lines = pool_text.splitlines()
        pool_text = "\n".join([lines[0] + ",address"] + [f"{x},a{k // 2}" for k, x in enumerate(lines[1:])]) + "\n"
    f = parse_features(features_text)
    p = parse_pool(pool_text, f, address_columns=("address",) if households else ())
    rows = panel_rows(p, f, 12)
    upper = np.ones(len(p.ids))
    types = person_types(rows, upper)
    assert sum(len(t) for t in types) == len(p.ids)
    assert len(types) <= (len(p.ids) if households else 60)  # 3 x 4 x 5 feature combinations at most
    rng = random.Random(4)
    for _ in range(12):
        w = np.array([rng.choice([0.0, 0.0, rng.random()]) for _ in p.ids])
        mine = best_panel_by_type(w, rows, types)
        ref = _best_panel(w, rows, upper)
        assert mine is not None and ref is not None
        assert abs(sum(w[i] for i in mine) - sum(w[i] for i in ref)) < 1e-9
        x = np.zeros(len(p.ids))
        x[list(mine)] = 1
        for coeffs, lo, hi in rows:  # every quota, the size and the household rule hold
            assert lo - 1e-9 <= sum(v * x[i] for i, v in coeffs.items()) <= hi + 1e-9

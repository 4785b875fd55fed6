"""record_summary (engine/sortition/summary.py): quota counts of the panel, probability spread,
on hand-made record files and on the documented fixture draw (counts checked by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.errors import SortitionInputError
from engine.sortition import parse_features, parse_pool
from engine.sortition.record import build_record
from engine.sortition.summary import record_summary

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sortition"


def hand_files(probs: list[tuple[int, int]], panel: list[str]) -> dict[str, bytes]:
    ids = ["A1", "A2", "A3", "A4", "A5"][: len(probs)]
    genders = ["f", "m", "f", "m", "f"]
    ages = ["young", "young", "old", "old", "old"]
    pool = "id,gender,age\n" + "".join(f"{i},{genders[k]},{ages[k]}\n" for k, i in enumerate(ids))
    return {
        "pool.csv": pool.encode(),
        "features.csv": b"feature,value,min,max\ngender,f,1,1\ngender,m,1,2\nage,young,0,1\nage,old,1,2\n",
        "record.json": json.dumps({"method": "leximin", "algorithm": "leximin-colgen/2", "size": len(panel),
                                   "seed": "s", "pool_sha256": "ab", "features_sha256": "cd",
                                   "probabilities_exact": True}).encode(),
        "probabilities.csv": ("id,numerator,denominator,probability\n" + "".join(
            f"{i},{a},{b},{a / b:.9f}\n" for i, (a, b) in zip(ids, probs, strict=True))).encode(),
        "panel.csv": ("id\n" + "".join(f"{p}\n" for p in panel)).encode(),
    }


def test_counts_and_probabilities_by_hand() -> None:
    # panel A2 (m, young), A3 (f, old), A4 (m, old): f 1, m 2, young 1, old 2
    s = record_summary(hand_files([(1, 2), (1, 4), (3, 4), (1, 2), (1, 1)], ["A2", "A3", "A4"]))
    assert [(q.feature, q.value, q.min, q.max, q.panel_count, q.met) for q in s.quotas] == [
        ("gender", "f", 1, 1, 1, True), ("gender", "m", 1, 2, 2, True),
        ("age", "young", 0, 1, 1, True), ("age", "old", 1, 2, 2, True)]
    assert s.panel == ("A2", "A3", "A4") and s.pool_size == 5 and s.size == 3
    # sorted: 1/4, 1/2, 1/2, 3/4, 1
    assert (s.probabilities.min, s.probabilities.median, s.probabilities.max) == (0.25, 0.5, 1.0)
    assert s.probabilities.exact is True
    doc = s.to_dict()
    assert doc["quotas"][1] == {"feature": "gender", "value": "m", "min": 1, "max": 2, "panel_count": 2,
                                "met": True}
    json.dumps(doc)


def test_even_median_and_a_missed_quota() -> None:
    # 1/4, 1/2, 3/4, 1: median (1/2 + 3/4) / 2 = 5/8; panel A1 A3 (f, f): f 2 > max 1, m 0 < min 1
    s = record_summary(hand_files([(1, 4), (2, 4), (3, 4), (4, 4)], ["A1", "A3"]))
    assert s.probabilities.median == 0.625
    counts = {(q.feature, q.value): (q.panel_count, q.met) for q in s.quotas}
    assert counts == {("gender", "f"): (2, False), ("gender", "m"): (0, False), ("age", "young"): (1, True),
                      ("age", "old"): (1, True)}


def test_a_panel_member_outside_the_pool_is_refused() -> None:
    with pytest.raises(SortitionInputError, match="panel.csv: Z9 not in pool.csv"):
        record_summary(hand_files([(1, 2)] * 5, ["A1", "Z9"]))
    files = hand_files([(1, 2)] * 5, ["A1"])
    del files["probabilities.csv"]
    with pytest.raises(SortitionInputError, match="no probabilities.csv"):
        record_summary(files)


def test_the_documented_fixture_draw() -> None:
    feats = parse_features((FIXTURES / "features.csv").read_text(), "features.csv")
    pool = parse_pool((FIXTURES / "pool.csv").read_text(), feats, "pool.csv", ("household",))
    _, files = build_record(pool, feats, 4, "drand quicknet round 12345678: 8e2b4c", Ed25519PrivateKey.generate())
    s = record_summary(files)
    assert s.panel == ("R02", "R04", "R07", "R11")  # docs/sortition.md
    # R02 m 16-29 north, R04 m 30-59 south, R07 f 30-59 south, R11 f 60+ north
    assert {f"{q.feature}={q.value}": q.panel_count for q in s.quotas} == {
        "gender=f": 2, "gender=m": 2, "age=16-29": 1, "age=30-59": 2, "age=60+": 1,
        "district=north": 2, "district=south": 2}
    third = 1 / 3
    assert s.probabilities.min == pytest.approx(third, abs=1e-9)
    assert s.probabilities.max == pytest.approx(third, abs=1e-9)
    assert s.seed == "drand quicknet round 12345678: 8e2b4c" and s.algorithm == "leximin-types/1"
    assert s.pool_sha256 == json.loads(files["record.json"])["pool_sha256"]

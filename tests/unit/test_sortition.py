"""Sortition core (engine/sortition): seed stream, inputs, maximin lottery, urns, infeasibility."""

from __future__ import annotations

import hashlib
import math
import random
from fractions import Fraction

import pytest

from engine.sortition import SeedStream, SortitionInputError, draw, parse_features, parse_pool
from engine.sortition.draw import draw_from_lottery
from engine.sortition.leximin_types import TypeLottery, draw_from_types, leximin_types
from engine.sortition.maximin import maximin, meets_quotas
from engine.sortition.pool import Pool


def pool_csv(rows: list[tuple[str, ...]], header: str = "id,gender,age") -> str:
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


def random_pool(rng: random.Random, n: int) -> str:
    rows = [(f"P{i}", rng.choice("ffmmx" if i % 7 else "x"), rng.choice(["young", "mid", "old"]),
             rng.choice(["d1", "d2"])) for i in range(n)]
    return pool_csv(rows, "id,gender,age,district")


FEATURES = """feature,value,min,max
gender,f,3,4
gender,m,3,4
gender,x,1,2
age,young,2,4
age,mid,2,4
age,old,2,4
district,d1,3,5
district,d2,3,5
"""


# --- the seed stream: an independent re-implementation of the documented derivation -------------

def documented_below(seed: str, n: int, count: int) -> list[int]:
    data = b"".join(hashlib.sha256(b"pbcount-sortition-v1\x00" + seed.encode() + b"\x00" + j.to_bytes(8, "big"))
                    .digest() for j in range(count))
    out, limit = [], 2**64 - (2**64 % n)
    for k in range(0, len(data), 8):
        x = int.from_bytes(data[k:k + 8], "big")
        if x < limit:
            out.append(x % n)
    return out


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 2**32 + 3, 2**63 + 1])
def test_seed_stream_follows_the_documented_derivation(n: int) -> None:
    s = SeedStream("drand round 4242: 9f8e…")
    ours = [s.below(n) for _ in range(20)]
    assert ours == documented_below("drand round 4242: 9f8e…", n, 12)[:20]


def test_seed_stream_rejects_empty_seed_and_bad_n() -> None:
    with pytest.raises(ValueError, match="empty"):
        SeedStream("")
    with pytest.raises(ValueError):
        SeedStream("x").below(0)


# --- inputs -----------------------------------------------------------------------------------

def test_input_errors_name_file_line_and_reason() -> None:
    f = parse_features("feature,value,min,max\ngender,f,1,2\ngender,m,1,2\n")
    with pytest.raises(SortitionInputError, match=r"pool.csv line 3: P2 has gender='X', not a value .*\(f, m\)"):
        parse_pool(pool_csv([("P1", "f", "a"), ("P2", "X", "a")]), f)
    with pytest.raises(SortitionInputError, match="line 3: id 'P1' appears twice"):
        parse_pool(pool_csv([("P1", "f", "a"), ("P1", "m", "a")]), f)
    with pytest.raises(SortitionInputError, match="line 1: missing column.s. gender"):
        parse_pool("id,sex\nP1,f\n", f)
    with pytest.raises(SortitionInputError, match="features.csv line 2: gender=f needs 0 <= min <= max"):
        parse_features("feature,value,min,max\ngender,f,3,2\n")
    with pytest.raises(SortitionInputError, match="line 3: gender=f listed twice"):
        parse_features("feature,value,min,max\ngender,f,1,2\ngender,f,1,2\n")
    with pytest.raises(SortitionInputError, match="line 2: min and max must be whole numbers"):
        parse_features("feature,value,min,max\ngender,f,one,2\n")


def test_pool_ignores_other_columns_and_sorts_ids_naturally() -> None:
    f = parse_features("feature,value,min,max\ngender,f,0,2\ngender,m,0,2\n")
    p = parse_pool("id,name,gender\nP10,Alice,f\nP9,Bob,m\nP2,Eve,f\n", f)
    assert p.ids == ("P2", "P9", "P10")
    assert "Alice" not in p.csv_text() and p.csv_text().startswith("id,gender\n")


def test_households_become_opaque_groups() -> None:
    f = parse_features("feature,value,min,max\ngender,f,0,3\ngender,m,0,3\n")
    text = "id,gender,street,zip\nA,f,1 Rue X,75001\nB,m,1 rue x,75001\nC,f,2 Rue X,75001\n"
    p = parse_pool(text, f, address_columns=("street", "zip"))
    assert p.household == (1, 1, 2)
    assert "Rue" not in p.csv_text()


# --- infeasibility, explained ------------------------------------------------------------------

def test_too_few_people_for_a_minimum() -> None:
    f = parse_features("feature,value,min,max\ngender,f,3,3\ngender,m,1,1\n")
    p = parse_pool(pool_csv([("P1", "f", "a"), ("P2", "f", "a"), ("P3", "m", "a"), ("P4", "m", "a")]), f)
    with pytest.raises(SortitionInputError, match="gender=f: at least 3 wanted but the pool has only 2"):
        draw(p, f, 4, "seed")


def test_minimums_and_maximums_against_the_size() -> None:
    f = parse_features("feature,value,min,max\ngender,f,3,4\ngender,m,3,4\n")
    p = parse_pool(pool_csv([(f"P{i}", "fm"[i % 2], "a") for i in range(20)]), f)
    with pytest.raises(SortitionInputError, match="gender: the minimums add up to 6, more than the panel size 5"):
        draw(p, f, 5, "seed")
    with pytest.raises(SortitionInputError, match="gender: the maximums add up to 8, less than the panel size 9"):
        draw(p, f, 9, "seed")


def test_jointly_infeasible_quotas_name_the_feature_value() -> None:
    # every woman is young; at least 3 women but at most 2 young people
    rows = [("P1", "f", "young"), ("P2", "f", "young"), ("P3", "f", "young"),
            ("P4", "m", "old"), ("P5", "m", "old"), ("P6", "m", "young")]
    f = parse_features("feature,value,min,max\ngender,f,3,3\ngender,m,0,3\nage,young,0,2\nage,old,0,4\n")
    p = parse_pool(pool_csv(rows), f)
    with pytest.raises(SortitionInputError) as err:
        draw(p, f, 4, "seed")
    msg = str(err.value)
    assert msg.startswith("no panel meets the quotas: ")
    assert ("gender=f: at least 3 wanted, at most 2 possible" in msg
            or "age=young: at most 2 wanted, at least 3 needed" in msg)


def test_household_rule_can_make_the_panel_impossible() -> None:
    f = parse_features("feature,value,min,max\ngender,f,0,3\ngender,m,0,3\n")
    p = parse_pool("id,gender,addr\nA,f,1\nB,m,1\nC,f,2\n", f, address_columns=("addr",))
    with pytest.raises(SortitionInputError, match="exceeds the number of households .2."):
        draw(p, f, 3, "seed")


# --- maximin: quotas met, fairness as promised ------------------------------------------------

@pytest.mark.parametrize(("method", "trials"), [("maximin", 12), ("leximin", 5)])
def test_quotas_always_met_when_feasible(method: str, trials: int) -> None:
    rng = random.Random(2026)
    f = parse_features(FEATURES)
    checked = 0
    for trial in range(trials):
        text = random_pool(rng, rng.randint(25, 45))
        p = parse_pool(text, f)
        try:
            r = draw(p, f, 9, f"trial {trial}", method)
        except SortitionInputError as exc:
            assert "wanted" in str(exc) or "add up" in str(exc)  # explained, never a crash
            continue
        assert r.lottery is not None
        for panel in lottery_panels(r.lottery):
            assert meets_quotas(p, f, 9, panel) == []
        assert meets_quotas(p, f, 9, r.panel) == []
        checked += 1
    assert checked >= trials * 2 // 3


def test_maximin_hand_checked() -> None:
    # 6 women, 2 men, 2 seats each: men must both sit (1), women share 2 seats (1/3 each, the maximin)
    f = parse_features("feature,value,min,max\ngender,f,2,2\ngender,m,2,2\n")
    rows = [(f"W{i}", "f", "a") for i in range(6)] + [("M1", "m", "a"), ("M2", "m", "a")]
    p = parse_pool(pool_csv(rows), f)
    lot = maximin(p, f, 4)
    probs = {p.ids[i]: Fraction(a, b) for i, (a, b) in enumerate(lot.probabilities(len(p.ids)))}
    assert probs["M1"] == probs["M2"] == 1
    for i in range(6):
        assert abs(float(probs[f"W{i}"]) - 1 / 3) < 1e-6
    assert sum(probs.values()) == 4


def test_people_on_no_panel_get_probability_zero() -> None:
    f = parse_features("feature,value,min,max\ngender,f,1,2\ngender,m,1,2\ngender,x,0,0\n")
    rows = [("A", "f", "a"), ("B", "f", "a"), ("C", "m", "a"), ("D", "m", "a"), ("E", "x", "a")]
    p = parse_pool(pool_csv(rows), f)
    r = draw(p, f, 2, "s")
    assert r.lottery is not None and [p.ids[i] for i in r.lottery.impossible] == ["E"]
    assert r.probabilities[p.ids.index("E")][0] == 0
    assert all(abs(a / b - 0.5) < 1e-6 for i, (a, b) in enumerate(r.probabilities) if p.ids[i] != "E")


def test_household_rule_is_respected() -> None:
    f = parse_features("feature,value,min,max\ngender,f,1,2\ngender,m,1,2\n")
    text = "id,gender,addr\n" + "".join(f"P{i},{'fm'[i % 2]},{i // 2}\n" for i in range(10))
    p = parse_pool(text, f, address_columns=("addr",))
    lot = maximin(p, f, 3)
    for panel in lot.panels:
        assert meets_quotas(p, f, 3, panel) == []
        assert len({p.household[i] for i in panel}) == 3  # type: ignore[index]


def test_same_seed_same_panel_different_seed_different_panel() -> None:
    f = parse_features(FEATURES)
    p = parse_pool(random_pool(random.Random(5), 40), f)
    a, b = draw(p, f, 9, "2026-12-01 lottery 7 12 19 33 41"), draw(p, f, 9, "2026-12-01 lottery 7 12 19 33 41")
    assert a == b
    c = draw(p, f, 9, "2026-12-01 lottery 7 12 19 33 42")
    assert c.panel != a.panel and c.ticket != a.ticket
    assert c.lottery == a.lottery  # the lottery depends on the inputs only, the seed picks the ticket


def lottery_panels(lot):  # type: ignore[no-untyped-def]
    """The panels of a lottery; of a type lottery, one realisation of each composition (the
    first members of each type: any other is the same up to interchangeable people)."""
    if isinstance(lot, TypeLottery):
        return [tuple(sorted(i for members, c in zip(lot.types, comp, strict=True) for i in members[:c]))
                for comp in lot.compositions]
    return list(lot.panels)


def _assert_draws_follow(lot, n: int, label: str) -> None:  # type: ignore[no-untyped-def]
    """4000 draws from ``lot`` (seeds ``"<label> <k>"``) hit each of the ``n`` people within
    4.5 standard deviations of the probability the lottery promises them."""
    draws = 4000
    hits = [0] * n
    pick = draw_from_types if isinstance(lot, TypeLottery) else draw_from_lottery
    for k in range(draws):
        for i in pick(lot, SeedStream(f"{label} {k}"))[1]:
            hits[i] += 1
    for i, (a, b) in enumerate(lot.probabilities(n)):
        q = a / b
        assert abs(hits[i] / draws - q) <= 4.5 * math.sqrt(q * (1 - q) / draws) + 1e-9, (i, hits[i] / draws, q)


def test_empirical_frequencies_match_the_promised_probabilities() -> None:
    f = parse_features(FEATURES)
    p = parse_pool(random_pool(random.Random(11), 36), f)
    lot = maximin(p, f, 9)
    _assert_draws_follow(lot, len(p.ids), "statistical test")
    probs = [a / b for i, (a, b) in enumerate(lot.probabilities(len(p.ids))) if i not in lot.impossible]
    assert min(probs) > 0 and abs(sum(a / b for a, b in lot.probabilities(len(p.ids))) - 9) < 1e-9


# --- urns ---------------------------------------------------------------------------------------

def urn_pool() -> tuple[Pool, object]:
    f = parse_features("feature,value,min,max\ngender,f,2,2\ngender,m,2,2\nage,a,0,4\nage,b,0,4\n")
    rows = [(f"W{i}", "f", "ab"[i % 2]) for i in range(6)] + [(f"M{i}", "m", "a") for i in range(4)]
    return parse_pool(pool_csv(rows), f), f


def test_urns_alternate_and_probabilities_are_exact() -> None:
    p, f = urn_pool()
    r = draw(p, f, 4, "urn seed", "urns", "gender")  # type: ignore[arg-type]
    assert [p.value(i, "gender") for i in r.draw_order] == ["f", "m", "f", "m"]
    assert r.exact_probabilities
    probs = {p.ids[i]: Fraction(a, b) for i, (a, b) in enumerate(r.probabilities)}
    assert probs["W0"] == Fraction(2, 6) and probs["M0"] == Fraction(2, 4)
    hits = dict.fromkeys(p.ids, 0)
    for k in range(3000):
        for i in draw(p, f, 4, f"u{k}", "urns", "gender").panel:  # type: ignore[arg-type]
            hits[p.ids[i]] += 1
    for pid, q in probs.items():
        assert abs(hits[pid] / 3000 - float(q)) <= 4.5 * math.sqrt(float(q) * (1 - float(q)) / 3000)


def test_urns_need_a_known_feature_and_report_unmet_quotas() -> None:
    p, f = urn_pool()
    with pytest.raises(SortitionInputError, match="urns method needs --urn-feature"):
        draw(p, f, 4, "s", "urns")  # type: ignore[arg-type]
    with pytest.raises(SortitionInputError, match="urn feature 'sex' is not in the features file"):
        draw(p, f, 4, "s", "urns", "sex")  # type: ignore[arg-type]
    r = draw(p, f, 6, "s", "urns", "gender")  # type: ignore[arg-type]
    assert any(q.startswith("gender=f: 3 members, quota 2..2") for q in r.quota_problems)


def test_urns_with_households_estimate_probabilities() -> None:
    f = parse_features("feature,value,min,max\ngender,f,1,1\ngender,m,1,1\n")
    p = parse_pool("id,gender,addr\nA,f,1\nB,m,1\nC,f,2\nD,m,3\n", f, address_columns=("addr",))
    r = draw(p, f, 2, "s", "urns", "gender")
    assert not r.exact_probabilities
    assert len({p.household[i] for i in r.panel}) == 2  # type: ignore[index]
    est = {p.ids[i]: a / b for i, (a, b) in enumerate(r.probabilities)}
    # A or C is drawn first (1/2 each); if A, the men's urn holds only D, else B or D
    assert abs(est["A"] - 0.5) < 0.05 and abs(est["D"] - 0.75) < 0.05 and abs(est["B"] - 0.25) < 0.05


# --- proposals: the same code with other columns ---------------------------------------------

def test_proposals_with_category_quotas() -> None:
    f = parse_features("feature,value,min,max\ncategory,green,1,2\ncategory,culture,1,2\ncategory,sport,1,2\n")
    text = "id,category,title\n" + "".join(
        f"PR{i},{['green', 'culture', 'sport'][i % 3]},Proposal {i}\n" for i in range(1, 16))
    p = parse_pool(text, f)
    r = draw(p, f, 4, "proposals seed")
    assert len(r.panel) == 4 and meets_quotas(p, f, 4, r.panel) == []
    assert all(abs(a / b - 4 / 15) < 1e-6 for a, b in r.probabilities)  # symmetric: all equal


# --- leximin ----------------------------------------------------------------------------------

def sorted_probs(lot: object, n: int) -> list[float]:
    return sorted(a / b for a, b in lot.probabilities(n))  # type: ignore[attr-defined]


def test_leximin_hand_checked() -> None:
    # men: 2 seats for 2 (probability 1); women: 2 seats for 6, at most 1 of them old (W0-W2).
    # If the old women fill t seats on average (t <= 1), each old woman has t/3 and each other
    # woman (2 - t)/3; the smallest is largest at t = 1: everyone 1/3.
    f = parse_features("feature,value,min,max\ngender,f,2,2\ngender,m,2,2\nage,a,0,4\nage,old,0,1\n")
    rows = [(f"W{i}", "f", "old" if i < 3 else "a") for i in range(6)] + [("M1", "m", "a"), ("M2", "m", "a")]
    p = parse_pool(pool_csv(rows), f)
    from engine.sortition.leximin import leximin

    probs = {p.ids[i]: a / b for i, (a, b) in enumerate(leximin(p, f, 4).probabilities(len(p.ids)))}
    assert all(abs(probs[f"W{i}"] - 1 / 3) < 1e-6 for i in range(6))
    assert abs(probs["M1"] - 1) < 1e-9 and abs(probs["M2"] - 1) < 1e-9


def test_leximin_strictly_fairer_than_an_arbitrary_maximin() -> None:
    # maximin only guarantees the minimum; leximin also raises the next ones: its sorted
    # probability vector is lexicographically at least maximin's, strictly on some pools.
    from engine.sortition.leximin import leximin

    rng = random.Random(99)
    f = parse_features(FEATURES)
    strictly = 0
    for _ in range(4):
        p = parse_pool(random_pool(rng, 32), f)
        try:
            mx, lx = maximin(p, f, 9), leximin(p, f, 9)
        except SortitionInputError:
            continue
        a, b = sorted_probs(mx, len(p.ids)), sorted_probs(lx, len(p.ids))
        assert abs(a[0] - b[0]) < 1e-6  # the same minimum
        for u, v in zip(a, b, strict=True):  # lexicographically at least as good
            if abs(u - v) > 1e-6:
                assert v > u
                strictly += 1
                break
        for panel in lx.panels:
            assert meets_quotas(p, f, 9, panel) == []
    assert strictly >= 1


def test_leximin_frequencies_match_its_promise() -> None:
    from engine.sortition.leximin import leximin

    f = parse_features(FEATURES)
    p = parse_pool(random_pool(random.Random(11), 36), f)
    lot = leximin(p, f, 9)
    _assert_draws_follow(lot, len(p.ids), "leximin statistical test")


# --- leximin over types (leximin-types/1, the default) ---------------------------------------

@pytest.mark.parametrize("households", [False, True])
def test_type_leximin_gives_the_per_person_leximin_probabilities(households: bool) -> None:
    """Two implementations (one LP column per person / per type of interchangeable people)
    of one definition: the leximin probabilities are unique, so they must agree per person."""
    from engine.sortition.leximin import leximin

    rng = random.Random(31 + households)
    f = parse_features(FEATURES)
    compared = 0
    for _ in range(6):
        text = random_pool(rng, rng.randint(24, 40))
        if households:  # every third person shares an address with the next one
            lines = text.splitlines()
            lines[0] += ",street"
            lines[1:] = [f"{line},S{k // 3 if k % 3 < 2 else 1000 + k}" for k, line in enumerate(lines[1:])]
            text = "\n".join(lines) + "\n"
        p = parse_pool(text, f, address_columns=("street",) if households else ())
        try:
            per_person, per_type = leximin(p, f, 9), leximin_types(p, f, 9)
        except SortitionInputError:
            continue
        a = [x / y for x, y in per_person.probabilities(len(p.ids))]
        b = [x / y for x, y in per_type.probabilities(len(p.ids))]
        assert max(abs(u - v) for u, v in zip(a, b, strict=True)) < 1e-6
        assert per_type.impossible == per_person.impossible
        for panel in lottery_panels(per_type):
            assert meets_quotas(p, f, 9, panel) == []
        compared += 1
    assert compared >= 3


def test_type_leximin_frequencies_match_its_promise_within_types_too() -> None:
    f = parse_features(FEATURES)
    p = parse_pool(random_pool(random.Random(11), 36), f)
    lot = leximin_types(p, f, 9)
    assert any(len(members) > 1 for members in lot.types)  # the second step (members of a type) is exercised
    _assert_draws_follow(lot, len(p.ids), "type leximin statistical test")


def test_type_leximin_draws_from_a_pool_of_two_thousand() -> None:
    """The per-person leximin did not finish in 15 minutes at 1,000 people (docs/sortition.md)."""
    from fixtures.sortition_pool import sortition_world

    pool_text, features_text = sortition_world(2000, 60)
    f = parse_features(features_text)
    p = parse_pool(pool_text, f)
    r = draw(p, f, 60, "drand 9000000 abcdef")
    assert r.algorithm_version == "leximin-types/1" and meets_quotas(p, f, 60, r.panel) == []
    probs = [a / b for a, b in r.probabilities]
    assert abs(sum(probs) - 60) < 1e-6 and min(probs) > 0


def test_an_unknown_algorithm_version_is_refused() -> None:
    f = parse_features(FEATURES)
    p = parse_pool(random_pool(random.Random(5), 40), f)
    with pytest.raises(SortitionInputError, match="unknown algorithm 'leximin-colgen/9'"):
        draw(p, f, 9, "s", "leximin", algorithm="leximin-colgen/9")


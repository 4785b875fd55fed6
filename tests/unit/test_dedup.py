"""Precedence rules: one counted ballot per voter, every other one kept with a reason."""

from __future__ import annotations

import random

import pytest

from engine.counting.dedup import resolve
from engine.model.ballots import Ballot, Channel, SourceRef, ballot_key


def mk(serial: str, channel: Channel, cast_at: str, sel: str = "P1") -> Ballot:
    selections = (("env", (sel,)),)
    return Ballot(ballot_key(channel, serial, cast_at, selections, None), serial, channel, cast_at,
                  selections, SourceRef("t", 1))


ON, PA = Channel.ONLINE, Channel.PAPER


def test_single_ballot_counts() -> None:
    b = mk("A", ON, "2026-01-01T10:00:00Z")
    r = resolve([b], "paper-first")
    assert r.counted == (b,) and r.superseded == ()


def test_paper_beats_online_even_if_online_later() -> None:
    on = mk("A", ON, "2026-01-02T10:00:00Z")
    pa = mk("A", PA, "")
    r = resolve([on, pa], "paper-first")
    assert r.counted == (pa,)
    assert [(s.ballot, s.reason, s.by) for s in r.superseded] == [(on, "superseded_by_paper", pa.ballot_key)]


def test_latest_online_counts() -> None:
    first = mk("A", ON, "2026-01-01T10:00:00Z", "P1")
    second = mk("A", ON, "2026-01-03T10:00:00Z", "P2")
    third = mk("A", ON, "2026-01-02T10:00:00Z", "P3")
    r = resolve([first, second, third], "paper-first")
    assert r.counted == (second,)
    assert {s.ballot.cast_at for s in r.superseded} == {first.cast_at, third.cast_at}
    assert {s.reason for s in r.superseded} == {"superseded_by_later_online"}


def test_two_paper_ballots_earliest_counts_other_flagged() -> None:
    p1 = mk("A", PA, "2026-01-05T09:00:00Z", "P1")
    p2 = mk("A", PA, "2026-01-05T11:00:00Z", "P2")
    r = resolve([p2, p1], "paper-first")
    assert r.counted == (p1,)
    assert r.superseded[0].reason == "duplicate_paper_ballot"


def test_online_first() -> None:
    on = mk("A", ON, "2026-01-01T10:00:00Z")
    pa = mk("A", PA, "2026-01-05T10:00:00Z")
    r = resolve([pa, on], "online-first")
    assert r.counted == (on,) and r.superseded[0].reason == "superseded_by_online"


def test_latest_across_channels() -> None:
    on = mk("A", ON, "2026-01-06T10:00:00Z")
    pa = mk("A", PA, "2026-01-05T10:00:00Z")
    r = resolve([pa, on], "latest")
    assert r.counted == (on,) and r.superseded[0].reason == "superseded_by_later_ballot"


def test_equal_times_tie_broken_by_key_not_order() -> None:
    a = mk("A", ON, "2026-01-01T10:00:00Z", "P1")
    b = mk("A", ON, "2026-01-01T10:00:00Z", "P2")
    winner = max([a, b], key=lambda x: x.ballot_key)
    assert resolve([a, b], "paper-first").counted == (winner,)
    assert resolve([b, a], "paper-first").counted == (winner,)


def test_unknown_rule() -> None:
    with pytest.raises(ValueError):
        resolve([mk("A", ON, "x"), mk("A", ON, "y")], "coin-flip")


@pytest.mark.parametrize("rule", ["paper-first", "online-first", "latest"])
def test_order_independent_and_nothing_lost(rule: str) -> None:
    rng = random.Random(5)
    ballots = [
        mk(f"V{rng.randrange(40)}", rng.choice([ON, PA]), f"2026-01-{rng.randrange(1, 28):02d}T10:00:00Z",
           f"P{i}")
        for i in range(300)
    ]
    r1 = resolve(ballots, rule)
    shuffled = ballots[:]
    rng.shuffle(shuffled)
    r2 = resolve(shuffled, rule)
    assert r1 == r2
    assert len(r1.counted) == len({b.voter_serial for b in ballots})
    assert len(r1.counted) + len(r1.superseded) == len(ballots)
    counted_keys = {b.ballot_key for b in r1.counted}
    assert all(s.by in counted_keys for s in r1.superseded)


def mk_env(serial: str, channel: Channel, cast_at: str, env: str, sel: str = "P1") -> Ballot:
    selections = ((env, (sel,)),)
    return Ballot(ballot_key(channel, serial, cast_at, selections, None), serial, channel, cast_at,
                  selections, SourceRef("t", 1))


KINDS = {"city": "citywide", "ar01": "district", "ar02": "district"}
LIMITS = {"citywide": 1, "district": 1}


def test_paper_sheets_for_different_envelopes_all_count() -> None:
    city = mk_env("A", PA, "2026-01-05T09:00:00Z", "city")
    dist = mk_env("A", PA, "2026-01-05T09:01:00Z", "ar01")
    online = mk_env("A", ON, "2026-01-06T09:00:00Z", "city", "P9")
    r = resolve([online, dist, city], "paper-first", KINDS, LIMITS)
    assert set(r.counted) == {city, dist}
    assert [(s.ballot, s.reason) for s in r.superseded] == [(online, "superseded_by_paper")]


def test_second_district_sheet_is_a_duplicate() -> None:
    d1 = mk_env("A", PA, "2026-01-05T09:00:00Z", "ar01")
    d2 = mk_env("A", PA, "2026-01-05T09:05:00Z", "ar02")
    r = resolve([d2, d1], "paper-first", KINDS, LIMITS)
    assert r.counted == (d1,)
    assert r.superseded[0].ballot == d2 and r.superseded[0].reason == "duplicate_paper_ballot"


def test_online_first_supersedes_every_paper_sheet() -> None:
    city = mk_env("A", PA, "2026-01-05T09:00:00Z", "city")
    dist = mk_env("A", PA, "2026-01-05T09:01:00Z", "ar01")
    online = mk_env("A", ON, "2026-01-01T09:00:00Z", "city")
    r = resolve([city, dist, online], "online-first", KINDS, LIMITS)
    assert r.counted == (online,)
    assert {s.reason for s in r.superseded} == {"superseded_by_online"} and len(r.superseded) == 2

"""Precedence rules: one counted ballot per voter, every other one kept with a reason."""

from __future__ import annotations

import random

import pytest

from engine.counting.dedup import SUPERSEDED_REASONS, apply_precedence, check_paper_allowed
from engine.errors import PrecedenceError
from engine.model.ballots import Ballot, Channel, SourceRef, ballot_key


def mk(serial: str, channel: Channel, cast_at: str, sel: str = "P1") -> Ballot:
    selections = (("env", (sel,)),)
    return Ballot(ballot_key(channel, serial, cast_at, selections, None), serial, channel, cast_at,
                  selections, SourceRef("t", 1))


ON, PA = Channel.ONLINE, Channel.PAPER


def test_single_ballot_counts() -> None:
    b = mk("A", ON, "2026-01-01T10:00:00Z")
    r = apply_precedence([b], "paper-first")
    assert r.counted == (b,) and r.superseded == ()


def test_paper_beats_online_even_if_online_later() -> None:
    on = mk("A", ON, "2026-01-02T10:00:00Z")
    pa = mk("A", PA, "")
    r = apply_precedence([on, pa], "paper-first")
    assert r.counted == (pa,)
    assert [(s.ballot, s.reason, s.by) for s in r.superseded] == [(on, "superseded_by_paper", pa.ballot_key)]


def test_latest_online_counts() -> None:
    first = mk("A", ON, "2026-01-01T10:00:00Z", "P1")
    second = mk("A", ON, "2026-01-03T10:00:00Z", "P2")
    third = mk("A", ON, "2026-01-02T10:00:00Z", "P3")
    r = apply_precedence([first, second, third], "paper-first")
    assert r.counted == (second,)
    assert {s.ballot.cast_at for s in r.superseded} == {first.cast_at, third.cast_at}
    assert {s.reason for s in r.superseded} == {"superseded_by_later_online"}


def test_two_paper_ballots_for_one_envelope_neither_counts() -> None:
    p1 = mk("A", PA, "2026-01-05T09:00:00Z", "P1")
    p2 = mk("A", PA, "2026-01-05T11:00:00Z", "P2")
    r = apply_precedence([p2, p1], "paper-first")
    assert r.counted == ()
    assert {s.reason for s in r.superseded} == {"conflicting_paper_sheets"}


def test_online_first() -> None:
    on = mk("A", ON, "2026-01-01T10:00:00Z")
    pa = mk("A", PA, "2026-01-05T10:00:00Z")
    r = apply_precedence([pa, on], "online-first")
    assert r.counted == (on,) and r.superseded[0].reason == "superseded_by_online"


def test_latest_across_channels() -> None:
    on = mk("A", ON, "2026-01-06T10:00:00Z")
    pa = mk("A", PA, "2026-01-05T10:00:00Z")
    r = apply_precedence([pa, on], "latest")
    assert r.counted == (on,) and r.superseded[0].reason == "superseded_by_later_ballot"


def test_equal_times_tie_broken_by_key_not_order() -> None:
    a = mk("A", ON, "2026-01-01T10:00:00Z", "P1")
    b = mk("A", ON, "2026-01-01T10:00:00Z", "P2")
    winner = max([a, b], key=lambda x: x.ballot_key)
    assert apply_precedence([a, b], "paper-first").counted == (winner,)
    assert apply_precedence([b, a], "paper-first").counted == (winner,)


def test_unknown_rule() -> None:
    with pytest.raises(ValueError):
        apply_precedence([mk("A", ON, "x"), mk("A", ON, "y")], "coin-flip")


@pytest.mark.parametrize("rule", ["paper-first", "online-first", "latest"])
def test_order_independent_and_nothing_lost(rule: str) -> None:
    rng = random.Random(5)
    ballots = [
        mk(f"V{rng.randrange(40)}", rng.choice([ON, PA]), f"2026-01-{rng.randrange(1, 28):02d}T10:00:00Z",
           f"P{i}")
        for i in range(300)
    ]
    r1 = apply_precedence(ballots, rule)
    shuffled = ballots[:]
    rng.shuffle(shuffled)
    r2 = apply_precedence(shuffled, rule)
    assert r1 == r2
    assert len(r1.counted) <= len({b.voter_serial for b in ballots})
    online = [b for b in r1.counted if b.channel is ON]
    assert len({b.voter_serial for b in online}) == len(online)
    assert len(r1.counted) + len(r1.superseded) == len(ballots)
    counted_keys = {b.ballot_key for b in r1.counted}
    assert all(s.by in counted_keys or (s.by == "" and s.reason == "conflicting_paper_sheets")
               for s in r1.superseded)


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
    r = apply_precedence([online, dist, city], "paper-first", KINDS, LIMITS)
    assert set(r.counted) == {city, dist}
    assert [(s.ballot, s.reason) for s in r.superseded] == [(online, "superseded_by_paper")]


def test_online_first_supersedes_every_paper_sheet() -> None:
    city = mk_env("A", PA, "2026-01-05T09:00:00Z", "city")
    dist = mk_env("A", PA, "2026-01-05T09:01:00Z", "ar01")
    online = mk_env("A", ON, "2026-01-01T09:00:00Z", "city")
    r = apply_precedence([city, dist, online], "online-first", KINDS, LIMITS)
    assert r.counted == (online,)
    assert {s.reason for s in r.superseded} == {"superseded_by_online"} and len(r.superseded) == 2


# ---- issue 13.7: `latest` across channels; 13.8: two sheets for one envelope; 13.9: required kinds


def test_latest_refuses_to_order_an_untimed_paper_ballot_against_an_online_vote() -> None:
    """A scanned paper ballot has no cast time: `latest` cannot say it is earlier than an online
    vote (it used to lose to any online vote, with the false reason superseded_by_later_ballot)."""
    on = mk("A", ON, "2026-01-06T10:00:00Z")
    pa = mk("A", PA, "")
    with pytest.raises(PrecedenceError, match="latest"):
        apply_precedence([pa, on], "latest")
    with pytest.raises(PrecedenceError):
        check_paper_allowed("latest")
    check_paper_allowed("paper-first")
    check_paper_allowed("online-first")
    # a voter with paper only is fine under `latest` (imports carry paper ballots)
    assert apply_precedence([pa], "latest").counted == (pa,)


def test_two_sheets_for_one_envelope_are_a_conflict_neither_counts() -> None:
    """Which sheet counted used to depend on ballot-key order: scanning a second sheet changed
    the counted vote. Now both are kept, neither counts, and the reason says why."""
    p1 = mk("A", PA, "", "P1")
    p2 = mk("A", PA, "", "P2")
    for order in ([p1, p2], [p2, p1]):
        r = apply_precedence(order, "paper-first")
        assert r.counted == ()
        assert {(s.ballot, s.reason) for s in r.superseded} == {
            (p1, "conflicting_paper_sheets"), (p2, "conflicting_paper_sheets")}
        assert all(s.by == "" for s in r.superseded)


def test_conflicting_sheets_leave_the_other_envelopes_and_the_online_vote() -> None:
    city = mk_env("A", PA, "", "city")
    d1 = mk_env("A", PA, "", "ar01", "P1")
    d1b = mk_env("A", PA, "", "ar01", "P2")
    r = apply_precedence([d1, city, d1b], "paper-first", KINDS, LIMITS)
    assert r.counted == (city,)
    assert {s.ballot for s in r.superseded if s.reason == "conflicting_paper_sheets"} == {d1, d1b}
    # only conflicting sheets: the online vote still counts
    online = mk_env("B", ON, "2026-01-06T09:00:00Z", "city", "P9")
    c1, c2 = mk_env("B", PA, "", "city", "P1"), mk_env("B", PA, "", "city", "P2")
    r = apply_precedence([c1, online, c2], "paper-first", KINDS, LIMITS)
    assert r.counted == (online,)


def test_sheets_beyond_the_per_kind_limit_are_a_conflict() -> None:
    d1 = mk_env("A", PA, "", "ar01")
    d2 = mk_env("A", PA, "", "ar02")
    r = apply_precedence([d2, d1], "paper-first", KINDS, LIMITS)
    assert r.counted == ()
    assert {s.reason for s in r.superseded} == {"conflicting_paper_sheets"}


def test_required_kinds_are_checked_per_voter_across_sheets() -> None:
    city = mk_env("A", PA, "", "city")
    dist = mk_env("A", PA, "", "ar01")
    r = apply_precedence([dist, city], "paper-first", KINDS, LIMITS, required_kinds=("citywide",))
    assert set(r.counted) == {city, dist} and r.superseded == ()
    alone = mk_env("B", PA, "", "ar02")
    r = apply_precedence([alone], "paper-first", KINDS, LIMITS, required_kinds=("citywide",))
    assert r.counted == ()
    assert [(s.ballot, s.reason) for s in r.superseded] == [(alone, "incomplete_paper_ballot")]


def test_every_reason_given_is_a_declared_reason() -> None:
    rng = random.Random(11)
    envs = list(KINDS)
    ballots = [mk_env(f"V{rng.randrange(30)}", rng.choice([ON, PA]),
                      f"2026-01-{rng.randrange(1, 28):02d}T10:00:00Z" if i % 2 else "",
                      rng.choice(envs), f"P{i}") for i in range(300)]
    ballots = [b for b in ballots if b.channel is PA or b.cast_at]
    for rule in ("paper-first", "online-first"):
        r = apply_precedence(ballots, rule, KINDS, LIMITS, required_kinds=("citywide",))
        assert {s.reason for s in r.superseded} <= set(SUPERSEDED_REASONS)
        assert len(r.counted) + len(r.superseded) == len(ballots)

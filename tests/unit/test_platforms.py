"""Decidim and Consul formats (engine/formats/decidim.py, consul.py) on files written by hand
from the projects' documented formats (docs/platforms.md cites them):

* the Decidim budget export as decidim-budgets' exporter spec shows it (``META`` with
  ``key;value``, ``project_id;cost;votes;name;selected``, ``voter_id;vote`` with order ids);
* the paper-ballots module's ``id;paper_ballots_to_import`` CSV (``;``, Decidim's separator);
* Consul's ballot sheet: ballots split on ``;`` or newline, investment ids on ``,``
  (``Poll::BallotSheet#parsed_ballots``, ``Poll::Ballot#investments``).
"""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.counting.dedup import apply_precedence
from engine.errors import PlatformFileError
from engine.formats.consul import SheetInvestment, format_ballot_sheet, parse_ballot_sheet
from engine.formats.decidim import (
    OrderTokenVerifier,
    decidim_ballots,
    default_cast_time,
    paper_totals_csv,
    read_decidim_export,
    read_order_tokens,
    read_paper_totals,
)
from engine.formats.pabulib import parse_pabulib
from engine.formats.pabulib_convert import election_from_instance
from engine.formats.platform_ids import ProjectMap, read_project_map
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef, ballot_key
from engine.model.election import VotingPolicy
from engine.model.tokens import TokenVerifier, issue_token

# as Decidim's exporter spec writes it (project ids and order ids are database ids)
DECIDIM = """META
key;value
description;Budget 2026
country;Finland
unit;Helsinki
instance;2026
num_projects;4
num_votes;7
budget;1000000
vote_type;approval
rule;greedy
date_begin;03.09.2026
date_end;20.09.2026
min_length;1
max_length;4
min_sum_cost;0
max_sum_cost;1000000
PROJECTS
project_id;cost;votes;name;selected
11;500000;3;First project;1
12;400000;2;Second project;1
13;300000;1;Third project;0
14;100000;0;Fifth project;1
VOTES
voter_id;vote
101;11,12
102;11
103;11,13
104;12,99
abc;12
102;14
105;
"""


def election():
    head = DECIDIM.split("VOTES")[0] + "VOTES\nvoter_id;vote\n"  # the election of the export's projects
    return election_from_instance(parse_pabulib(head, "b.pb"), "helsinki")[0]


def test_a_decidim_export_is_read_by_column_name_with_order_ids() -> None:
    b = read_decidim_export(DECIDIM, "b.pb")
    assert [o.order_id for o in b.orders] == ["101", "102", "103", "104", "abc", "102", "105"]
    assert b.orders[0].project_ids == ("11", "12") and b.orders[0].line == 26
    assert b.online_votes() == {"11": 3, "12": 2, "13": 1, "14": 0}
    older = DECIDIM.replace("project_id;cost;votes;name;selected", "project_id;name;cost;votes;selected")
    for row in ("11;500000;3;First project;1", "12;400000;2;Second project;1", "13;300000;1;Third project;0",
                "14;100000;0;Fifth project;1"):
        pid, cost, votes, name, sel = row.split(";")
        older = older.replace(row, ";".join((pid, name, cost, votes, sel)))
    assert read_decidim_export(older, "old.pb").online_votes()["11"] == 3


def test_not_a_decidim_export_names_the_file() -> None:
    with pytest.raises(PlatformFileError, match="b.pb.*voter_id;vote"):
        read_decidim_export(DECIDIM.replace("voter_id;vote\n", "voter_id;vote_list\n"), "b.pb")
    with pytest.raises(PlatformFileError, match="cumulative"):
        read_decidim_export(DECIDIM.replace("vote_type;approval", "vote_type;cumulative"), "b.pb")


def test_each_order_is_a_ballot_or_a_rejection_naming_its_line() -> None:
    e = election()
    b = read_decidim_export(DECIDIM, "b.pb")
    items = decidim_ballots(b, e, "main", ProjectMap.identity(e), {}, OrderTokenVerifier(e.id, None),
                            "2026-09-20T12:00:00.000000Z")
    ballots = [x for x in items if isinstance(x, Ballot)]
    rejected = {(x.source.line, x.reason) for x in items if isinstance(x, Rejection)}
    assert [bb.projects("main") for bb in ballots] == [("11", "12"), ("11",), ("11", "13")]
    assert rejected == {(29, "unknown_project"), (30, "malformed_line"), (31, "duplicate_submission"),
                        (32, "empty_ballot")}
    # each order is its own voter, stable across imports
    again = decidim_ballots(b, e, "main", ProjectMap.identity(e), {}, OrderTokenVerifier(e.id, None),
                            "2026-09-20T12:00:00.000000Z")
    assert len({bb.voter_serial for bb in ballots}) == 3
    assert [x.ballot_key for x in again if isinstance(x, Ballot)] == [bb.ballot_key for bb in ballots]


def test_an_order_with_its_voters_token_is_superseded_by_the_voters_paper_ballot() -> None:
    e = dataclasses.replace(election(), precedence="paper-first")
    key = Ed25519PrivateKey.generate()
    real = TokenVerifier(key.public_key(), e.id)
    token = issue_token(key, e.id)
    tokens = read_order_tokens(f"order_id,token\n101,{token}\n", "t.csv")
    b = read_decidim_export(DECIDIM, "b.pb")
    items = decidim_ballots(b, e, "main", ProjectMap.identity(e), tokens, OrderTokenVerifier(e.id, real),
                            "2026-09-20T12:00:00.000000Z")
    online = [x for x in items if isinstance(x, Ballot)]
    serial = real.verify(token).serial_text
    assert online[0].voter_serial == serial
    sel = (("main", ("14",)),)
    paper = Ballot(ballot_key(Channel.PAPER, serial, "", sel, "img"), serial, Channel.PAPER, "", sel,
                   SourceRef("scan", 1))
    result = apply_precedence([*online, paper], e.precedence)
    assert paper in result.counted and online[0] not in result.counted
    assert [s.reason for s in result.superseded] == ["superseded_by_paper"]
    # a forged token is rejected with its reason, the batch goes on
    forged = read_order_tokens(f"order_id,token\n101,{token[:-3]}AAA\n", "t.csv")
    items = decidim_ballots(b, e, "main", ProjectMap.identity(e), forged, OrderTokenVerifier(e.id, real),
                            "2026-09-20T12:00:00.000000Z")
    assert isinstance(items[0], Rejection) and items[0].reason == "token_bad_signature"
    assert sum(isinstance(x, Ballot) for x in items) == 2


def test_the_cast_time_is_noon_of_date_end_inside_the_voting_period() -> None:
    meta = {"date_end": "20.09.2026"}
    assert default_cast_time(meta, VotingPolicy()) == "2026-09-20T12:00:00.000000Z"
    period = VotingPolicy(opens="2026-09-01T08:00:00+02:00", closes="2026-09-20T10:00:00+02:00")
    assert default_cast_time(meta, period) == "2026-09-20T07:59:59.999999Z"
    with pytest.raises(ValueError):
        default_cast_time({}, VotingPolicy())


def test_paper_totals_round_trip_with_a_project_map_and_differences() -> None:
    e = election()
    m = read_project_map("project_id;platform_id\n11;211\n12;212\n", "ids.csv", e)
    text = paper_totals_csv({"11": 5, "12": 0, "13": 2, "14": 1}, m)
    assert text.splitlines()[0] == "id;paper_ballots_to_import"
    assert read_paper_totals(text, "p.csv") == {"13": 2, "14": 1, "211": 5, "212": 0}
    # --match-total: Decidim then shows pbcount's totals (paper + online kept - its own online)
    matched = paper_totals_csv({"11": 5, "12": 0, "13": 2, "14": 1}, ProjectMap.identity(e),
                               decidim_online={"11": 3, "12": 2, "13": 1, "14": 0},
                               counted_total={"11": 7, "12": 1, "13": 3, "14": 1})
    assert read_paper_totals(matched, "p.csv") == {"11": 4, "12": -1, "13": 2, "14": 1}
    since = paper_totals_csv({"11": 9, "12": 0, "13": 2, "14": 1}, ProjectMap.identity(e),
                             already_imported={"11": 5, "13": 2})
    assert read_paper_totals(since, "p.csv") == {"11": 4, "12": 0, "13": 0, "14": 1}
    # the module's own form for Decidim 0.25, with extra columns from the admin export, and a BOM
    assert read_paper_totals("\ufeffproject_id;title;paper_ballots_to_import\n11;A;3\n", "x.csv") == {"11": 3}
    with pytest.raises(PlatformFileError, match="x.csv:3: paper_ballots_to_import 'abc'"):
        read_paper_totals("id;paper_ballots_to_import\n11;3\n12;abc\n", "x.csv")


def test_a_bad_project_map_names_its_line() -> None:
    e = election()
    with pytest.raises(PlatformFileError, match="ids.csv:3: platform id '7' is mapped twice"):
        read_project_map("project_id,platform_id\n11,7\n12,7\n", "ids.csv", e)
    with pytest.raises(PlatformFileError, match="ids.csv:2: project 'X' is not a project"):
        read_project_map("project_id,platform_id\nX,7\n", "ids.csv", e)
    with pytest.raises(PlatformFileError, match="ids.csv:1: needs the columns"):
        read_project_map("id,platform\n", "ids.csv", e)


INVESTMENTS = {"1": SheetInvestment("north", 100), "2": SheetInvestment("north", 150),
               "3": SheetInvestment("north", 100), "7": SheetInvestment("south", 50)}


def test_a_consul_sheet_round_trips() -> None:
    ballots = [("1", "2"), ("3",), ("7",), ("1", "3")]
    text = format_ballot_sheet(ballots)
    assert text == "1,2\n3\n7\n1,3\n"
    read, problems = parse_ballot_sheet(text, INVESTMENTS, {"north": 300, "south": 300})
    assert problems == [] and [b.investment_ids for b in read] == ballots
    # Consul's own example splits on ';' and newlines alike (its spec: "1,2,3;4,5,6\n7,8,9")
    read, _ = parse_ballot_sheet("1,2;3\n7", INVESTMENTS)
    assert [(b.line, b.index, b.investment_ids) for b in read] == [(1, 0, ("1", "2")), (1, 1, ("3",)),
                                                                  (2, 2, ("7",))]


def test_every_entry_consul_would_drop_is_named_with_line_and_reason() -> None:
    sheet = "1,2\n1,1\n4,x\n1,7\n1,2,3\n\n 3 ,\n2;;1\n"
    read, problems = parse_ballot_sheet(sheet, INVESTMENTS, {"north": 300, "south": 300})
    found = [(p.line, p.index, p.reason) for p in problems]
    assert found == [
        (2, 1, "duplicate_investment"),
        (3, 2, "unknown_investment"), (3, 2, "not_an_id"),
        (4, 3, "other_heading"),
        (5, 4, "insufficient_funds"),
        (6, 5, "empty_ballot"),
        (8, 8, "empty_ballot"),
    ]
    # what Consul keeps of each ballot
    assert [b.investment_ids for b in read] == [("1", "2"), ("1",), (), ("1",), ("1", "2"), (), ("3",), ("2",),
                                                (), ("1",)]
    assert problems[4].where("s.txt") == "s.txt:5 (ballot 5)" and "50 left of 300" in problems[4].detail

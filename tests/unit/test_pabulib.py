"""The pabulib ``.pb`` reader and writer: every vote type, optional fields, errors by line."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from conftest import pabulib_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.formats.pabulib import (
    PabulibError,
    PbInstance,
    PbProject,
    PbVote,
    allocation_problem,
    format_number,
    format_pabulib,
    parse_pabulib,
    project_scores,
    read_pabulib,
)

SMALL = """META
key;value
description;Test "city"
country;Nowhere
unit;Town
instance;2026
num_projects;3
num_votes;3
budget;100.5
vote_type;cumulative
rule;greedy
min_length;1
max_length;3
PROJECTS
project_id;cost;votes;name;category;target;selected
p1;50;2;"Park; with a semicolon";green,sport;children;1
p2;50.5;2;Road;transport;;0
p3;10;1;Bench;green;;1
VOTES
voter_id;vote;points;age;voting_method
v1;p1,p2;3,1;34;internet
v2;p2;2;;paper
v3;p3,p1;1,4;71;internet
"""


def test_reads_all_sections_and_optional_fields() -> None:
    inst = parse_pabulib(SMALL, "small.pb")
    assert inst.vote_type == "cumulative"
    assert inst.budget == Fraction(201, 2)
    assert [p.project_id for p in inst.projects] == ["p1", "p2", "p3"]
    assert inst.projects[0].fields["name"] == "Park; with a semicolon"
    assert inst.projects[0].fields["category"] == "green,sport"
    assert inst.projects[0].fields["target"] == "children"
    assert inst.projects[1].cost == Fraction(101, 2)
    assert inst.votes[2].vote == ("p3", "p1")
    assert inst.votes[2].points == (1, 4)
    assert inst.votes[1].fields == {"age": "", "voting_method": "paper"}
    assert inst.votes[0].line == 21
    assert inst.official_selection() == ("p1", "p3")
    assert inst.meta["max_length"] == "3"


def test_scores_follow_the_vote_type() -> None:
    inst = parse_pabulib(SMALL)
    assert project_scores(inst) == [7.0, 3.0, 1.0]  # cumulative: points
    assert project_scores(inst, "votes") == [2.0, 2.0, 1.0]
    assert project_scores(inst, "file-votes") == [2.0, 2.0, 1.0]


def test_fractional_money_becomes_integer_units() -> None:
    problem = allocation_problem(parse_pabulib(SMALL), with_profile=False)
    assert problem.unit == 2
    assert problem.budget == 201 and problem.costs == (100, 101, 20)


def test_round_trip_is_exact() -> None:
    inst = parse_pabulib(SMALL)
    again = parse_pabulib(format_pabulib(inst))
    assert again == inst
    assert format_pabulib(again) == format_pabulib(inst)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (SMALL.replace("p2;50.5;2;Road", "p2;fifty;2;Road"), 17, "cost 'fifty' is not a number"),
        (SMALL.replace("v2;p2;2;;paper", "v2;p9;2;;paper"), 22, "unknown project 'p9'"),
        (SMALL.replace("v3;p3,p1;1,4;71", "v3;p3,p1;1;71"), 23, "2 projects but 1 points"),
        (SMALL.replace("p3;10;1;Bench;green;;1", "p3;10;1;Bench;green;1"), 18, "6 fields, the PROJECTS header has 7"),
        (SMALL.replace("p3;10;1;Bench", "p1;10;1;Bench"), 18, "duplicate project_id 'p1'"),
        (SMALL.replace("v3;p3", "v1;p3"), 23, "duplicate voter_id 'v1'"),
        (SMALL.replace("PROJECTS\n", "VOTES\n", 1), 14, "section VOTES out of order"),
        (SMALL.replace("v2;p2;2;;paper", "v2;p2,p2;2,2;;paper"), 22, "a project is listed twice"),
    ],
)
def test_malformed_input_names_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(PabulibError) as err:
        parse_pabulib(text, "bad.pb")
    assert err.value.line == line
    assert message in str(err.value)
    assert str(err.value).startswith(f"bad.pb:{line}:")


def test_missing_meta_and_sections() -> None:
    with pytest.raises(PabulibError, match="lacks required key 'budget'"):
        parse_pabulib(SMALL.replace("budget;100.5\n", ""))
    with pytest.raises(PabulibError, match="missing section"):
        parse_pabulib(SMALL.split("VOTES")[0])
    with pytest.raises(PabulibError, match="unknown vote_type"):
        parse_pabulib(SMALL.replace("vote_type;cumulative", "vote_type;plurality"))
    with pytest.raises(PabulibError, match="needs a 'points' column"):
        text = SMALL.replace("voter_id;vote;points;age;voting_method", "voter_id;vote;x;age;voting_method")
        parse_pabulib(text)


def test_approval_duplicates_are_counted_once_with_a_warning() -> None:
    text = SMALL.replace("vote_type;cumulative", "vote_type;approval").replace(
        "voter_id;vote;points;age;voting_method", "voter_id;vote;x;age;voting_method"
    ).replace("v1;p1,p2;3,1", "v1;p1,p2,p1;3")
    inst = parse_pabulib(text, "dup.pb")
    assert inst.votes[0].vote == ("p1", "p2")
    assert inst.warnings == ("dup.pb:21: voter 'v1' lists a project twice; counted once",)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PabulibError, match="cannot read file"):
        read_pabulib(tmp_path / "nope.pb")
    bad = tmp_path / "latin1.pb"
    bad.write_bytes(SMALL.replace("Nowhere", "Nowh\xe9re").encode("latin-1"))
    with pytest.raises(PabulibError, match="not UTF-8"):
        read_pabulib(bad)


def test_format_number() -> None:
    assert format_number(Fraction(4000)) == "4000"
    assert format_number(Fraction("2572946.76")) == "2572946.76"
    assert format_number(Fraction(1, 8)) == "0.125"
    assert format_number(Fraction(-3, 2)) == "-1.5"


ids = st.text("abcXYZ0123456789/._-", min_size=1, max_size=6)


@st.composite
def instances(draw: st.DrawFn) -> PbInstance:
    vote_type = draw(st.sampled_from(["approval", "cumulative", "ordinal", "scoring", "choose-1"]))
    pids = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    projects = tuple(
        PbProject(p, Fraction(draw(st.integers(0, 10**7)), draw(st.sampled_from([1, 2, 4, 5, 100]))),
                  {"name": draw(st.text(max_size=8).filter(lambda s: "\n" not in s and "\r" not in s
                                                           and s == s.strip())),
                   "category": draw(st.sampled_from(["", "green", "a,b"]))})
        for p in pids
    )
    votes = []
    for i in range(draw(st.integers(0, 5))):
        chosen = tuple(draw(st.lists(st.sampled_from(pids), unique=True, max_size=len(pids))))
        scored = vote_type in ("cumulative", "scoring")
        pts = tuple(Fraction(draw(st.integers(1, 9))) for _ in chosen) if scored else None
        votes.append(PbVote(f"v{i}", chosen, pts, {"age": str(draw(st.integers(0, 99)))}))
    meta = {"description": "d", "num_projects": str(len(projects)), "num_votes": str(len(votes)),
            "budget": format_number(Fraction(draw(st.integers(1, 10**8)), 100)), "vote_type": vote_type,
            "rule": "greedy"}
    scored = vote_type in ("cumulative", "scoring")
    vote_cols = ("voter_id", "vote", "points", "age") if scored else ("voter_id", "vote", "age")
    return PbInstance(meta, projects, tuple(votes), ("project_id", "cost", "name", "category"), vote_cols)


@settings(max_examples=60, deadline=None)
@given(instances())
def test_any_instance_round_trips(inst: PbInstance) -> None:
    assert parse_pabulib(format_pabulib(inst)) == inst


@pytest.mark.pabulib
def test_real_files_round_trip() -> None:
    root = pabulib_dir()
    for name in ("Poland_Krakow_2024_Bronowice.pb", "France_Toulouse_2022.pb", "Netherlands_Assen_2024.pb",
                 "France_Toulouse_2019.pb"):
        inst = read_pabulib(root / name)
        assert parse_pabulib(format_pabulib(inst)) == inst
        assert len(inst.votes) == int(inst.meta["num_votes"])
        assert len(inst.projects) == int(inst.meta["num_projects"])


# ------------------------------------------------------------ the VOTES fast path (issue 14)
_FIELD = st.text(alphabet=st.characters(blacklist_characters=';\n\r"\x00', blacklist_categories=("Cs",)),
                 max_size=6)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.lists(_FIELD, min_size=1, max_size=5).map(";".join), max_size=8),
       final_newline=st.booleans())
def test_votes_fast_path_splits_like_the_csv_module(lines: list[str], final_newline: bool) -> None:
    """Without quotes, CR or NUL, ``str.split`` gives csv.reader's rows and line numbers."""
    import csv
    import io

    from engine.formats.pabulib import _rest_rows

    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    chunks = list(io.StringIO(text, newline=""))  # as a file opened with newline="" yields them
    reader = csv.reader(chunks, delimiter=";", quotechar='"')
    want = [(7 + reader.line_num, row) for row in reader]
    got = [(n, row) for n, row in _rest_rows(iter(chunks), "x.pb", 7)]
    # csv yields [] for an empty line where split yields [""]: the parser skips both
    assert [(n, r) for n, r in got if r != [""]] == [(n, r) for n, r in want if r != []]


def test_votes_with_quotes_or_crlf_still_parse(tmp_path: Path) -> None:
    """Quoted VOTES fields and CRLF files take the csv path and give the same instance."""
    quoted = SMALL.replace("v2;p2;2;;paper", 'v2;p2;2;"";"paper"')
    assert parse_pabulib(quoted) == parse_pabulib(SMALL)
    crlf = tmp_path / "crlf.pb"
    crlf.write_bytes(SMALL.replace("\n", "\r\n").encode())
    assert read_pabulib(crlf) == parse_pabulib(SMALL, "crlf.pb")


def test_parsing_restores_the_garbage_collector() -> None:
    import gc

    assert gc.isenabled()
    parse_pabulib(SMALL)
    assert gc.isenabled()
    with pytest.raises(PabulibError):
        parse_pabulib(SMALL.replace("v3;p3", "v1;p3"))
    assert gc.isenabled()
    gc.disable()
    try:
        parse_pabulib(SMALL)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()

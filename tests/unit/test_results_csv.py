"""Results CSVs: no total row mixed with data, summary with definitions, shares, turnout,
breakdowns by category and district, turnout by voter group (k-suppressed), BOM, xlsx."""

from __future__ import annotations

import csv
import io

import pytest

from engine.counting.count import CountResult, count_ballots
from engine.formats.breakdowns import categories_csv, districts_csv
from engine.formats.election_definition import election_from_dict
from engine.formats.group_turnout import (
    GroupsFileError,
    group_turnout_csv,
    groups_csv_text,
    parse_groups_csv,
)
from engine.formats.results_csv import encode_csv, envelopes_csv, projects_csv, summary_csv, turnout_csv
from engine.formats.results_xlsx import results_xlsx
from engine.model.ballots import Ballot, Channel, SourceRef, ballot_key

DOC = {
    "election": {"id": "town-2026", "name": "Town 2026"},
    "envelopes": [
        {"id": "city", "name": "Whole town", "kind": "citywide", "budget": 100, "max_selections": 2},
        {"id": "north", "name": "North", "kind": "district", "budget": 50, "max_selections": 2,
         "district": "north"},
    ],
    "projects": [
        {"id": "A", "envelope": "city", "title": "Clean parks", "cost": 40, "category": "cleanliness"},
        {"id": "B", "envelope": "city", "title": "Smart lights", "cost": 70, "category": "smart city"},
        {"id": "C", "envelope": "city", "title": "Street sweeping", "cost": 30, "category": "cleanliness",
         "district": "south"},
        {"id": "N1", "envelope": "north", "title": "Bins", "cost": 20, "category": "cleanliness",
         "district": "north"},
        {"id": "N2", "envelope": "north", "title": "Sensors", "cost": 40, "category": "smart city",
         "district": "north"},
    ],
}


def _ballot(serial: str, channel: Channel, selections: tuple[tuple[str, tuple[str, ...]], ...]) -> Ballot:
    t = "2026-01-01T00:00:00.000000Z"
    return Ballot(ballot_key(channel, serial, t, selections, None), serial, channel, t, selections,
                  SourceRef("t", 1))


def world() -> CountResult:
    e = election_from_dict(DOC)
    ballots = []
    for i in range(30):  # 30 voters: 20 online, 10 paper; the first 12 also vote in North
        ch = Channel.ONLINE if i < 20 else Channel.PAPER
        sel: list[tuple[str, tuple[str, ...]]] = [("city", ("A", "C") if i % 3 else ("B",))]
        if i < 12:
            sel.append(("north", ("N1",) if i % 2 else ("N1", "N2")))
        ballots.append(_ballot(f"S{i:02d}", ch, tuple(sel)))
    return count_ballots(e, ballots, {"token_bad_signature": 2, "malformed_line": 1})


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_envelopes_have_no_total_row_and_summary_defines_the_totals() -> None:
    r = world()
    envs = rows(envelopes_csv(r))
    assert [x["envelope_id"] for x in envs] == ["city", "north"]
    assert "rejected" not in envs[0]
    summary = {x["metric"]: x for x in rows(summary_csv(r))}
    # voters are distinct: fewer than the envelopes' ballots added up (12 voted in both)
    assert int(summary["voters"]["value"]) == 30
    assert sum(int(x["ballots_total"]) for x in envs) == 42
    assert (int(summary["voters_online"]["value"]), int(summary["voters_paper"]["value"])) == (20, 10)
    assert int(summary["rejected"]["value"]) == 3
    assert int(summary["rejected_token_bad_signature"]["value"]) == 2
    assert int(summary["budget"]["value"]) == sum(int(x["budget"]) for x in envs) == 150
    assert int(summary["spent"]["value"]) == sum(int(x["spent"]) for x in envs)
    assert all(x["definition"] for x in summary.values())
    assert "registered" not in summary
    with_reg = {x["metric"]: x["value"] for x in rows(summary_csv(r, registered=60))}
    assert with_reg["turnout_pct"] == "50.00"


def test_vote_share_is_of_the_envelope_ballots() -> None:
    r = world()
    for x in rows(projects_csv(r)):
        n_env = sum(1 for b in r.dedup.counted if b.projects(x["envelope_id"]))
        votes = sum(1 for b in r.dedup.counted if x["project_id"] in b.projects(x["envelope_id"]))
        assert int(x["votes_total"]) == votes
        assert x["vote_share_pct"] == f"{100 * votes / n_env:.2f}"
    a = next(x for x in rows(projects_csv(r)) if x["project_id"] == "A")
    assert a["vote_share_pct"] == "66.67"  # 20 of 30 city ballots


def test_turnout_per_envelope_and_channel() -> None:
    r = world()
    t = {(x["envelope_id"], x["channel"]): x for x in rows(turnout_csv(r))}
    assert len(t) == 2 * 3
    assert t[("north", "online")]["ballots"] == "12"
    assert t[("north", "paper")]["ballots"] == "0"
    assert t[("north", "online")]["share_of_envelope_pct"] == "100.00"
    assert t[("north", "online")]["share_of_voters_pct"] == "60.00"  # 12 of the 20 online voters
    assert t[("city", "all")]["share_of_voters_pct"] == "100.00"
    assert t[("north", "paper")]["share_of_voters_pct"] == "0.00"
    assert int(t[("city", "all")]["ballots"]) == r.tally.envelopes["city"].ballots


def test_category_and_district_breakdowns_add_up_to_the_winners() -> None:
    r = world()
    projects = rows(projects_csv(r))
    cats = rows(categories_csv(r))
    for cat in ("cleanliness", "smart city"):
        won = [p for p in projects if p["category"] == cat and p["selected"] == "1"]
        mine = [c for c in cats if c["category"] == cat]
        assert sum(int(c["projects_funded"]) for c in mine) == len(won)
        assert sum(int(c["spent"]) for c in mine) == sum(int(p["cost"]) for p in won)
        assert sum(int(c["projects"]) for c in mine) == sum(1 for p in projects if p["category"] == cat)
    city = {c["category"]: c for c in cats if c["envelope_id"] == "city"}
    assert city["smart city"]["projects_funded"] == "0"  # "no smart-city project won" in the town envelope
    assert city["cleanliness"]["share_of_funded_pct"] == "100.00"
    dist = rows(districts_csv(r))
    assert {(d["envelope_id"], d["district"]) for d in dist} == {("city", ""), ("city", "south"), ("north", "north")}
    assert sum(int(d["cost_proposed"]) for d in dist) == sum(int(p["cost"]) for p in projects)


def test_group_turnout_suppresses_small_groups() -> None:
    r = world()
    # register of 60: serials S00..S59; age bands: S00-S24 "18-29" (25), S25-S54 "30+" (30), rest "unknown" (5)
    labels = [(f"S{i:02d}", ["18-29" if i < 25 else "30+" if i < 55 else "unknown", "1" if i % 2 else "0"])
              for i in range(60)]
    groups = parse_groups_csv(groups_csv_text(["age_band", "popular_neighbourhood"], labels))
    out = {(x["attribute"], x["group"]): x for x in rows(group_turnout_csv(groups, r.dedup.counted, k=10))}
    young = out[("age_band", "18-29")]
    assert (young["registered"], young["voted"], young["turnout_pct"]) == ("25", "25", "100.00")
    # 20 online, 5 paper: 5 < k, so both channel cells are hidden (one would give the other)
    assert (young["voted_online"], young["voted_paper"], young["suppressed"]) == ("", "", "0")
    older = out[("age_band", "30+")]
    assert (older["voted"], older["suppressed"]) == ("", "1")  # 5 voters < k
    assert out[("age_band", "unknown")]["registered"] == ""  # 5 registered < k
    pn = out[("popular_neighbourhood", "1")]
    assert (pn["registered"], pn["voted"], pn["turnout_pct"], pn["voted_paper"]) == ("30", "15", "50.00", "")
    # with k = 5 every group of the register is shown, channels included
    small = {(x["attribute"], x["group"]): x for x in rows(group_turnout_csv(groups, r.dedup.counted, k=5))}
    assert (small[("age_band", "18-29")]["voted_online"], small[("age_band", "18-29")]["voted_paper"]) == ("20", "5")
    assert small[("age_band", "30+")]["voted"] == "5"


def test_groups_file_errors_name_the_line() -> None:
    with pytest.raises(GroupsFileError, match=r"g.csv:3: serial 'S1' listed twice"):
        parse_groups_csv("serial,age_band\nS1,18-29\nS1,30+\n", "g.csv")
    with pytest.raises(GroupsFileError, match=r"g.csv:1"):
        parse_groups_csv("voter_id,age_band\n", "g.csv")
    with pytest.raises(GroupsFileError, match=r"g.csv:2: 1 fields"):
        parse_groups_csv("serial,age_band\nS1\n", "g.csv")


def test_bom_option() -> None:
    text = envelopes_csv(world())
    assert encode_csv(text).startswith(b"envelope_id,")
    with_bom = encode_csv(text, bom=True)
    assert with_bom.startswith(b"\xef\xbb\xbf") and with_bom.decode("utf-8-sig") == text


def _num(cell: str) -> object:
    """A cell as a number when it is one (the sheet stores "66.67" as 66.67), else the text."""
    try:
        return float(cell)
    except ValueError:
        return cell


def test_xlsx_has_one_sheet_per_csv_with_numbers() -> None:
    openpyxl = pytest.importorskip("openpyxl")
    r = world()
    csvs = {"projects.csv": projects_csv(r), "envelopes.csv": envelopes_csv(r), "summary.csv": summary_csv(r)}
    wb = openpyxl.load_workbook(io.BytesIO(results_xlsx(csvs)))
    assert wb.sheetnames == ["projects", "envelopes", "summary"]
    for name, text in csvs.items():
        sheet = [[("" if v is None else str(v)) for v in row] for row in wb[name.removesuffix(".csv")].iter_rows(
            values_only=True)]
        want = list(csv.reader(io.StringIO(text)))
        assert len(sheet) == len(want)
        for got_row, want_row in zip(sheet, want, strict=True):
            assert [_num(g) for g in got_row] == [_num(w) for w in want_row]
    env = wb["envelopes"]
    assert env["D1"].value == "budget" and env["D2"].value == 100 and isinstance(env["D2"].value, int)
    assert isinstance(wb["projects"]["B2"].value, str)  # ids stay text  # budget is a number, summable in the sheet

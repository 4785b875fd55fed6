"""``pbcount import decidim``, ``export decidim-paper`` and ``export consul-ballot-sheets``:
a Decidim export written by hand (decidim-budgets' exporter spec layout) goes in as the online
channel, paper ballots are added, and the exports are read back with the platforms' rules
(the module's ``id;paper_ballots_to_import``; Consul's ``;``/newline and ``,`` splitting)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from engine.formats.consul import SheetInvestment, parse_ballot_sheet
from engine.formats.decidim import read_paper_totals
from engine.model.ballots import Ballot, Channel, SourceRef, ballot_key
from engine.services.ingest import ingest_batch
from engine.storage.store import Store
from pbcount.cli import app

DECIDIM = """META
key;value
description;Budget 2026
country;Finland
unit;Helsinki
num_projects;3
num_votes;4
budget;1000
vote_type;approval
rule;greedy
date_begin;03.09.2026
date_end;20.09.2026
min_length;1
max_length;3
PROJECTS
project_id;cost;votes;name;selected
11;500;3;First;1
12;400;2;Second;1
13;300;1;Third;0
VOTES
voter_id;vote
101;11,12
102;11
103;11,13
104;12,99
"""

runner = CliRunner()


def add_paper(db: str, sheets: list[tuple[str, ...]]) -> None:
    """Paper ballots as the scanner would store them (one voter each)."""
    store = Store.open(db)
    items: list[Ballot] = []
    for i, projects in enumerate(sheets):
        serial = f"PAPER{i:011d}"
        sel = (("main", projects),)
        items.append(Ballot(ballot_key(Channel.PAPER, serial, "", sel, f"img{i}"), serial, Channel.PAPER, "", sel,
                            SourceRef("scan.png", i + 1), image_sha256=f"img{i}", receipt_id=f"P{i:015d}"))
    ingest_batch(store, "test-paper", "scans", "0" * 64, lambda _done: [(len(items), len(items), list(items))],
                 actor="test")


def test_decidim_in_then_decidim_and_consul_out(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    pb = tmp_path / "budget.pb"
    pb.write_text(DECIDIM, encoding="utf-8")
    res = runner.invoke(app, ["import", "decidim", str(pb), "--db", db])
    assert res.exit_code == 0, res.output
    assert "4 orders" in res.output and "4 counted as their own voter" in res.output
    rej = runner.invoke(app, ["rejections", "list", "--db", db, "--format", "csv"])
    assert "budget.pb,25,online,unknown_project" in rej.output and "Decidim project 99" in rej.output

    sheets = [("11",), ("12", "13"), ("11", "13")]
    add_paper(db, sheets)

    out = tmp_path / "paper.csv"
    res = runner.invoke(app, ["export", "decidim-paper", "--db", db, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[0] == "id;paper_ballots_to_import"
    assert read_paper_totals(out.read_text(), "paper.csv") == {"11": 2, "12": 1, "13": 2}
    # --match-total: what makes Decidim's displayed totals equal pbcount's (online 101-103 + paper)
    res = runner.invoke(app, ["export", "decidim-paper", "--db", db, "-o", str(out), "--match-total", str(pb)])
    assert res.exit_code == 0, res.output
    # pbcount totals: 11 -> 3 online + 2 paper, 12 -> 1 + 1, 13 -> 1 + 2; Decidim shows 3, 2, 1
    assert read_paper_totals(out.read_text(), "paper.csv") == {"11": 2, "12": 0, "13": 2}

    sheet = tmp_path / "sheet.txt"
    res = runner.invoke(app, ["export", "consul-ballot-sheets", "--db", db, "-o", str(sheet)])
    assert res.exit_code == 0, res.output
    inv = {"11": SheetInvestment("main", 500), "12": SheetInvestment("main", 400), "13": SheetInvestment("main", 300)}
    read, problems = parse_ballot_sheet(sheet.read_text(), inv, {"main": 1000})
    assert problems == []
    assert Counter(b.investment_ids for b in read) == Counter(sheets)

    typed = tmp_path / "typed.txt"
    typed.write_text("11,12\n11,11;99\n\n12,13,11\n", encoding="utf-8")
    res = runner.invoke(app, ["export", "consul-ballot-sheets", "--db", db, "--check", str(typed)])
    assert res.exit_code == 1, res.output
    assert "typed.txt:2 (ballot 2): duplicate_investment" in res.output
    assert "typed.txt:2 (ballot 3): unknown_investment" in res.output
    assert "typed.txt:3 (ballot 4): empty_ballot" in res.output
    assert "typed.txt:4 (ballot 5): insufficient_funds" in res.output


def test_consul_needs_numeric_ids_or_a_map(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    pb = tmp_path / "budget.pb"
    pb.write_text(DECIDIM.replace("\n11;", "\nA11;").replace("101;11,12", "101;A11,12"), encoding="utf-8")
    assert runner.invoke(app, ["import", "decidim", str(pb), "--db", db]).exit_code == 0
    sheet = tmp_path / "sheet.txt"
    res = runner.invoke(app, ["export", "consul-ballot-sheets", "--db", db, "-o", str(sheet)])
    assert res.exit_code == 2 and "project 'A11' has none" in res.output
    ids = tmp_path / "ids.csv"
    ids.write_text("project_id;platform_id\nA11;811\n", encoding="utf-8")
    res = runner.invoke(app, ["export", "consul-ballot-sheets", "--db", db, "-o", str(sheet), "--projects", str(ids)])
    assert res.exit_code == 0, res.output

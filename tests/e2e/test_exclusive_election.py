"""Exclusive projects declared in an election, end to end: definition -> e-votes -> count ->
publish -> verify.

fixtures/samples/exclusive_election.toml: North (budget 100,000, ``greedy-exclusive``) has
the group ``market-square`` = N1 (50,000) and N2 (40,000), two projects for one site; N3
costs 45,000, N4 10,000. Six voters; North votes N1 5, N2 4, N3 3, N4 2 (worked out by hand
from ``VOTES``). ``greedy-exclusive``: N1 funded (50,000 left), N2 excluded (N1 was funded
first), N3 funded (5,000 left), N4 does not fit: {N1, N3}. Plain ``greedy`` would fund N1
and N2 (10,000 left: N3 does not fit) then N4: {N1, N2, N4}, both projects of the site.
City (greedy, budget 100,000): C1 2 votes (60,000), C2 1 vote (30,000): both funded.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

from helpers.bundle_world import canonical, read_json, resign, write_json
from helpers.cli_election import publish_via_cli, run

from engine.storage.keyfiles import load_private_key
from engine.verifier.errors import VerificationFailure
from engine.verifier.verify import verify_bundle

EXCLUSIVE = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "exclusive_election.toml"
VOTES: list[dict[str, list[str]]] = [
    {"north": ["N1", "N2"], "city": ["C1"]},
    {"north": ["N1", "N2"], "city": ["C1"]},
    {"north": ["N1", "N2", "N3"], "city": ["C2"]},
    {"north": ["N1", "N2", "N3"]},
    {"north": ["N1", "N3", "N4"]},
    {"north": ["N4"]},
]


def published(tmp_path: Path, election: Path = EXCLUSIVE) -> tuple[Path, Path, Path]:
    """(keys, results directory, bundle) of the election counted from ``VOTES``."""
    return publish_via_cli(tmp_path, election, VOTES, ("6 accepted",))


def project_rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["project_id"]: r for r in csv.DictReader(path.open(encoding="utf-8"))}


def test_exclusive_election_counts_publishes_and_verifies(tmp_path: Path) -> None:
    keys, res_dir, bundle = published(tmp_path)
    rows = project_rows(res_dir / "projects.csv")
    assert [p for p, r in rows.items() if r["selected"] == "1"] == ["C1", "C2", "N1", "N3"]
    assert (rows["N1"]["reason"], rows["N3"]["reason"]) == ("funded", "funded")
    assert rows["N2"]["reason"] == "excluded"
    assert rows["N2"]["detail"] == "exclusive group 'market-square': N1 was funded first"
    assert (rows["N4"]["reason"], rows["N4"]["detail"]) == ("did_not_fit", "cost 10000 > 5000 left")
    assert (bundle / "projects.csv").read_bytes() == (res_dir / "projects.csv").read_bytes()
    definition = read_json(bundle / "election.json")["definition"]
    north = next(e for e in definition["envelopes"] if e["id"] == "north")
    assert north["rule"] == "greedy-exclusive"
    assert north["exclusive"] == [{"name": "market-square", "projects": ["N1", "N2"]}]
    code, out = run("verify", str(bundle), "--key", str(keys / "results.pub"))
    assert code == 0 and "VERIFIED" in out, out


def test_plain_greedy_would_fund_both_projects_of_the_site(tmp_path: Path) -> None:
    text = EXCLUSIVE.read_text(encoding="utf-8").replace('rule = "greedy-exclusive"', 'rule = "greedy"')
    plain = tmp_path / "plain.toml"
    plain.write_text(text[:text.index("[[envelopes.exclusive]]")] + text[text.index("[[projects]]"):],
                     encoding="utf-8")
    keys, res_dir, bundle = published(tmp_path, plain)
    rows = project_rows(res_dir / "projects.csv")
    assert [p for p, r in rows.items() if r["selected"] == "1" and p.startswith("N")] == ["N1", "N2", "N4"]
    assert rows["N3"]["reason"] == "did_not_fit"


def forged(bundle: Path, keys: Path, edit: Any) -> None:
    """A dishonest authority edits ``allocation.json`` with ``edit`` and signs again."""
    a = read_json(bundle / "allocation.json")
    edit(a["envelopes"]["north"])
    write_json(bundle / "allocation.json", a)
    resign(bundle, load_private_key(keys, "results"))


def test_an_excluded_project_marked_funded_fails_verify(tmp_path: Path) -> None:
    keys, _res, bundle = published(tmp_path)

    def fund_n2(entry: dict[str, Any]) -> None:
        entry["selected"] = ["N1", "N2", "N3"]
        entry["cost"] = 135000
        for o in entry["outcomes"]:
            if o["project_id"] == "N2":
                o.update(selected=True, reason="funded", detail="")

    forged(bundle, keys, fund_n2)
    try:
        verify_bundle(bundle)
    except VerificationFailure as exc:
        # N1 + N3 = 95,000 recomputed; the forgery claims N1 + N2 + N3
        assert exc.file == "allocation.json" and exc.check == "cost"
        assert "published 135000, recomputed 95000" in str(exc), str(exc)
    else:
        raise AssertionError("an excluded project marked funded verified")


def test_a_changed_exclusion_detail_fails_verify(tmp_path: Path) -> None:
    keys, _res, bundle = published(tmp_path)

    def reword(entry: dict[str, Any]) -> None:
        for o in entry["outcomes"]:
            if o["project_id"] == "N2":
                o["detail"] = "exclusive group 'market-square': N3 was funded first"

    forged(bundle, keys, reword)
    try:
        verify_bundle(bundle)
    except VerificationFailure as exc:
        assert exc.file == "allocation.json" and exc.check == "outcomes"
    else:
        raise AssertionError("a changed exclusion detail verified")


def test_the_verifier_counts_with_the_published_groups(tmp_path: Path) -> None:
    """The groups are in the hashed definition: a forger who moves N3 into the group (and
    re-hashes and re-signs everything) gets a definition under which the published
    allocation is wrong (N2 would be funded, N3 excluded)."""
    keys, _res, bundle = published(tmp_path)
    doc = read_json(bundle / "election.json")
    doc["definition"]["envelopes"][1]["exclusive"][0]["projects"] = ["N1", "N3"]
    doc["definition_hash"] = hashlib.sha256(canonical(doc["definition"]).encode()).hexdigest()
    write_json(bundle / "election.json", doc)
    m = read_json(bundle / "manifest.json")
    m["signed"]["definition_hash"] = doc["definition_hash"]
    write_json(bundle / "manifest.json", m)
    resign(bundle, load_private_key(keys, "results"))
    try:
        verify_bundle(bundle)
    except VerificationFailure as exc:
        # under the forged groups: N1, N2 (not in the group any more), N3 excluded, N4 = 100,000
        assert exc.file == "allocation.json" and exc.check == "cost", str(exc)
        assert "published 95000, recomputed 100000" in str(exc), str(exc)
    else:
        raise AssertionError("an allocation verified under different exclusive groups")

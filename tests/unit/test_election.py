"""Election definition: loading, validation errors naming the key, hashing, freezing."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from engine.errors import ElectionDefinitionError, ElectionFrozenError
from engine.formats.election_canonical import definition_hash, election_to_dict
from engine.formats.election_definition import election_from_dict, load_election
from engine.storage import Store

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "tiny_election.toml"


def tiny_doc() -> dict:
    return tomllib.loads(TINY.read_text())


def _error_of(mutate) -> str:  # type: ignore[no-untyped-def]
    """The ElectionDefinitionError message for ``tiny_doc()`` changed by ``mutate``."""
    doc = tiny_doc()
    mutate(doc)
    with pytest.raises(ElectionDefinitionError) as exc:
        election_from_dict(doc, "tiny")
    return str(exc.value)


def test_tiny_loads() -> None:
    e = load_election(TINY)
    assert e.id == "tiny-2026"
    assert [x.id for x in e.envelopes] == ["city", "north", "south"]
    assert [p.id for p in e.projects_in("north")] == ["N1", "N2", "N3"]
    assert e.envelope("city").category_limits == {"sport": 1}
    assert e.envelope("north").max_selection_cost == 50000
    assert e.envelope_by_code("SOUTH").id == "south"
    assert e.project("C1").popular_neighbourhood is True


def test_round_trip_and_hash_stable() -> None:
    e = load_election(TINY)
    again = election_from_dict(json.loads(json.dumps(election_to_dict(e))))
    assert definition_hash(again) == definition_hash(e)


def test_json_definition_loads(tmp_path: Path) -> None:
    p = tmp_path / "e.json"
    p.write_text(json.dumps(tiny_doc()))
    assert definition_hash(load_election(p)) == definition_hash(load_election(TINY))


def test_hash_changes_with_a_rule() -> None:
    doc = tiny_doc()
    h1 = definition_hash(election_from_dict(doc))
    doc["envelopes"][0]["rule"] = "greedy-stop"
    assert definition_hash(election_from_dict(doc)) != h1


@pytest.mark.parametrize(
    ("mutate", "where", "message"),
    [
        (lambda d: d["projects"][1].update(cost="lots"), "projects[1].cost", "must be int"),
        (lambda d: d["projects"][1].update(cost=-5), "projects[1].cost", "positive"),
        (lambda d: d["projects"][2].update(envelope="east"), "projects[2].envelope", "unknown envelope"),
        (lambda d: d["projects"][2].update(id="C1"), "projects[2].id", "duplicate"),
        (lambda d: d["envelopes"][0].update(kind="region"), "envelopes[0].kind", "must be one of"),
        (lambda d: d["envelopes"][0].update(rule="lottery"), "envelopes[0].rule", "unknown rule"),
        (lambda d: d["envelopes"][0].update(rule="majority-judgment"), "envelopes[0].rule",
         "needs grade or for/against ballots"),
        (lambda d: d["envelopes"][1].pop("budget"), "envelopes[1]", "missing required key 'budget'"),
        (lambda d: d["envelopes"][2].update(id="city"), "envelopes[2].id", "duplicate envelope"),
        (lambda d: d["election"].update(precedence="first"), "election.precedence", "unknown rule"),
        (lambda d: d.pop("envelopes"), "tiny", "missing required key 'envelopes'"),
        (lambda d: d["envelopes"][0].update(max_selections=True), "envelopes[0].max_selections", "integer"),
    ],
)
def test_errors_name_the_key(mutate, where: str, message: str) -> None:  # type: ignore[no-untyped-def]
    error = _error_of(mutate)
    assert where in error
    assert message in error


def test_syntax_error_names_file(tmp_path: Path) -> None:
    p = tmp_path / "broken.toml"
    p.write_text("[election\nid = 1")
    with pytest.raises(ElectionDefinitionError, match="broken.toml: syntax error"):
        load_election(p)


def test_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ElectionDefinitionError, match="cannot read file"):
        load_election(tmp_path / "nope.toml")


def test_rules_frozen_once_ingestion_started(tmp_path: Path) -> None:
    from engine.model.ballots import Channel, Rejection, SourceRef

    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    e = load_election(TINY)
    store.freeze_election(e)
    store.freeze_election(e)  # same definition: fine
    doc = tiny_doc()
    doc["envelopes"][0]["rule"] = "greedy-stop"
    changed = election_from_dict(doc)
    store.freeze_election(changed)  # nothing ingested yet: replacing is allowed
    assert store.election().envelope("city").rule == "greedy-stop"
    store.commit_chunk(None, "f" * 64, [Rejection(SourceRef("x.jsonl", 1), "malformed_line", "bad", Channel.ONLINE)])
    with pytest.raises(ElectionFrozenError, match="rules are frozen"):
        store.freeze_election(e)
    assert store.election().envelope("city").rule == "greedy-stop"
    actions = [a.action for a in store.audit_entries()]
    assert actions == ["election_frozen", "election_frozen"]


# ---- issue 13.11: typos are errors with a suggestion; error paths name the project


@pytest.mark.parametrize(
    ("mutate", "where", "suggestion"),
    [
        (lambda d: d["projects"][0].update(popular_neighborhood=True), "projects[0].popular_neighborhood",
         "popular_neighbourhood"),
        (lambda d: d["envelopes"][0].update(category_limit={"sport": 1}), "envelopes[0].category_limit",
         "category_limits"),
        (lambda d: d["election"].update(precedance="latest"), "election.precedance", "precedence"),
        (lambda d: d["voting"].update(required_kind=["citywide"]), "voting.required_kind", "required_kinds"),
        (lambda d: d.update(quota=[{"name": "q"}]), "tiny: quota", "quotas"),
        (lambda d: d.update(envelope=[]), "tiny: envelope", "envelopes"),
        (lambda d: d.update(opens="2026-05-01T00:00:00Z"), "tiny: opens", "[voting] opens"),
        (lambda d: d["envelopes"][0].update(category_limits={"sprot": 1}), "envelopes[0].category_limits.sprot",
         "sport"),
        (lambda d: d["voting"].update(max_envelopes_per_kind={"citywide": 1, "distric": 1}),
         "voting.max_envelopes_per_kind.distric", "district"),
    ],
)
def test_unknown_keys_are_errors_with_a_suggestion(mutate, where: str, suggestion: str) -> None:  # type: ignore[no-untyped-def]
    error = _error_of(mutate)
    assert where in error
    assert f"did you mean {suggestion!r}" in error or f"did you mean {suggestion}" in error


def test_quota_keys_are_checked() -> None:
    doc = tiny_doc()
    doc["quotas"] = [{"name": "pop", "group": {"popular_neighbourhood": True}, "min_shares": "1/3"}]
    with pytest.raises(ElectionDefinitionError, match=r"quotas\[0\].min_shares.*did you mean 'min_share'"):
        election_from_dict(doc, "tiny")
    doc["quotas"] = [{"name": "pop", "group": {"popular_neighborhood": True}, "min_share": "1/3"}]
    with pytest.raises(ElectionDefinitionError, match=r"did you mean 'popular_neighbourhood'"):
        election_from_dict(doc, "tiny")


def test_a_project_district_must_be_its_envelopes_district() -> None:
    doc = tiny_doc()
    north = next(p for p in doc["projects"] if p["envelope"] == "north")
    north["district"] = "S"
    with pytest.raises(ElectionDefinitionError) as exc:
        election_from_dict(doc, "tiny")
    assert f"project {north['id']!r}" in str(exc.value)
    assert "district 'S'" in str(exc.value) and "'N'" in str(exc.value)


def test_project_errors_name_the_project_id() -> None:
    doc = tiny_doc()
    doc["projects"][1]["cost"] = -5
    with pytest.raises(ElectionDefinitionError) as exc:
        election_from_dict(doc, "tiny")
    assert f"projects[1].cost (project {doc['projects'][1]['id']!r})" in str(exc.value)
    doc = tiny_doc()
    doc["envelopes"][1]["budget"] = 0
    with pytest.raises(ElectionDefinitionError, match=r"envelopes\[1\].budget \(envelope 'north'\)"):
        election_from_dict(doc, "tiny")


def test_metadata_keys_kept_for_pabulib_export() -> None:
    doc = tiny_doc()
    doc["country"] = "France"
    e = election_from_dict(doc, "tiny")
    assert e.extra == {"country": "France"}


def test_election_check_prints_a_summary_a_person_can_read(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pbcount.cli import app

    text = TINY.read_text() + '''
[[quotas]]
name = "popular"
group = { popular_neighbourhood = true }
min_share = "1/3"
envelopes = ["city"]
'''
    p = tmp_path / "e.toml"
    p.write_text(text)
    r = CliRunner().invoke(app, ["election", "check", str(p)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    out = r.output
    assert "city" in out and "100,000" in out  # envelopes and budgets
    assert "category limits" in out and "sport ≤ 1" in out
    assert "popular" in out and "1/3" in out and "popular_neighbourhood = true" in out
    assert "voting period" in out
    assert "precedence" in out and "paper-first" in out
    doc = tiny_doc()
    doc["projects"][0]["popular_neighborhood"] = True
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    r = CliRunner().invoke(app, ["election", "check", str(bad)])
    assert r.exit_code != 0 and "did you mean 'popular_neighbourhood'" in r.output

"""Exclusive groups in the election definition (``[[envelopes.exclusive]]``): parsing, every
validation error, the canonical form and hash, and the verifier's reading of them."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ElectionDefinitionError
from engine.formats.election_canonical import definition_hash, election_to_dict
from engine.formats.election_definition import election_from_dict, load_election
from engine.model.election import ExclusiveSpec
from engine.verifier.definition import parse_definition

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"
EXCLUSIVE = SAMPLES / "exclusive_election.toml"


def doc() -> dict[str, Any]:
    return tomllib.loads(EXCLUSIVE.read_text(encoding="utf-8"))


def north(d: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in d["envelopes"] if e["id"] == "north")


def error_of(mutate: Callable[[dict[str, Any]], object]) -> str:
    d = doc()
    mutate(d)
    with pytest.raises(ElectionDefinitionError) as exc:
        election_from_dict(d, "ex.toml")
    return str(exc.value)


def test_the_sample_declares_one_group_in_north() -> None:
    e = load_election(EXCLUSIVE)
    env = e.envelope("north")
    assert env is not None and env.rule == "greedy-exclusive"
    assert env.exclusive == (ExclusiveSpec("market-square", ("N1", "N2")),)
    assert e.envelope("city").exclusive == ()  # type: ignore[union-attr]


def test_inline_tables_are_the_same_definition() -> None:
    d = doc()
    north(d)["exclusive"] = [{"name": "market-square", "projects": ["N1", "N2"]}]
    assert election_from_dict(d) == load_election(EXCLUSIVE)


def test_canonical_form_carries_the_groups_and_the_hash_covers_them() -> None:
    e = load_election(EXCLUSIVE)
    canon = election_to_dict(e)
    assert north(canon)["exclusive"] == [{"name": "market-square", "projects": ["N1", "N2"]}]
    assert "exclusive" not in next(x for x in canon["envelopes"] if x["id"] == "city")
    again = election_from_dict(json.loads(json.dumps(canon)))
    assert again == e and definition_hash(again) == definition_hash(e)
    d = doc()
    north(d)["exclusive"][0]["projects"] = ["N1", "N3"]
    assert definition_hash(election_from_dict(d)) != definition_hash(e)
    d = doc()
    north(d)["exclusive"][0]["name"] = "the-square"
    assert definition_hash(election_from_dict(d)) != definition_hash(e)


def test_a_definition_without_groups_keeps_its_canonical_form() -> None:
    canon = election_to_dict(load_election(SAMPLES / "tiny_election.toml"))
    assert all("exclusive" not in x for x in canon["envelopes"])


def test_a_project_may_be_in_several_groups() -> None:
    d = doc()
    north(d)["exclusive"].append({"name": "trees", "projects": ["N2", "N3"]})
    env = election_from_dict(d).envelope("north")
    assert env is not None and [g.name for g in env.exclusive] == ["market-square", "trees"]


GROUP = "envelopes[1].exclusive[0].projects"


def _add(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: north(d)["exclusive"][0].update({key: value})


@pytest.mark.parametrize(
    ("mutate", "where", "message"),
    [
        (_add("projects", ["N1", "N22"]), f"{GROUP} (envelope 'north', group 'market-square')",
         "unknown project 'N22' (did you mean 'N2'?)"),
        (_add("projects", ["N1", "C2"]), f"{GROUP} (envelope 'north', group 'market-square')",
         "project 'C2' belongs to envelope 'city': an exclusive group stays within its envelope"),
        (_add("projects", ["N1"]), "envelopes[1].exclusive[0].projects (envelope 'north')",
         "an exclusive group needs at least two projects, got 1"),
        (_add("projects", ["N1", "N1"]), "envelopes[1].exclusive[0].projects (envelope 'north')",
         "project 'N1' is listed twice"),
        (_add("projects", ["N1", 3]), "envelopes[1].exclusive[0].projects[1] (envelope 'north')",
         "must be a project id, got 3"),
        (_add("projects", "N1 N2"), "envelopes[1].exclusive[0].projects (envelope 'north')", "must be list"),
        (_add("name", " "), "envelopes[1].exclusive[0].name (envelope 'north')", "must not be empty"),
        (_add("project", ["N1", "N2"]), "envelopes[1].exclusive[0].project (envelope 'north')",
         "unknown key 'project' (did you mean 'projects'?)"),
        (lambda d: north(d)["exclusive"][0].pop("name"), "envelopes[1].exclusive[0] (envelope 'north')",
         "missing required key 'name'"),
        (lambda d: north(d)["exclusive"].append({"name": "market-square", "projects": ["N3", "N4"]}),
         "envelopes[1].exclusive[1].name (envelope 'north')", "duplicate exclusive group name 'market-square'"),
        (lambda d: north(d).update(exclusive=["N1", "N2"]), "envelopes[1].exclusive[0] (envelope 'north')",
         "must be a table {name, projects}"),
        (lambda d: north(d).update(rule="greedy"), "envelopes[1].exclusive (envelope 'north')",
         "exclusive groups are counted by rule 'greedy-exclusive' only; this envelope has rule 'greedy'"),
        (lambda d: north(d).update(rule="mes"), "envelopes[1].exclusive (envelope 'north')",
         "this envelope has rule 'mes'"),
        (lambda d: north(d).pop("exclusive"), "envelopes[1].rule (envelope 'north')",
         "rule 'greedy-exclusive' needs the envelope's exclusive groups"),
        (lambda d: d["envelopes"][0].update(exclusive=[{"name": "x", "projects": ["C1", "C2"]}]),
         "envelopes[0].exclusive (envelope 'city')", "this envelope has rule 'greedy'"),
        (lambda d: d.update(quotas=[{"name": "n", "group": {"district": "N"}, "min_share": "1/3",
                                     "envelopes": ["north"]}]),
         "quotas[0]", "envelope 'north' uses rule 'greedy-exclusive', which does not support quotas"),
        (lambda d: north(d).update(ballot="grades"), "envelopes[1].rule (envelope 'north')",
         "rule 'greedy-exclusive' cannot count ballot = 'grades'"),
    ],
)
def test_every_validation_error_names_the_key(mutate: Callable[[dict[str, Any]], object], where: str,
                                              message: str) -> None:
    error = error_of(mutate)
    assert f"ex.toml: {where}" in error
    assert message in error


def test_a_savings_envelope_takes_no_groups() -> None:
    d = tomllib.loads((SAMPLES / "savings_election.toml").read_text(encoding="utf-8"))
    d["envelopes"][0]["exclusive"] = [{"name": "x", "projects": ["L1", "L2"]}]
    with pytest.raises(ElectionDefinitionError, match="unknown key 'exclusive'"):
        election_from_dict(d, "s.toml")


def test_the_verifier_reads_the_groups_of_the_published_definition() -> None:
    canon = election_to_dict(load_election(EXCLUSIVE))
    d = parse_definition(canon)
    env = next(e for e in d.envelopes if e.id == "north")
    assert env.exclusive == (("market-square", ("N1", "N2")),)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.update(rule="greedy"), "exclusive groups go with rule 'greedy-exclusive' only"),
        (lambda e: e.pop("exclusive"), "exclusive groups go with rule 'greedy-exclusive' only"),
        (lambda e: e["exclusive"][0].update(projects=["N1", "C1"]), "exclusive group 'market-square' needs two"),
        (lambda e: e["exclusive"][0].update(projects=["N1"]), "exclusive group 'market-square' needs two"),
        (lambda e: e["exclusive"].append({"name": "market-square", "projects": ["N3", "N4"]}), "used twice"),
    ],
)
def test_the_verifier_refuses_groups_the_definition_reader_refuses(mutate: Callable[[dict[str, Any]], object],
                                                                   message: str) -> None:
    canon = election_to_dict(load_election(EXCLUSIVE))
    mutate(north(canon))
    with pytest.raises(ValueError, match=message):
        parse_definition(canon)


def test_election_check_lists_the_groups() -> None:
    from pbcount.commands.election import summary_lines

    lines = summary_lines(load_election(EXCLUSIVE))
    assert "north: code NORTH, tie-break votes-cost-id; exclusive group 'market-square': N1, N2 " \
           "(at most one funded)" in lines

"""docs/architecture.md stays true: every file it names exists, and every function or
method it names in the path of a ballot is defined in the code."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGES = ("engine", "ballot_scan", "api", "pbcount", "fixtures", "benchmarks")


def defined_names() -> set[str]:
    names: set[str] = set()
    for pkg in PACKAGES:
        for p in (REPO / pkg).rglob("*.py"):
            names |= set(re.findall(r"^\s*(?:async\s+)?def\s+(\w+)", p.read_text(encoding="utf-8"), re.M))
    return names


def test_every_named_file_exists() -> None:
    paths = set(re.findall(r"\b((?:engine|ballot_scan|api|pbcount|fixtures|benchmarks)/[\w/]+\.py)\b", DOC))
    assert paths, "the drawing names no file"
    assert sorted(p for p in paths if not (REPO / p).is_file()) == []


def test_every_function_in_the_ballot_paths_is_defined() -> None:
    section = DOC.split("## The path of one ballot", 1)[1].split("\n## ", 1)[0]
    called = {m.split(".")[-1] for m in re.findall(r"\b([A-Za-z_][\w.]*)\(", section)}
    called -= {"RULES"}  # a registry indexed, not a function
    assert len(called) > 20
    assert sorted(called - defined_names()) == []

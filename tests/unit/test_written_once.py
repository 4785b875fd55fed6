"""Issue 12.6: things that were written several times (and drifted, or misled) are written once.

The stand-alone verifier's deliberate independent copies (engine/verifier/README.md) are
not counted.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.storage.store import Store

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "ballot_scan", "api", "pbcount")


def sources() -> dict[str, str]:
    out = {}
    for pkg in PACKAGES:
        for p in (REPO / pkg).rglob("*.py"):
            rel = p.relative_to(REPO).as_posix()
            if not rel.startswith("engine/verifier/"):
                out[rel] = p.read_text(encoding="utf-8")
    return out


def where(pattern: str) -> list[str]:
    rx = re.compile(pattern, re.MULTILINE)
    return sorted(f"{name}:{text[:m.start()].count(chr(10)) + 1}"
                  for name, text in sources().items() for m in rx.finditer(text))


def test_the_receipt_pattern_is_written_once() -> None:
    assert [w.split(":")[0] for w in where(re.escape("[0-9A-HJKMNP-TV-Z]{15}"))] == ["engine/model/receipts.py"]


def test_default_workers_is_defined_once() -> None:
    assert [w.split(":")[0] for w in where(r"^def default_workers\(")] == ["engine/services/workers.py"]


def test_allocation_result_to_plain_data_is_written_once() -> None:
    assert [w.split(":")[0] for w in where(r'"group_spent": r\.group_spent')] == ["engine/rules/problem.py"]
    assert [w.split(":")[0] for w in where(r'"detail": o\.detail')] == ["engine/rules/problem.py"]


def test_one_public_resolve_and_the_store_count_is_not_named_like_the_count() -> None:
    assert [w.split(":")[0] for w in where(r"^def resolve\(")] == ["ballot_scan/adjudicate.py"]
    assert not hasattr(Store, "count_ballots") and hasattr(Store, "ballot_count")


def test_superseded_reasons_are_named_once() -> None:
    from engine.counting.dedup import SUPERSEDED_REASONS

    for reason in SUPERSEDED_REASONS:
        assert len(where(f'"{reason}"')) == 1, (reason, where(f'"{reason}"'))

"""Shared pytest fixtures. Add fixtures additively; keep them cheap."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.paris import generate_paris

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PABULIB = SHARED / "pabulib"


def pabulib_dir() -> Path:
    """The real pabulib corpus, or skip the test with a clear message."""
    if not PABULIB.is_dir():
        pytest.skip(f"real pabulib data not found at {PABULIB} (needs ../shared/pabulib next to the repo)")
    return PABULIB


@pytest.fixture(scope="session")
def small_paris(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Paris-like fixture (2,000 online voters), generated once per session.

    Read-only: copy files before modifying them.
    """
    out = tmp_path_factory.mktemp("paris-small")
    generate_paris(out, seed=7, voters=2000, paper_voters=100)
    return out

"""Fixtures shared by the bundle tests: ``published`` (a bundle of the small Paris fixture,
published once per module; a module may override it, e.g. to add paper ballots) and
``bundle`` (a fresh copy of it for one test to edit)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.bundle_world import make_world


@pytest.fixture(scope="module")
def published(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = make_world(small_paris, tmp_path_factory.mktemp("published") / "world")
    _, out = world.publish("bundle")
    return out


@pytest.fixture
def bundle(published: Path, tmp_path: Path) -> Path:
    out = tmp_path / "bundle"
    shutil.copytree(published, out)
    return out

"""Shared pytest fixtures. Add fixtures additively; keep them cheap."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.paris import generate_paris

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
# PBCOUNT_PABULIB_DIR: the corpus elsewhere (e.g. from a git worktree, where ../shared is not next to it)
PABULIB = Path(os.environ.get("PBCOUNT_PABULIB_DIR") or SHARED / "pabulib")


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


# ---------------------------------------------------------------- store backends
# Store tests take ``store_url`` and run once on SQLite and once on PostgreSQL. The
# PostgreSQL run needs PBCOUNT_TEST_PG_URL (scripts/run-tests.sh starts a throwaway
# cluster and sets it); without it those runs skip, saying so. Each test gets a fresh
# empty database: a new SQLite file, or a new PostgreSQL schema (search_path in the URL,
# so subprocesses given the URL see the same schema), dropped afterwards.

PG_ENV = "PBCOUNT_TEST_PG_URL"


def pg_admin_url() -> str:
    """The PostgreSQL server for tests, or skip with a clear message."""
    import os

    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set (scripts/run-tests.sh starts a throwaway PostgreSQL)")
    return url


def _fresh_pg_schema_url(admin_url: str) -> tuple[str, str]:
    import uuid

    from sqlalchemy import create_engine

    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    sep = "&" if "?" in admin_url else "?"
    return f"{admin_url}{sep}options=-csearch_path%3D{schema}", schema


def _drop_pg_schema(admin_url: str, schema: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema (skips without PBCOUNT_TEST_PG_URL)."""
    admin = pg_admin_url()
    url, schema = _fresh_pg_schema_url(admin)
    yield url
    _drop_pg_schema(admin, schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh empty store, once per backend (SQLite file, PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    admin = pg_admin_url()
    url, schema = _fresh_pg_schema_url(admin)
    yield url
    _drop_pg_schema(admin, schema)


# The bundle tests' fixtures: ``published`` (a bundle of the small Paris fixture, published
# once per module; a module may override it, e.g. to add paper ballots) and ``bundle`` (a
# fresh copy of it for one test to edit).
@pytest.fixture(scope="module")
def published(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers.bundle_world import make_world

    world = make_world(small_paris, tmp_path_factory.mktemp("published") / "world")
    _, out = world.publish("bundle")
    return out


@pytest.fixture
def bundle(published: Path, tmp_path: Path) -> Path:
    out = tmp_path / "bundle"
    shutil.copytree(published, out)
    return out

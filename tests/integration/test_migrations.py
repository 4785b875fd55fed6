"""Schema migrations: empty store, store of the previous schema, store made before
migrations existed; the migrated schema equals ``engine.storage.schema.metadata``."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, inspect, select
from typer.testing import CliRunner

from engine.storage.migrations import alembic_config, current_revision, head_revision, upgrade_to_head
from engine.storage.schema import ballots, batches, election_table, metadata, rejections, tokens_seen
from engine.storage.store import Store
from pbcount.cli import app

BASELINE_TABLES = [election_table, batches, ballots, rejections, tokens_seen]


def schema_diff(engine: Engine, target: MetaData = metadata) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, target))


def user_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_revisions_form_one_line_ending_at_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [head_revision()]
    revs = list(script.walk_revisions())
    assert revs[-1].down_revision is None  # one baseline
    assert len({r.revision for r in revs}) == len(revs)


def test_empty_store_upgrades_to_head_and_equals_metadata(store_url: str) -> None:
    engine = create_engine(store_url)
    before, after = upgrade_to_head(engine)
    assert before is None and after == head_revision()
    assert user_tables(engine) == set(metadata.tables)
    # a forgotten migration (a table in schema.py with no revision) shows up here
    assert schema_diff(engine) == []
    engine.dispose()


def test_compare_detects_a_table_without_migration(tmp_path: Path) -> None:
    """The check above can fail: a table added to the metadata only is reported."""
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade_to_head(engine)
    extended = MetaData()
    for t in metadata.tables.values():
        t.to_metadata(extended)
    Table("forgotten", extended, Column("id", Integer, primary_key=True), Column("x", String(5)))
    diff = schema_diff(engine, extended)
    assert any(d[0] == "add_table" and d[1].name == "forgotten" for d in diff)  # type: ignore[index]
    engine.dispose()


def _seed_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(election_table.insert().values(
            id="e1", definition_json="{}", definition_hash="h" * 64, frozen_at="2026-01-01T00:00:00Z"))
        conn.execute(batches.insert().values(
            id=1, kind="evotes", source_name="a.jsonl", source_sha256="s" * 64, status="done",
            lines_committed=3, accepted=1, already_known=0, rejected=0, started_at="t"))
        conn.execute(ballots.insert().values(
            ballot_key="k" * 64, voter_serial="V1", channel="online", cast_at="t", selections="[]",
            receipt_id="R1", source_name="a.jsonl", source_line=1, batch_id=1, status="received"))


def _assert_seed_rows_kept(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(select(ballots.c.receipt_id)).scalars().all() == ["R1"]
        assert conn.execute(select(batches.c.lines_committed)).scalars().all() == [3]
        assert conn.execute(select(election_table.c.id)).scalars().all() == ["e1"]


def test_store_of_previous_revision_upgrades_keeping_data(store_url: str) -> None:
    engine = create_engine(store_url)
    script = ScriptDirectory.from_config(alembic_config())
    previous = script.get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, previous)
    with engine.connect() as conn:
        assert current_revision(conn) == previous
    assert user_tables(engine) <= set(metadata.tables)
    assert schema_diff(engine) != []  # the head revision changes something
    _seed_rows(engine)
    before, after = upgrade_to_head(engine)
    assert (before, after) == (previous, head_revision())
    _assert_seed_rows_kept(engine)
    assert schema_diff(engine) == []
    engine.dispose()


def test_store_created_before_migrations_existed_is_adopted(store_url: str) -> None:
    """The foundation's ``create_all`` made the baseline tables and no alembic_version."""
    engine = create_engine(store_url)
    metadata.create_all(engine, tables=BASELINE_TABLES)
    _seed_rows(engine)
    with engine.connect() as conn:
        assert current_revision(conn) is None
    before, after = upgrade_to_head(engine)
    assert before is None and after == head_revision()
    _assert_seed_rows_kept(engine)
    assert schema_diff(engine) == []
    engine.dispose()


def test_store_open_migrates_and_is_then_current(store_url: str) -> None:
    store = Store.open(store_url)
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    assert upgrade_to_head(store.engine) == (head_revision(), head_revision())
    store.close()


def test_cli_db_upgrade_then_status(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert first.exit_code == 0, first.output
    assert f"(empty) -> {head_revision()}" in first.output
    again = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert again.exit_code == 0 and "already at" in again.output
    status = runner.invoke(app, ["db", "status", "--db", url])
    assert status.exit_code == 0 and "current" in status.output


def test_cli_db_upgrade_unreachable_server_is_one_clear_line_without_password() -> None:
    result = CliRunner().invoke(
        app, ["db", "upgrade", "--db", "postgresql+psycopg://pb:s3cretpw@127.0.0.1:1/pb"]
    )
    assert result.exit_code == 2
    assert "cannot migrate" in result.output and "s3cretpw" not in result.output
    assert "Traceback" not in result.output


def _open_store(url: str) -> str:
    store = Store.open(url)
    store.close()
    return "ok"


@pytest.mark.postgres
def test_many_stations_opening_an_empty_postgres_store_at_once(pg_url: str) -> None:
    """Exactly one migrates (advisory lock); none fails on a half-created schema."""
    ctx = multiprocessing.get_context("fork")  # children open their own Store
    with ctx.Pool(4) as pool:
        assert pool.map(_open_store, [pg_url] * 4) == ["ok"] * 4
    engine = create_engine(pg_url)
    assert schema_diff(engine) == []
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    engine.dispose()


def test_migration_files_do_not_import_the_live_schema() -> None:
    """Revisions are frozen history: they must not build tables from today's metadata."""
    versions = Path(alembic_config().get_main_option("script_location") or "") / "versions"
    files = sorted(versions.glob("*.py"))
    assert files
    for f in files:
        assert "engine.storage.schema" not in f.read_text(), f.name


@pytest.mark.parametrize("url", ["nonsense", "mysql+nodriver://x/y"])
def test_cli_db_upgrade_bad_url_is_one_clear_line(url: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", url])
    # the same words as every other command opening the store (engine/storage/engine_config.py)
    assert result.exit_code == 2 and "not a usable database URL" in result.output
    assert "Traceback" not in result.output

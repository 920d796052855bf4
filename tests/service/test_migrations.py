"""The schema comes from alembic migrations; the models and the migrations never drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from service.migrations import upgrade
from service.store import database_url, make_engine

pytestmark = pytest.mark.parametrize("state_url", ["sqlite", "postgresql"], indirect=True)


def _url(state_url: str | None, tmp_path: Path) -> str:
    return state_url or f"sqlite:///{tmp_path / 'state.db'}"


def test_migrated_schema_matches_the_models(state_url: str | None, tmp_path: Path) -> None:
    engine = make_engine(_url(state_url, tmp_path))
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert diff == [], f"models and migrations differ: write a migration for {diff}"
    assert version == "0004"
    engine.dispose()


def test_a_database_from_the_first_release_is_upgraded_in_place(state_url: str | None, tmp_path: Path) -> None:
    url = database_url(_url(state_url, tmp_path))
    old = create_engine(url)
    upgrade(old, "0001")
    with old.begin() as connection:
        connection.execute(text("INSERT INTO runs (run_id, ticket_id, status, result_json, created_at, updated_at) "
                                "VALUES ('r1', 't1', 'done', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    old.dispose()
    engine = make_engine(url)  # what any command does on start
    columns = {c["name"] for c in inspect(engine).get_columns("runs")}
    assert {"latency_ms", "error"} <= columns and "jobs" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM runs WHERE run_id = 'r1'")).scalar_one() == "done"
    engine.dispose()

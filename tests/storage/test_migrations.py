"""Migrations: they build every table, agree with storage.tables (alembic check), and re-run safely."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from engine.errors import StorageError
from storage import check, create_database_engine, current, upgrade
from storage.migrate import head, make_config
from storage.tables import metadata

TABLES = {
    "definitions",
    "instances",
    "state_entries",
    "history",
    "history_payloads",
    "timers",
    "deadlines",
    "outbox",
    "idempotency_keys",
    "security_log",
    "access_log",
}


def inspect_db(url: str) -> tuple[set[str], set[str], dict[str, list[str]]]:
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            tables = set(inspector.get_table_names())
            triggers = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
            columns = {table: [column["name"] for column in inspector.get_columns(table)] for table in tables}
        return tables, triggers, columns
    finally:
        engine.dispose()


def test_metadata_declares_exactly_the_design_tables() -> None:
    assert set(metadata.tables) == TABLES


def test_upgrade_of_an_empty_database_creates_every_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert current(url) is None
    upgrade(url)
    tables, triggers, columns = inspect_db(url)
    assert tables == TABLES | {"alembic_version"}
    assert triggers == {"history_no_update", "history_no_delete"}
    for name, table in metadata.tables.items():
        assert columns[name] == [column.name for column in table.columns]
    assert current(url) == head() == "0001"


def test_the_migrations_match_the_tables(sqlite_url: str) -> None:
    check(sqlite_url)  # raises StorageError listing any difference


def test_check_reports_drift(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_outbox_status_serial")
    engine.dispose()
    with pytest.raises(StorageError, match="ix_outbox_status_serial"):
        check(sqlite_url)


def test_check_needs_an_up_to_date_database(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot check"):
        check(f"sqlite:///{tmp_path / 'empty.db'}")


def test_upgrade_is_idempotent_and_keeps_data(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO access_log (at, reader, instance_id, action) VALUES ('2025-01-01T00:00:00.000000Z', 'amira', NULL, 'list')"
        )
    engine.dispose()
    upgrade(sqlite_url)
    upgrade(sqlite_url)
    assert current(sqlite_url) == head()
    check(sqlite_url)
    engine = create_database_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT reader FROM access_log").scalars().all() == ["amira"]
    engine.dispose()


def test_downgrade_to_base_and_back(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            command.downgrade(make_config(conn), "base")
    finally:
        engine.dispose()
    assert inspect_db(sqlite_url)[0] == {"alembic_version"}
    assert current(sqlite_url) is None
    upgrade(sqlite_url)
    check(sqlite_url)


def test_offline_sql_renders_for_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    command.upgrade(make_config(url="postgresql+psycopg://qaflow@localhost/qaflow"), "head", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE history (" in sql
    assert "TIMESTAMP WITH TIME ZONE" in sql and "BYTEA" in sql and "BIGSERIAL" in sql
    assert "DEFERRABLE INITIALLY DEFERRED" in sql
    assert "CREATE TRIGGER" not in sql  # SQLite's triggers only


def test_migrations_ship_inside_the_package() -> None:
    migrations = importlib.resources.files("storage") / "migrations"
    assert (migrations / "env.py").is_file()
    assert (migrations / "script.py.mako").is_file()
    assert (migrations / "versions" / "0001_initial.py").is_file()

"""Migrations: they build every table, agree with storage.tables (alembic check), and re-run safely.

On SQLite and PostgreSQL alike (`db_url`, `empty_url`), except where a test says otherwise.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from engine.errors import StorageError
from storage import check, create_database_engine, current, upgrade
from storage.migrate import MIGRATIONS, head, make_config
from storage.revision import HEAD, REVISIONS
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
# History's guards: SQLite's row triggers (0001), PostgreSQL's statement triggers (0002).
TRIGGERS = {
    "sqlite": {"history_no_update", "history_no_delete"},
    "postgresql": {"history_no_update", "history_no_delete", "history_no_truncate"},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that qaflow never migrated, on each SQL backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        yield str(request.getfixturevalue("pg_empty_url"))


def backend(url: str) -> str:
    return sa.make_url(url).get_backend_name()


def inspect_db(url: str) -> tuple[set[str], set[str], dict[str, list[str]]]:
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            tables = set(inspector.get_table_names())
            if conn.dialect.name == "sqlite":
                found = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            else:
                found = conn.exec_driver_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            triggers = set(found.scalars())
            columns = {table: [column["name"] for column in inspector.get_columns(table)] for table in tables}
        return tables, triggers, columns
    finally:
        engine.dispose()


def test_metadata_declares_exactly_the_design_tables() -> None:
    assert set(metadata.tables) == TABLES


def test_upgrade_of_an_empty_database_creates_every_table(empty_url: str) -> None:
    assert current(empty_url) is None
    upgrade(empty_url)
    tables, triggers, columns = inspect_db(empty_url)
    assert tables == TABLES | {"alembic_version"}
    assert triggers == TRIGGERS[backend(empty_url)]
    for name, table in metadata.tables.items():
        assert columns[name] == [column.name for column in table.columns]
    assert current(empty_url) == head() == "0002"
    check(empty_url)


def test_the_migrations_match_the_tables(db_url: str) -> None:
    check(db_url)  # raises StorageError listing any difference


def test_check_reports_drift(db_url: str) -> None:
    engine = create_database_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_outbox_status_serial")
    engine.dispose()
    with pytest.raises(StorageError, match="ix_outbox_status_serial"):
        check(db_url)


def test_check_needs_an_up_to_date_database(empty_url: str) -> None:
    with pytest.raises(StorageError, match="cannot check"):
        check(empty_url)


def test_upgrade_is_idempotent_and_keeps_data(db_url: str) -> None:
    engine = create_database_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO access_log (at, reader, instance_id, action) VALUES ('2025-01-01T00:00:00.000000Z', 'amira', NULL, 'list')"
        )
    engine.dispose()
    upgrade(db_url)
    upgrade(db_url)
    assert current(db_url) == head()
    check(db_url)
    engine = create_database_engine(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT reader FROM access_log").scalars().all() == ["amira"]
    engine.dispose()


def test_downgrade_to_base_and_back(db_url: str) -> None:
    engine = create_database_engine(db_url)
    try:
        with engine.connect() as conn:
            command.downgrade(make_config(conn), "base")
    finally:
        engine.dispose()
    assert inspect_db(db_url)[:2] == ({"alembic_version"}, set())
    assert current(db_url) is None
    upgrade(db_url)
    assert inspect_db(db_url)[1] == TRIGGERS[backend(db_url)]
    check(db_url)


def test_downgrade_to_0001_removes_only_postgresql_guards(db_url: str) -> None:
    engine = create_database_engine(db_url)
    try:
        with engine.connect() as conn:
            command.downgrade(make_config(conn), "0001")
            function = (
                conn.exec_driver_sql("SELECT count(*) FROM pg_proc WHERE proname = 'history_append_only'").scalar()
                if conn.dialect.name == "postgresql"
                else 0
            )
    finally:
        engine.dispose()
    assert current(db_url) == "0001"
    assert inspect_db(db_url)[1] == (TRIGGERS["sqlite"] if backend(db_url) == "sqlite" else set())
    assert function == 0
    upgrade(db_url)
    check(db_url)


def test_offline_sql_renders_for_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    command.upgrade(make_config(url="postgresql+psycopg://qaflow@localhost/qaflow"), "head", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE history (" in sql
    assert "TIMESTAMP WITH TIME ZONE" in sql and "BYTEA" in sql and "BIGSERIAL" in sql
    assert "DEFERRABLE INITIALLY DEFERRED" in sql
    assert "CREATE FUNCTION history_append_only()" in sql
    for name in TRIGGERS["postgresql"]:
        assert f"CREATE TRIGGER {name} BEFORE" in sql
    assert "RAISE(ABORT" not in sql  # SQLite's triggers stay on SQLite


def test_offline_sql_for_sqlite_has_only_sqlite_triggers(capsys: pytest.CaptureFixture[str]) -> None:
    command.upgrade(make_config(url="sqlite:///offline.db"), "head", sql=True)
    sql = capsys.readouterr().out
    assert sql.count("CREATE TRIGGER") == 2 and "plpgsql" not in sql


def test_migrations_ship_inside_the_package() -> None:
    migrations = importlib.resources.files("storage") / "migrations"
    assert (migrations / "env.py").is_file()
    assert (migrations / "script.py.mako").is_file()
    versions = migrations / "versions"
    assert (versions / "0001_initial.py").is_file()
    assert (versions / "0002_postgresql_history_append_only.py").is_file()


def test_the_revisions_known_without_alembic_are_alembics() -> None:
    # open_store checks the schema against storage.revision, without importing alembic
    scripts = ScriptDirectory(str(MIGRATIONS))
    assert tuple(script.revision for script in reversed(list(scripts.walk_revisions()))) == REVISIONS
    assert HEAD == head() == scripts.get_current_head()

"""PostgreSQL specifics: FOR UPDATE serialises units of work, lock timeouts, history's
triggers, time zones, error mapping, lost connections and the driver.

Every test here runs on a fresh database cloned from the session's template (tests/conftest.py,
tests/pg_support.py); they are skipped when PostgreSQL is unreachable, and fail under CI.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from storage_records import definition, history_row, instance, payload

from engine.errors import ConflictError, StorageError
from engine.store.records import InstanceRecord
from storage import SqlStore, create_database_engine, open_store
from storage.database import translate_error
from storage.prepared import Prepared
from storage.store import _LOCK_INSTANCE
from storage.tables import outbox

ID_A = "0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2a"
WAIT = 120.0  # seconds: a hang guard only (no test asserts speed); far beyond any real wait


def seed(store: SqlStore, *instance_ids: str) -> None:
    with store.unit_of_work() as uow:
        uow.definitions.add(definition())
        for instance_id in instance_ids:
            uow.instances.add(instance(instance_id))
            uow.history.append(history_row(instance_id, 1), payload(instance_id, 1))


@pytest.fixture
def admin(pg_url: str) -> Iterator[sa.Engine]:
    """A plain engine on the test's database, for looking at it from outside the store."""
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def waiting_for_a_lock(admin: sa.Engine) -> list[str]:
    """The queries of this database's sessions that are waiting for a lock right now."""
    with admin.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).scalars()
        )


def wait_until(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting until {what}")


# --- FOR UPDATE --------------------------------------------------------------------------


def test_instances_lock_renders_for_update(pg_store: SqlStore) -> None:
    assert _LOCK_INSTANCE.sql(pg_store.engine.dialect).endswith("FOR UPDATE")


def test_for_update_serialises_two_units_of_work_on_one_instance(pg_store: SqlStore, admin: sa.Engine) -> None:
    seed(pg_store, ID_A)
    first_locked, release = threading.Event(), threading.Event()
    seen: list[InstanceRecord | None] = []
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with pg_store.unit_of_work() as uow:
                assert uow.instances.lock(ID_A) == instance(ID_A)
                first_locked.set()
                assert release.wait(WAIT), "never released"
                uow.instances.update(instance(ID_A, lock_version=2, state="completed"), 1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_locked.set()

    def second() -> None:
        try:
            with pg_store.unit_of_work() as uow:
                locked = uow.instances.lock(ID_A)  # waits here until `first` commits
                seen.append(locked)
                assert locked is not None
                uow.instances.update(instance(ID_A, lock_version=3, state="closed"), locked.lock_version)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    one = threading.Thread(target=first)
    two = threading.Thread(target=second)
    one.start()
    try:
        assert first_locked.wait(WAIT)
        two.start()
        blocked = wait_until(lambda: waiting_for_a_lock(admin), "the second unit of work waits for the row lock")
        assert any("FOR UPDATE" in query for query in blocked)
        assert seen == []  # still waiting
        with pg_store.unit_of_work() as uow:  # a plain read neither waits nor sees uncommitted work
            assert uow.instances.get(ID_A) == instance(ID_A)
    finally:
        release.set()
        one.join(WAIT)
        if two.ident is not None:  # started
            two.join(WAIT)
    assert errors == []
    assert seen == [instance(ID_A, lock_version=2, state="completed")]  # the first one's commit, not the row it waited on
    with pg_store.unit_of_work() as uow:
        assert uow.instances.get(ID_A) == instance(ID_A, lock_version=3, state="closed")


def test_a_lock_not_obtained_in_time_is_a_conflict(pg_url: str) -> None:
    holder = open_store(pg_url)
    impatient = SqlStore(create_database_engine(pg_url, busy_timeout_ms=50))
    try:
        seed(holder, ID_A)
        with holder.unit_of_work() as uow:
            uow.instances.lock(ID_A)
            with pytest.raises(ConflictError, match="try again") as raised, impatient.unit_of_work() as other:
                other.instances.lock(ID_A)
        cause = raised.value.__cause__
        assert isinstance(cause, DBAPIError) and isinstance(cause.orig, psycopg.errors.LockNotAvailable)
        with impatient.unit_of_work() as other:  # free again; the connection was rolled back, not lost
            assert other.instances.lock(ID_A) == instance(ID_A)
    finally:
        holder.close()
        impatient.close()


def test_connections_wait_five_seconds_for_a_lock_by_default(pg_store: SqlStore) -> None:
    with pg_store.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "5s"


# --- error mapping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable],
)
def test_serialization_deadlock_and_lock_errors_are_conflicts(error: type[psycopg.Error]) -> None:
    wrapped = DBAPIError.instance("SELECT 1", {}, error("boom"), psycopg.Error)
    translated = translate_error(wrapped)
    assert isinstance(translated, ConflictError)


def test_other_driver_errors_are_storage_errors() -> None:
    wrapped = DBAPIError.instance("SELECT 1", {}, psycopg.errors.DiskFull("no space"), psycopg.Error)
    translated = translate_error(wrapped)
    assert type(translated) is StorageError and "no space" in str(translated)


def test_a_serialization_failure_at_commit_is_a_conflict(pg_url: str) -> None:
    # REPEATABLE READ (not what qaflow uses) is the simplest way to make PostgreSQL refuse a
    # transaction at commit time; the store must turn that into a ConflictError too.
    store = SqlStore(create_database_engine(pg_url).execution_options(isolation_level="REPEATABLE READ"))
    other = open_store(pg_url)
    try:
        seed(other, ID_A)
        with pytest.raises(ConflictError), store.unit_of_work() as uow:
            assert uow.instances.get(ID_A) == instance(ID_A)  # the snapshot is taken here
            with other.unit_of_work() as meanwhile:
                meanwhile.instances.update(instance(ID_A, lock_version=2), 1)
            uow.instances.update(instance(ID_A, lock_version=2, state="x"), 1)  # 40001: concurrent update
        with other.unit_of_work() as uow:
            assert uow.instances.get(ID_A) == instance(ID_A, lock_version=2)
    finally:
        store.close()
        other.close()


def test_a_lost_connection_is_a_storage_error_and_the_next_unit_of_work_reconnects(pg_store: SqlStore, admin: sa.Engine) -> None:
    seed(pg_store, ID_A)
    with pytest.raises(StorageError), pg_store.unit_of_work() as uow:
        pid = uow._cursor.connection.info.backend_pid
        with admin.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        uow.instances.get(ID_A)
    with pg_store.unit_of_work() as uow:
        assert uow.instances.get(ID_A) == instance(ID_A)


def test_an_unreachable_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="database error"):
        open_store("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg2://u@localhost/db", "unsupported PostgreSQL driver"),
        ("postgresql+asyncpg://u@localhost/db", "unsupported PostgreSQL driver"),
        ("mysql://u@localhost/db", "unsupported database"),
    ],
)
def test_only_psycopg_3_is_accepted(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        create_database_engine(url)


def test_a_bare_postgresql_url_uses_psycopg_3(pg_url: str) -> None:
    bare = sa.make_url(pg_url).set(drivername="postgresql")
    engine = create_database_engine(bare)
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


# --- history's triggers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE history SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM history WHERE seq = 1",
        "DELETE FROM history WHERE false",  # refused as a statement, whatever it matches
        "TRUNCATE history CASCADE",
    ],
)
def test_history_triggers_refuse_update_delete_and_truncate(pg_store: SqlStore, statement: str) -> None:
    seed(pg_store, ID_A)
    with pytest.raises(IntegrityError, match="history is append-only") as raised, pg_store.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert raised.value.orig is not None and raised.value.orig.sqlstate == "23000"
    with pg_store.unit_of_work() as uow:
        assert uow.history.rows(ID_A) == [history_row(ID_A, 1)]
        assert list(uow.history.payloads(ID_A)) == [1]


def test_history_payloads_can_still_be_redacted(pg_store: SqlStore) -> None:
    seed(pg_store, ID_A)
    with pg_store.engine.begin() as conn:
        changed = conn.exec_driver_sql("UPDATE history_payloads SET body = NULL, redacted_at = now()").rowcount
    assert changed == 1


# --- time zones --------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Pacific/Chatham", "America/St_Johns", "Europe/London"])
def test_aware_times_round_trip_whatever_the_session_time_zone(pg_url: str, admin: sa.Engine, zone: str) -> None:
    with admin.begin() as conn:  # every new session on this database starts in `zone`
        conn.exec_driver_sql(f"ALTER DATABASE \"{sa.make_url(pg_url).database}\" SET timezone TO '{zone}'")
    store = open_store(pg_url)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW timezone").scalar() == zone
        seed(store)
        summer = dt.timezone(dt.timedelta(hours=1))
        record = instance(ID_A)
        moved = type(record)(**{**vars(record), "created_at": dt.datetime(2025, 7, 1, 9, 30, 0, 5, tzinfo=summer)})
        with store.unit_of_work() as uow:
            uow.instances.add(moved)
            uow.history.append(history_row(ID_A, 1), payload(ID_A, 1))
        with store.unit_of_work() as uow:
            got = uow.instances.get(ID_A)
            rows = uow.history.rows(ID_A)
        assert got == moved
        assert got is not None and got.created_at.tzinfo is dt.UTC and got.updated_at.tzinfo is dt.UTC
        assert got.created_at == dt.datetime(2025, 7, 1, 8, 30, 0, 5, tzinfo=dt.UTC)
        assert rows == [history_row(ID_A, 1)] and rows[0].at.tzinfo is dt.UTC
        with store.engine.connect() as conn:  # stored as the instant: in UTC, whatever the session says
            stored = conn.exec_driver_sql("SELECT created_at AT TIME ZONE 'UTC', created_at FROM instances").one()
        assert stored[0] == dt.datetime(2025, 7, 1, 8, 30, 0, 5)
        assert stored[1].utcoffset() != dt.timedelta(0)  # the driver hands back the session's zone
    finally:
        store.close()


# --- the driver --------------------------------------------------------------------------


def test_prepared_statements_use_psycopgs_paramstyle_and_only_the_parameters_they_render(pg_store: SqlStore) -> None:
    pending = Prepared(sa.select(outbox.c.id).where(outbox.c.status == "pending"))
    compiled = pending.compiled(pg_store.engine.dialect)
    assert pg_store.engine.dialect.paramstyle == "pyformat" and not compiled.positional
    assert [name for name, *_ in compiled.binds] == ["status_1"]
    assert "%(status_1)s" in compiled.sql


def test_statements_run_many_times_stay_correct_once_psycopg_prepares_them(pg_store: SqlStore) -> None:
    # psycopg prepares a query on the server after its fifth run (prepare_threshold)
    seed(pg_store, ID_A)
    for n in range(2, 12):
        with pg_store.unit_of_work() as uow:
            locked = uow.instances.lock(ID_A)
            assert locked is not None and locked.lock_version == n - 1
            uow.instances.update(instance(ID_A, lock_version=n), n - 1)
            uow.history.append(history_row(ID_A, n), payload(ID_A, n))
    with pg_store.unit_of_work() as uow:
        assert [row.seq for row in uow.history.rows(ID_A)] == list(range(1, 12))
        assert uow.instances.get(ID_A) == instance(ID_A, lock_version=11)

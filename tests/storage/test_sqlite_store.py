"""SQLite specifics: settings, the write lock, time columns as text, opening a file.

What holds on both SQL backends is in test_sql_store.py; PostgreSQL's own in test_postgresql_store.py.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from storage_records import at, definition, history_row, instance, payload

from engine.errors import ConflictError, StorageError
from storage import SqlStore, create_database_engine, open_store
from storage.database import LOCK_ATTEMPTS

ID_A = "0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2a"
ID_B = "0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2b"


def seed(store: SqlStore, *instance_ids: str) -> None:
    with store.unit_of_work() as uow:
        uow.definitions.add(definition())
        for instance_id in instance_ids:
            uow.instances.add(instance(instance_id))
            uow.history.append(history_row(instance_id, 1), payload(instance_id, 1))


def pragma(engine: sa.Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


# --- connection settings ---------------------------------------------------------------


def test_connections_use_wal_foreign_keys_and_full_sync_by_default(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url)
    try:
        assert pragma(engine, "journal_mode") == "wal"
        assert pragma(engine, "foreign_keys") == 1
        assert pragma(engine, "synchronous") == 2  # FULL
        assert pragma(engine, "busy_timeout") == 5000
    finally:
        engine.dispose()


def test_synchronous_normal_when_asked(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url, synchronous="normal", busy_timeout_ms=250)
    try:
        assert pragma(engine, "synchronous") == 1  # NORMAL
        assert pragma(engine, "busy_timeout") == 250
    finally:
        engine.dispose()


@pytest.mark.parametrize("bad", ["OFF", "EXTRA", ""])
def test_other_synchronous_levels_are_refused(sqlite_url: str, bad: str) -> None:
    with pytest.raises(StorageError, match="synchronous must be FULL or NORMAL"):
        create_database_engine(sqlite_url, synchronous=bad)


def test_a_bad_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="not a database URL"):
        create_database_engine("not a url")


# --- the write lock ----------------------------------------------------------------------


def test_begin_immediate_takes_the_write_lock_even_for_reads(sqlite_url: str) -> None:
    holder = open_store(sqlite_url)
    other = SqlStore(create_database_engine(sqlite_url, busy_timeout_ms=20))
    try:
        with holder.unit_of_work() as uow:
            uow.instances.list()  # only a read: a deferred BEGIN would take no lock
            with pytest.raises(ConflictError, match="locked") as raised, other.unit_of_work():
                pass
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        with other.unit_of_work() as uow:  # the lock is free again
            assert uow.instances.list() == []
    finally:
        holder.close()
        other.close()


def test_a_locked_begin_is_retried_before_it_becomes_a_conflict(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []
    holder = open_store(sqlite_url)
    engine = create_database_engine(sqlite_url, busy_timeout_ms=1)

    @sa.event.listens_for(engine, "connect")
    def trace(dbapi_connection: sqlite3.Connection, record: object) -> None:
        dbapi_connection.set_trace_callback(attempts.append)  # every statement SQLite runs

    other = SqlStore(engine)
    try:
        with holder.unit_of_work(), pytest.raises(ConflictError):
            other.unit_of_work().__enter__()
        assert attempts.count("BEGIN IMMEDIATE") == LOCK_ATTEMPTS
        with other.unit_of_work() as uow:  # no connection was left stuck in a half-begun state
            assert uow.instances.get(ID_A) is None
    finally:
        holder.close()
        other.close()


def test_a_second_writer_waits_for_the_first_and_then_sees_its_commit(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    started = threading.Event()
    errors: list[BaseException] = []

    def first_writer() -> None:
        try:
            with sqlite_store.unit_of_work() as uow:
                uow.instances.add(instance(ID_A))
                started.set()
                threading.Event().wait(0.2)  # hold the lock while the other thread tries
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=first_writer)
    thread.start()
    started.wait()
    with sqlite_store.unit_of_work() as uow:  # waits in BEGIN IMMEDIATE (busy_timeout 5 s)
        assert uow.instances.get(ID_A) == instance(ID_A)
        uow.instances.update(instance(ID_A, lock_version=2, state="completed"), 1)
    thread.join()
    assert errors == []


# --- time columns ------------------------------------------------------------------------


def test_times_are_stored_as_sortable_utc_text_and_read_back_aware(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    london = dt.timezone(dt.timedelta(hours=1))
    record = instance(ID_A)
    moved = type(record)(**{**vars(record), "created_at": dt.datetime(2025, 7, 1, 9, 30, 0, 5, tzinfo=london)})
    with sqlite_store.unit_of_work() as uow:
        uow.instances.add(moved)
    with sqlite_store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT created_at, updated_at FROM instances").one()
    assert stored == ("2025-07-01T08:30:00.000005Z", "2025-03-30T01:00:01.123457Z")
    with sqlite_store.unit_of_work() as uow:
        got = uow.instances.get(ID_A)
    assert got is not None and got.created_at.tzinfo is dt.UTC and got.updated_at.tzinfo is dt.UTC
    assert got.created_at == moved.created_at


def test_utc_text_sorts_in_time_order(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    moments = [at(0), at(0.000001), at(59), at(3600 * 24 * 400), dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)]
    with sqlite_store.unit_of_work() as uow:
        for n, moment in enumerate(moments):
            record = instance(f"i-{n}")
            uow.instances.add(type(record)(**{**vars(record), "created_at": moment}))
    with sqlite_store.engine.connect() as conn:
        ordered = conn.exec_driver_sql("SELECT created_at FROM instances ORDER BY created_at").scalars().all()
    assert ordered == sorted(ordered)
    with sqlite_store.unit_of_work() as uow:
        assert sorted(record.created_at for record in uow.instances.list()) == sorted(moments)


# --- opening a store ---------------------------------------------------------------------


def test_open_store_refuses_a_missing_file_without_creating_it(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(StorageError, match="run `qaflow db upgrade`"):
        open_store(f"sqlite:///{path}")
    assert not path.exists()


def test_open_store_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(StorageError, match="has no qaflow schema; run `qaflow db upgrade`"):
        open_store(f"sqlite:///{path}")


def test_open_store_checks_the_schema_without_the_write_lock(sqlite_url: str) -> None:
    # DESIGN §4.10: the revision check is a read, so it goes ahead while a writer holds the lock
    holder = sqlite3.connect(sa.make_url(sqlite_url).database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        store = open_store(sqlite_url)
        try:
            with store.unit_of_work(read_only=True) as uow:
                assert uow.instances.list() == []
        finally:
            store.close()
    finally:
        holder.rollback()
        holder.close()


def test_open_store_reads_a_database_the_user_may_only_read(sqlite_url: str) -> None:
    seeded = open_store(sqlite_url)
    try:
        seed(seeded, ID_A)
    finally:
        seeded.close()
    # mode=ro is how SQLite opens a file without write permission (a test run as root still
    # could write to a chmod 444 file)
    store = open_store(f"sqlite:///file:{sa.make_url(sqlite_url).database}?mode=ro&uri=true")
    try:
        with store.unit_of_work(read_only=True) as uow:
            assert uow.instances.get(ID_A) == instance(ID_A)
    finally:
        store.close()


def test_open_store_can_migrate_a_new_database(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'new.db'}", migrate=True, synchronous="NORMAL")
    try:
        seed(store, ID_A)
        with store.unit_of_work() as uow:
            assert uow.instances.get(ID_A) == instance(ID_A)
        assert pragma(store.engine, "synchronous") == 1
    finally:
        store.close()


def test_an_in_memory_database_can_be_migrated_and_used() -> None:
    store = open_store("sqlite://", migrate=True)
    try:
        seed(store, ID_A)
        with store.unit_of_work() as uow:
            assert uow.instances.get(ID_A) == instance(ID_A)
        assert pragma(store.engine, "foreign_keys") == 1  # back on after the migration
    finally:
        store.close()

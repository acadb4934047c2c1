"""SqlStore on both SQL backends (SQLite and PostgreSQL): what holds beyond the store contract.

Integrity at commit, append-only history, redaction, error mapping and opening a store. Each
backend's own machinery (SQLite's write lock, PostgreSQL's row locks and time zones) is
tested in test_sqlite_store.py and test_postgresql_store.py.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from storage_records import definition, history_row, instance, payload

from engine.errors import ConflictError, StorageError
from engine.store.records import HistoryPayload
from storage import SqlStore, create_database_engine, open_store
from storage.prepared import Prepared
from storage.tables import history

ID_A = "0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2a"
ID_B = "0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2b"


def seed(store: SqlStore, *instance_ids: str) -> None:
    with store.unit_of_work() as uow:
        uow.definitions.add(definition())
        for instance_id in instance_ids:
            uow.instances.add(instance(instance_id))
            uow.history.append(history_row(instance_id, 1), payload(instance_id, 1))


def test_a_unit_of_work_inside_another_on_one_thread_is_refused_at_once(sql_store: SqlStore) -> None:
    with sql_store.unit_of_work(), pytest.raises(RuntimeError, match="already open"), sql_store.unit_of_work():
        pass
    with sql_store.unit_of_work() as uow:  # and the store is usable afterwards
        assert uow.instances.list() == []


def test_a_read_only_unit_of_work_inside_a_write_one_is_refused_too(sql_store: SqlStore) -> None:
    with sql_store.unit_of_work(), pytest.raises(RuntimeError, match="already open"), sql_store.unit_of_work(read_only=True):
        pass
    with sql_store.unit_of_work() as uow:
        assert uow.instances.list() == []


def test_each_thread_reuses_its_own_units_of_work_and_their_repositories(sql_store: SqlStore) -> None:
    # made once per thread and per read_only, so an event allocates no repository objects
    first = sql_store.unit_of_work()
    with first as uow:
        repositories = (uow.instances, uow.history)
    assert sql_store.unit_of_work() is first
    with sql_store.unit_of_work() as again:
        assert (again.instances, again.history) == repositories
    assert sql_store.unit_of_work(read_only=True) is not first
    elsewhere: list[object] = []
    thread = threading.Thread(target=lambda: elsewhere.append(sql_store.unit_of_work()))
    thread.start()
    thread.join()
    assert elsewhere and elsewhere[0] is not first


# --- history is append-only; payloads can be redacted ------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE history SET actor = 'mallory' WHERE seq = 1",
        "UPDATE history SET seq = seq + 1",
        "DELETE FROM history WHERE seq = 1",
        "DELETE FROM history",
    ],
)
def test_history_refuses_update_and_delete(sql_store: SqlStore, statement: str) -> None:
    seed(sql_store, ID_A)
    with pytest.raises(IntegrityError, match="history is append-only"), sql_store.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    with sql_store.unit_of_work() as uow:
        assert uow.history.rows(ID_A) == [history_row(ID_A, 1)]


def test_history_refusal_inside_a_unit_of_work_is_a_storage_error(sql_store: SqlStore) -> None:
    seed(sql_store, ID_A)
    with pytest.raises(StorageError, match="history is append-only") as raised, sql_store.unit_of_work() as uow:
        uow._run(Prepared(history.delete()), {})  # a bug in a repository, as the triggers imagine it
    assert isinstance(raised.value.__cause__, IntegrityError)
    with sql_store.unit_of_work() as uow:
        assert [row.seq for row in uow.history.rows(ID_A)] == [1]


def test_a_redacted_payload_reads_back_with_its_time(sql_store: SqlStore) -> None:
    seed(sql_store, ID_A)
    with sql_store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE history_payloads SET body = NULL, redacted_at = :at WHERE instance_id = :id"),
            {"at": "2025-06-01T12:00:00.000001Z", "id": ID_A},
        )
    with sql_store.unit_of_work() as uow:
        redacted = HistoryPayload(ID_A, 1, None, dt.datetime(2025, 6, 1, 12, 0, 0, 1, tzinfo=dt.UTC))
        assert uow.history.payloads(ID_A) == {1: redacted}


# --- integrity ---------------------------------------------------------------------------


def test_a_dangling_reference_fails_the_commit_and_leaves_nothing(sql_store: SqlStore) -> None:
    seed(sql_store)
    with pytest.raises(StorageError, match=r"(?i)foreign key") as raised, sql_store.unit_of_work() as uow:
        uow.history.append(history_row(ID_B, 1), payload(ID_B, 1))  # no such instance
    assert isinstance(raised.value.__cause__, IntegrityError)
    with sql_store.unit_of_work() as uow:
        assert uow.history.rows(ID_B) == []


def test_writes_may_come_in_any_order_within_a_unit_of_work(sql_store: SqlStore) -> None:
    with sql_store.unit_of_work() as uow:  # foreign keys are checked at commit
        uow.history.append(history_row(ID_A, 1), payload(ID_A, 1))
        uow.instances.add(instance(ID_A))
        uow.definitions.add(definition())
    with sql_store.unit_of_work() as uow:
        assert uow.instances.get(ID_A) == instance(ID_A)


def test_a_duplicate_is_a_conflict_chained_to_the_driver_error(sql_store: SqlStore) -> None:
    seed(sql_store, ID_A)
    with pytest.raises(ConflictError, match=f"history row 1 of {ID_A} already exists") as raised, sql_store.unit_of_work() as uow:
        uow.history.append(history_row(ID_A, 1), payload(ID_A, 1))
    assert isinstance(raised.value.__cause__, IntegrityError)


def test_the_store_is_usable_after_a_failed_unit_of_work(sql_store: SqlStore) -> None:
    # PostgreSQL aborts the transaction at the first error; the connection goes back to the
    # pool rolled back, and the next unit of work starts clean.
    seed(sql_store, ID_A)
    for _ in range(3):
        with pytest.raises(ConflictError), sql_store.unit_of_work() as uow:
            uow.instances.add(instance(ID_A))
    with sql_store.unit_of_work() as uow:
        uow.instances.update(instance(ID_A, lock_version=2, state="completed"), 1)
    with sql_store.unit_of_work() as uow:
        assert uow.instances.get(ID_A) == instance(ID_A, lock_version=2, state="completed")


def test_a_naive_time_is_refused(sql_store: SqlStore) -> None:
    seed(sql_store)
    record = instance(ID_A)
    naive = type(record)(**{**vars(record), "created_at": dt.datetime(2025, 1, 1, 12, 0)})
    with pytest.raises(ValueError, match="aware datetime"), sql_store.unit_of_work() as uow:
        uow.instances.add(naive)


# --- opening a store ---------------------------------------------------------------------


def test_open_store_refuses_a_schema_it_does_not_know(db_url: str) -> None:
    engine = create_database_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(StorageError, match="revision 9999, which this qaflow does not know"):
        open_store(db_url)


def test_open_store_refuses_a_schema_that_is_behind(db_url: str) -> None:
    engine = create_database_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    engine.dispose()
    with pytest.raises(StorageError, match="revision 0001, this qaflow needs 0002; run `qaflow db upgrade`"):
        open_store(db_url)

"""Reads don't queue behind writers: a read-only unit of work takes no write lock on SQLite."""

from __future__ import annotations

import dataclasses

import pytest

from engine.errors import ConflictError
from storage import SqlStore, create_database_engine
from tests.storage.test_store_contract import ID_A, seed


def test_a_read_goes_ahead_while_a_writer_holds_the_lock(sqlite_url: str) -> None:
    writer = SqlStore(create_database_engine(sqlite_url, busy_timeout_ms=50))
    reader = SqlStore(create_database_engine(sqlite_url, busy_timeout_ms=50))
    try:
        seed(writer, ID_A)
        with writer.unit_of_work() as held:  # BEGIN IMMEDIATE: the write lock, until we leave
            held.instances.lock(ID_A)
            # the reader gives up on a lock after 50 ms (as the writer below shows), so a read
            # that needed the lock would fail here rather than answer
            with reader.unit_of_work(read_only=True) as uow:
                assert uow.instances.get(ID_A) is not None
                assert len(uow.history.rows(ID_A)) == 1
            with pytest.raises(ConflictError), reader.unit_of_work() as blocked:  # a writer does wait, then gives up
                blocked.instances.get(ID_A)
    finally:
        writer.close()
        reader.close()


def test_a_read_sees_the_last_committed_state_not_the_writers_work_in_progress(sqlite_url: str) -> None:
    writer = SqlStore(create_database_engine(sqlite_url))
    reader = SqlStore(create_database_engine(sqlite_url))
    try:
        seed(writer, ID_A)
        with writer.unit_of_work() as held:
            record = held.instances.lock(ID_A)
            assert record is not None
            held.instances.update(dataclasses.replace(record, state="elsewhere", lock_version=record.lock_version + 1), record.lock_version)
            with reader.unit_of_work(read_only=True) as uow:
                seen = uow.instances.get(ID_A)
                assert seen is not None and seen.state == record.state
    finally:
        writer.close()
        reader.close()

"""The facts storage puts on its errors (DESIGN §4.10): whether a conflict may be retried and
whether the database can be used at all, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.errors import ConflictError, NotFoundError, StorageError
from engine.language.loader import load_workflow_text
from engine.runtime.engine import Engine
from engine.time.clock import FixedClock
from storage import SqlStore, create_database_engine, open_store
from tests.engine.test_errors import CLERK, WORKFLOW  # the same tiny workflow, on the SQL stores

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def test_conflicts_and_not_found_carry_their_facts(db_url: str) -> None:
    store = open_store(db_url)
    try:
        engine = Engine(store, clock=FixedClock(NOW))
        engine.deploy(load_workflow_text("tiny.yaml", WORKFLOW, expected_id="tiny"))
        instance = engine.start("tiny", CLERK).id
        engine.fire(instance, "note", CLERK, {"note": "one"}, idempotency_key="k1")
        with pytest.raises(ConflictError) as stale:
            engine.fire(instance, "note", CLERK, {"note": "two"}, lock_version=1)
        assert (stale.value.retryable, stale.value.instance_id) == (False, instance)
        assert (stale.value.expected_lock_version, stale.value.actual_lock_version) == (1, 2)
        with pytest.raises(ConflictError) as reused:
            engine.fire(instance, "note", CLERK, {"note": "three"}, idempotency_key="k1")
        assert (reused.value.retryable, reused.value.idempotency_key) == (False, "k1")
        with pytest.raises(NotFoundError) as missing:
            engine.history("nope")
        assert (missing.value.kind, missing.value.name) == ("instance", "nope")
    finally:
        store.close()


def test_a_lock_not_obtained_may_be_retried(sqlite_url: str) -> None:
    holder = open_store(sqlite_url)
    other = SqlStore(create_database_engine(sqlite_url, busy_timeout_ms=1))
    try:
        with holder.unit_of_work(), pytest.raises(ConflictError) as raised, other.unit_of_work():
            pass
        assert raised.value.retryable is True
    finally:
        holder.close()
        other.close()


def test_a_database_without_the_schema_is_unusable(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    with pytest.raises(StorageError, match="no qaflow schema") as raised:
        open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    assert raised.value.unusable is True
    with pytest.raises(StorageError, match="no database at") as raised:
        open_store(f"sqlite:///{tmp_path / 'missing.db'}")
    assert raised.value.unusable is True
    with pytest.raises(StorageError, match="unsupported database") as raised:
        open_store("mysql://localhost/qaflow")
    assert raised.value.unusable is True


def test_a_file_that_is_not_a_database_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "qaflow.db"
    path.write_bytes(b"this is a council's spreadsheet, not a database" * 100)
    with pytest.raises(StorageError) as raised:
        open_store(f"sqlite:///{path}")
    assert raised.value.unusable is True
    assert raised.value.code == "storage_error"

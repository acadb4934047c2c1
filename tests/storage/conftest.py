"""Fixtures for the storage tests: one contract suite over every store implementation.

`store` is parametrized by backend name: each backend is a factory in `STORE_FACTORIES`
taking pytest's `request` and returning a store and its clean-up. The SQL backends open a
fresh database cloned from a template migrated once per session (`sqlite_url`, `pg_url` in
tests/conftest.py; tests/pg_support.py for PostgreSQL), as QUALITY.md asks.

`sql_store` is a `SqlStore` on each SQL backend; `sqlite_store` and `pg_store` are one backend
only, for tests of that backend's specifics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from engine.store.memory import MemoryStore
from storage import SqlStore, open_store

BACKENDS = ["memory", "sqlite", "postgresql"]
SQL_BACKENDS = ["sqlite", "postgresql"]

StoreFactory = Callable[[pytest.FixtureRequest], tuple[Any, Callable[[], None]]]


def _memory_store(request: pytest.FixtureRequest) -> tuple[Any, Callable[[], None]]:
    return MemoryStore(), lambda: None


def _sql_store(url_fixture: str) -> StoreFactory:
    def factory(request: pytest.FixtureRequest) -> tuple[Any, Callable[[], None]]:
        store = open_store(request.getfixturevalue(url_fixture))
        return store, store.close

    return factory


STORE_FACTORIES: dict[str, StoreFactory] = {
    "memory": _memory_store,
    "sqlite": _sql_store("sqlite_url"),
    "postgresql": _sql_store("pg_url"),
}


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh, empty store of each backend."""
    made, close = STORE_FACTORIES[request.param](request)
    try:
        yield made
    finally:
        close()


@pytest.fixture(params=SQL_BACKENDS)
def sql_store(request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    """A fresh SqlStore on each SQL backend, for the SQL-only tests."""
    made, close = STORE_FACTORIES[request.param](request)
    try:
        yield made
    finally:
        close()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[SqlStore]:
    """A fresh SqlStore on SQLite, for SQLite's specifics."""
    made = open_store(sqlite_url)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[SqlStore]:
    """A fresh SqlStore on PostgreSQL, for PostgreSQL's specifics."""
    made = open_store(pg_url)
    try:
        yield made
    finally:
        made.close()

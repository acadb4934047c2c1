"""Fixtures for the storage tests: one contract suite over every store implementation.

`store` is parametrized by backend name. Each backend is a factory in `STORE_FACTORIES`
taking pytest's `request` and returning a store and its clean-up; adding PostgreSQL (next
issue) is one more entry and one more name in `BACKENDS`. SQL backends clone a template
database migrated once per session, as QUALITY.md asks of PostgreSQL tests too.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.memory import MemoryStore
from storage import SqlStore, open_store, upgrade

BACKENDS = ["memory", "sqlite"]

StoreFactory = Callable[[pytest.FixtureRequest], tuple[Any, Callable[[], None]]]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head, to copy (never to open directly)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    assert not Path(f"{path}-wal").exists()  # the last connection checkpointed: one file to copy
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A URL of a fresh, migrated SQLite database in this test's tmp_path."""
    path = tmp_path / "qaflow.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _memory_store(request: pytest.FixtureRequest) -> tuple[Any, Callable[[], None]]:
    return MemoryStore(), lambda: None


def _sqlite_store(request: pytest.FixtureRequest) -> tuple[Any, Callable[[], None]]:
    store = open_store(request.getfixturevalue("sqlite_url"))
    return store, store.close


STORE_FACTORIES: dict[str, StoreFactory] = {"memory": _memory_store, "sqlite": _sqlite_store}


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh, empty store of each backend."""
    made, close = STORE_FACTORIES[request.param](request)
    try:
        yield made
    finally:
        close()


@pytest.fixture
def sql_store(sqlite_url: str) -> Iterator[SqlStore]:
    """A fresh SqlStore on SQLite, for the SQL-only tests."""
    made = open_store(sqlite_url)
    try:
        yield made
    finally:
        made.close()

"""Shared fixtures: paths of the project and a helper that writes a workflow to a temporary file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"


@pytest.fixture
def write_workflow(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write `text` as `<name>.yaml` in a fresh folder and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


# --- databases: fresh, migrated SQLite and PostgreSQL databases for any test ---------------
# (tests/pg_support.py explains the PostgreSQL side: QAFLOW_TEST_PG, template cloning, CI.)

import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from pg_support import PgCluster, PgTemplate, admin_url, unavailable  # noqa: E402

from storage.migrate import upgrade  # noqa: E402

SQL_BACKENDS = ["sqlite", "postgresql"]
_URL_FIXTURES = {"sqlite": "sqlite_url", "postgresql": "pg_url"}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head, to copy (never to open directly)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    assert not Path(f"{path}-wal").exists()  # the last connection checkpointed: one file to copy
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """The URL of a fresh, migrated SQLite database in this test's tmp_path."""
    path = tmp_path / "qaflow.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[PgTemplate]:
    """The session's PostgreSQL template, migrated once; skipped (failed under CI=true) if unreachable."""
    url = admin_url()
    cluster = PgCluster(url)
    try:
        try:
            cluster.ping()
        except Exception as exc:  # can't connect, or too old: only this may skip
            unavailable(url, exc)
        template = PgTemplate(cluster)  # a failing migration is an error, never a skip
        try:
            yield template
        finally:
            template.drop()
    finally:
        cluster.close()


@pytest.fixture
def pg_url(pg_template: PgTemplate) -> Iterator[str]:
    """The URL of a fresh, migrated PostgreSQL database, dropped after the test.

    Dispose of your engines and stores before the test ends; the drop uses WITH (FORCE)
    anyway, so a forgotten connection can't keep the database alive.
    """
    name, url = pg_template.clone()
    try:
        yield url
    finally:
        pg_template.release(name)


@pytest.fixture
def pg_empty_url(pg_template: PgTemplate) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database without qaflow's schema, dropped after the test."""
    name, url = pg_template.empty()
    try:
        yield url
    finally:
        pg_template.release(name)


@pytest.fixture(params=SQL_BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database URL on each SQL backend: `sqlite:///…` and `postgresql+psycopg://…`."""
    return str(request.getfixturevalue(_URL_FIXTURES[request.param]))

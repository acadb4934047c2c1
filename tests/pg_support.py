"""PostgreSQL for the tests: one template database migrated per session, cloned for each test.

`QAFLOW_TEST_PG` names the cluster (default `postgresql+psycopg://postgres@127.0.0.1:5432/test`).
That database is only the admin connection's landing place: nothing is ever written to it.
The session creates `qaflow_tmpl_<pid>_<random>` and migrates it once; each test gets
`CREATE DATABASE qaflow_t_<pid>_<random> TEMPLATE <template>`, made ahead in background
threads, and loses it afterwards (`DROP DATABASE … WITH (FORCE)`, PostgreSQL 13+, which also
ends connections a test forgot to close), in the background too. The template and any unused
spare clones are dropped when the session ends.

When the cluster can't be reached the PostgreSQL tests are skipped with the reason, except
under CI (`CI=true`), where they fail: CI never skips a backend.

The fixtures themselves live in tests/conftest.py (`pg_template`, `pg_url`, `db_url`).
"""

from __future__ import annotations

import os
import secrets
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NoReturn

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from storage.migrate import upgrade

__all__ = ["DEFAULT_URL", "ENV", "PgCluster", "PgTemplate", "admin_url", "unavailable", "under_ci"]

ENV = "QAFLOW_TEST_PG"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_SECONDS = 3


def admin_url() -> URL:
    """The URL of the cluster's admin database, from QAFLOW_TEST_PG or the default."""
    return make_url(os.environ.get(ENV) or DEFAULT_URL)


def under_ci() -> bool:
    """True under CI (`CI=true`), where an unreachable PostgreSQL is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def unavailable(url: URL, error: BaseException) -> NoReturn:
    """Skip the test for want of PostgreSQL, with the reason, or fail it under CI."""
    cause = getattr(error, "orig", None) or error  # the driver's words, without SQLAlchemy's link
    detail = " ".join(str(cause).split())
    reason = (
        f"PostgreSQL at {url.render_as_string(hide_password=True)} is unavailable ({type(cause).__name__}: {detail}); "
        f"start it, or set {ENV} to a reachable cluster"
    )
    if under_ci():
        pytest.fail(f"{reason}. CI=true: the PostgreSQL tests must run, never skip", pytrace=False)
    pytest.skip(reason)


def _quote(name: str) -> str:
    if not name.replace("_", "").isalnum():  # our own names only: letters, digits, '_'
        raise ValueError(f"unexpected database name {name!r}")
    return f'"{name}"'


def _unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(5)}"


class PgCluster:
    """Databases on the cluster at `url`, made and dropped over an AUTOCOMMIT connection."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self._admin = sa.create_engine(
            url, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )

    def ping(self) -> None:
        """Connect once; raises SQLAlchemy's OperationalError when the cluster is unreachable."""
        with self._admin.connect() as conn:
            version = conn.dialect.server_version_info or (0,)
            if version < (13,):
                raise RuntimeError(f"the tests need PostgreSQL 13 or later (DROP DATABASE … WITH (FORCE)), found {version}")

    def url_of(self, name: str) -> str:
        """The URL of database `name` on this cluster, as a string (password included)."""
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        """Create database `name` (a copy of `template` when given) and return its URL."""
        sql = f"CREATE DATABASE {_quote(name)}"
        if template is not None:
            sql += f" TEMPLATE {_quote(template)}"
        with self._admin.connect() as conn:
            conn.exec_driver_sql(sql)
        return self.url_of(name)

    def drop(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")

    def execute(self, sql: str) -> None:
        """Run one admin statement (ALTER DATABASE …) outside a transaction."""
        with self._admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def close(self) -> None:
        self._admin.dispose()


class PgTemplate:
    """A database migrated to head once, to clone (never to use directly).

    Clones are made ahead, `spares` at a time, and dropped in the background: CREATE DATABASE
    spends its time waiting for the disk (fsync), and several run side by side as fast as one,
    so a test rarely waits for its database.
    """

    def __init__(self, cluster: PgCluster, spares: int = 4) -> None:
        self.cluster = cluster
        self.name = _unique("qaflow_tmpl")
        url = cluster.create(self.name)
        try:
            upgrade(url)  # disposes its engine: no session is left on the template
        except BaseException:
            cluster.drop(self.name)
            raise
        self._workers = ThreadPoolExecutor(max_workers=max(1, 2 * spares), thread_name_prefix="qaflow-pg")
        self._spares: deque[Future[tuple[str, str]]] = deque(self._workers.submit(self._make_clone) for _ in range(spares))
        self._drops: list[Future[None]] = []

    def _make_clone(self) -> tuple[str, str]:
        name = _unique("qaflow_t")
        return name, self.cluster.create(name, template=self.name)

    def clone(self) -> tuple[str, str]:
        """A fresh copy: (database name, URL). Give it back with `release`."""
        if not self._spares:
            return self._make_clone()
        ready = self._spares.popleft()
        self._spares.append(self._workers.submit(self._make_clone))
        return ready.result()

    def empty(self) -> tuple[str, str]:
        """A database without qaflow's schema (from template0): (database name, URL)."""
        name = _unique("qaflow_t")
        return name, self.cluster.create(name, template="template0")

    def release(self, name: str) -> None:
        """Drop database `name` (a clone or an empty one) in the background."""
        self._drops.append(self._workers.submit(self.cluster.drop, name))

    def drop(self) -> None:
        """End of session: drop the unused spares, wait for every drop, then drop the template.

        Raises:
            the first error of a background create or drop, after cleaning up all it can.
        """
        errors: list[BaseException] = []
        for ready in self._spares:
            try:
                name, _ = ready.result()
            except Exception as exc:
                errors.append(exc)
            else:
                self.release(name)
        self._spares.clear()
        for done in self._drops:
            try:
                done.result()
            except Exception as exc:
                errors.append(exc)
        self._drops.clear()
        self._workers.shutdown(wait=True)
        self.cluster.drop(self.name)
        if errors:
            raise errors[0]

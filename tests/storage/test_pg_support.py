"""The PostgreSQL test support itself: skip locally, fail under CI, never leave a database behind."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pg_support import DEFAULT_URL, ENV, PgTemplate, admin_url, unavailable, under_ci

UNREACHABLE = sa.make_url("postgresql+psycopg://postgres:secret@127.0.0.1:1/test")


def test_the_cluster_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert admin_url() == sa.make_url(DEFAULT_URL)
    monkeypatch.setenv(ENV, "postgresql+psycopg://qa@db.example:6543/admin")
    assert admin_url().host == "db.example" and admin_url().port == 6543


@pytest.mark.parametrize(("value", "ci"), [("true", True), ("TRUE", True), ("1", True), ("", False), ("false", False)])
def test_ci_is_recognised(monkeypatch: pytest.MonkeyPatch, value: str, ci: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert under_ci() is ci


def test_an_unreachable_cluster_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"PostgreSQL at .*127\.0\.0\.1:1/test is unavailable") as raised:
        unavailable(UNREACHABLE, ConnectionRefusedError("connection refused"))
    assert "secret" not in str(raised.value)


def test_an_unreachable_cluster_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: the PostgreSQL tests must run, never skip"):
        unavailable(UNREACHABLE, ConnectionRefusedError("connection refused"))


def test_clones_are_migrated_copies_and_are_dropped(pg_template: PgTemplate) -> None:
    cluster = pg_template.cluster
    name, url = pg_template.clone()
    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0002"
                assert conn.exec_driver_sql("SELECT count(*) FROM instances").scalar() == 0
        finally:
            engine.dispose()
    finally:
        cluster.drop(name)
    engine = sa.create_engine(cluster.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            found = conn.exec_driver_sql("SELECT count(*) FROM pg_database WHERE datname = %(name)s", {"name": name}).scalar()
            # nothing of qaflow's in the admin database
            tables = conn.exec_driver_sql("SELECT count(*) FROM pg_tables WHERE tablename = 'instances'").scalar()
        assert found == 0 and tables == 0
    finally:
        engine.dispose()

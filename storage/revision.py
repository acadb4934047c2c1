"""Where a database's schema stands, read with SQLAlchemy Core: no alembic on a command's path.

`REVISIONS` lists the migrations in `migrations/versions/`, oldest first, and `HEAD` is the
newest; tests/storage/test_migrations.py asks alembic and fails when they differ, so a new
migration file comes with its line here. `read_revision` and `current` read the
`alembic_version` table as alembic writes it; `require_current` is what `open_store` uses to refuse a database whose
schema is missing, behind or ahead of this code.

The check runs in a read transaction (on SQLite a plain BEGIN, never the write lock: DESIGN
§4.10), so it neither queues behind a writer nor fails on a database file the user may only
read.
"""

from __future__ import annotations

from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, select
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError

from engine import StorageError
from storage.database import READ_ONLY, create_database_engine, parse_url, translate_error

__all__ = ["HEAD", "REVISIONS", "VERSION_TABLE", "current", "read_revision", "require_current", "safe_url"]

REVISIONS: tuple[str, ...] = ("0001", "0002")
HEAD = REVISIONS[-1]
VERSION_TABLE = "alembic_version"

# alembic's own bookkeeping table, described here only to read it (never created from here)
_alembic_version = Table(VERSION_TABLE, MetaData(), Column("version_num", String(32), primary_key=True))


def read_revision(connection: Connection) -> str | None:
    """The revision recorded in the database, or None for a database qaflow never migrated.

    Raises:
        StorageError: the table records more than one revision (alembic branches, which
            qaflow's linear migrations never make).
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    found = connection.execute(select(_alembic_version.c.version_num)).scalars().all()
    if len(found) > 1:
        raise StorageError(
            f"the database records several schema revisions ({', '.join(sorted(found))}); qaflow's are linear", unusable=True
        )
    return found[0] if found else None


def current(url: str | URL) -> str | None:
    """The revision of the database at `url`, or None for a database qaflow never migrated."""
    engine = create_database_engine(url)
    try:
        return _read(engine)
    finally:
        engine.dispose()


def _read(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})  # SQLite: BEGIN, not BEGIN IMMEDIATE
            with connection.begin():
                return read_revision(connection)
    except DBAPIError as exc:
        raise translate_error(exc) from exc


def require_current(engine: Engine) -> None:
    """Refuse a database whose schema is missing, behind or ahead of this code.

    Raises:
        StorageError: with what to do about it.
    """
    found = _read(engine)
    where = safe_url(engine.url)
    if found is None:
        raise StorageError(f"{where} has no qaflow schema; run `qaflow db upgrade` first", unusable=True)
    if found not in REVISIONS:
        raise StorageError(f"{where} is at schema revision {found}, which this qaflow does not know; upgrade qaflow", unusable=True)
    if found != HEAD:
        raise StorageError(f"{where} is at schema revision {found}, this qaflow needs {HEAD}; run `qaflow db upgrade`", unusable=True)


def safe_url(url: str | URL) -> str:
    """`url` for a message: the password hidden, and nothing of a URL that doesn't parse."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return parse_url(url).render_as_string(hide_password=True)
    except StorageError:  # a URL that doesn't parse fails elsewhere, with its own message
        return "the database"

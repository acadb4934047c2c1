"""qaflow's persistence: the engine's `Store` on SQLAlchemy Core, for SQLite and PostgreSQL.

Public API:
    open_store(url, *, migrate=False, synchronous="FULL") -> SqlStore   a store on the database at `url`
    create_database_engine(url, *, synchronous="FULL", busy_timeout_ms=5000) -> Engine
    SqlStore(engine)                              the `engine.store.protocol.Store` implementation
    upgrade(url)                                  migrate to the newest schema (`qaflow db upgrade`)
    current(url), check(url)                      the database's revision; `alembic check`

Modules: `tables` (the schema), `columns` (column types: UTC times, JSON text), `database` (engines, SQLite
locking, error translation), `prepared` (statements compiled once, run on the driver's
cursor), `store` (the unit of work), `revision` (the schema revision, read without alembic,
for `open_store`'s check), `migrate` (alembic, in code; `migrations/` holds the scripts).
`upgrade` and `check` import `migrate`, and so alembic, only when called: every
command but `qaflow db` opens its store without loading alembic.
Imports point one way: storage imports engine, never the reverse.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from engine import StorageError
from storage.database import create_database_engine, parse_url
from storage.revision import current, require_current
from storage.store import SqlStore, SqlUnitOfWork

__all__ = [
    "SqlStore",
    "SqlUnitOfWork",
    "StorageError",
    "check",
    "create_database_engine",
    "current",
    "open_store",
    "upgrade",
]


def open_store(url: str | URL, *, migrate: bool = False, synchronous: str = "FULL") -> SqlStore:
    """A store on the database at `url`, refusing a schema that is missing or behind.

    Args:
        url: `sqlite:///qaflow.db` or `postgresql+psycopg://user@host/db`.
        migrate: upgrade the schema first (tests and the main job); otherwise the operator
            runs `qaflow db upgrade`.
        synchronous: SQLite's durability, "FULL" (default) or "NORMAL".

    Raises:
        StorageError: no database at a SQLite path, or its schema is missing or behind (the
            message says to run `qaflow db upgrade`), or the database can't be reached.
    """
    parsed = parse_url(url)
    if not migrate:
        _require_sqlite_file(parsed)
    engine = create_database_engine(parsed, synchronous=synchronous)
    try:
        if migrate:
            from storage.migrate import upgrade_engine  # alembic, only when migrating

            upgrade_engine(engine)
        else:
            require_current(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine)


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (the newest by default); see `storage.migrate.upgrade`."""
    from storage import migrate  # alembic loads here, for `qaflow db` only

    migrate.upgrade(url, revision)


def check(url: str | URL) -> None:
    """`alembic check`: the migrated database matches `storage.tables` exactly; see `storage.migrate.check`."""
    from storage import migrate

    migrate.check(url)


def _require_sqlite_file(url: URL) -> None:
    # Connecting would create an empty file at a mistyped path; say what is wrong instead.
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return
    if not Path(database).exists():
        raise StorageError(f"no database at {database}; run `qaflow db upgrade` to create it", unusable=True)

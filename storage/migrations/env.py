"""Alembic's environment for qaflow: run by `storage.migrate`, which passes the connection in.

`storage.migrate` builds the alembic `Config` in code (there is no alembic.ini) and puts an
open connection in `config.attributes["connection"]`, made by `create_database_engine` so
that SQLite's settings apply. Without one (alembic's own command line, with
`sqlalchemy.url` set in an ini file) an engine is made here from that URL. Offline mode
(`--sql`) renders SQL from the URL.

SQLite gets transactional DDL: our engines emit BEGIN themselves (see storage.database), so
a failed migration rolls back whole instead of leaving half a schema.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from storage.database import create_database_engine
from storage.tables import metadata

config = context.config


def _configure_online(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can't ALTER most things: batch mode rebuilds the table
        transactional_ddl=True,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        render_as_batch=True,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_online(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection in config.attributes['connection'] or set sqlalchemy.url")
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            _configure_online(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

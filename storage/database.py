"""Engines: SQLite with real transactions and the write lock taken first, or PostgreSQL.

SQLite follows SQLAlchemy's pysqlite recipe ("Transactions with SQLite and the sqlite3
driver" in the SQLite dialect docs) for Python before 3.12: the driver's own transaction
handling is switched off (`isolation_level = None`) and the BEGIN is emitted by us
(`begin_sqlite`): by a `begin` listener for SQLAlchemy transactions, and by `SqlStore`'s unit
of work on the driver connection directly. Ours is `BEGIN IMMEDIATE`, so a unit of work holds
the write lock from its first statement: two writers never both read and then fight over who
may write (DESIGN §4.3).

Every SQLite connection gets, before anything else:
`busy_timeout` (wait that long for the lock), `journal_mode=WAL` (readers never block the
writer), `synchronous` FULL or NORMAL, and `foreign_keys=ON`.

A `BEGIN IMMEDIATE` that still finds the database locked after `busy_timeout` is retried a
few times after a short random sleep (so that competing processes stop retrying in step),
then becomes `ConflictError` (CLI exit 4).

PostgreSQL (psycopg 3) needs no recipe: psycopg begins a transaction at a unit of work's
first statement, and `instances.lock` is `SELECT … FOR UPDATE` (storage.store), which waits for
another unit of work on the same instance to end. Each connection sets `lock_timeout` to the
busy timeout, so that wait is bounded as on SQLite; a lock not obtained is lock_not_available.

`translate_error` maps driver errors to qaflow's: a lock (SQLite busy or locked; PostgreSQL
serialization failure, deadlock or lock not available) or a duplicate key is a
`ConflictError`, anything else a `StorageError`.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, InterfaceError, InternalError, OperationalError

from engine import ConflictError, QaflowError, StorageError

__all__ = ["LOCK_ATTEMPTS", "begin_sqlite", "create_database_engine", "is_lock_error", "is_sqlite", "parse_url", "translate_error"]

logger = logging.getLogger(__name__)

SYNCHRONOUS = ("FULL", "NORMAL")
LOCK_ATTEMPTS = 4  # BEGIN IMMEDIATE tries, each waiting up to busy_timeout
_JITTER_SECONDS = (0.001, 0.010)

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_UNIQUE_NAMES = frozenset({"SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_ROWID"})
# PostgreSQL SQLSTATEs: unique_violation; serialization_failure, deadlock_detected, lock_not_available
_PG_UNIQUE = "23505"
_PG_CONFLICT = frozenset({"40001", "40P01", "55P03"})


def create_database_engine(url: str | URL, *, synchronous: str = "FULL", busy_timeout_ms: int = 5000) -> Engine:
    """An Engine for qaflow's database.

    Args:
        url: `sqlite:///path/qaflow.db` (the embedded default) or `postgresql+psycopg://...`.
        synchronous: SQLite's `PRAGMA synchronous`: "FULL" (the default: a committed event
            survives a power cut) or "NORMAL" (faster; in WAL mode a power cut may lose the
            last commits, never corrupt the database). Ignored on PostgreSQL.
        busy_timeout_ms: how long to wait for another writer's lock: SQLite's busy_timeout on
            each attempt; PostgreSQL's `lock_timeout` (an instance row locked FOR UPDATE).
            Either way a lock not obtained becomes a `ConflictError`.

    Returns:
        The engine; dispose of it when done.

    Raises:
        StorageError: a bad URL or setting, or a database or driver qaflow doesn't support
            (SQLite through the standard library; PostgreSQL through psycopg 3, which
            `postgresql://` also selects).
    """
    level = synchronous.upper()
    if level not in SYNCHRONOUS:
        raise StorageError(f"synchronous must be FULL or NORMAL, got {synchronous!r}", unusable=True)
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return _postgresql_engine(parsed, busy_timeout_ms)
    if backend != "sqlite":
        raise StorageError(f"unsupported database {_safe(parsed)}; use sqlite:///PATH or postgresql+psycopg://...", unusable=True)
    if parsed.get_driver_name() not in ("pysqlite", "sqlite"):
        raise StorageError(f"unsupported SQLite driver in {parsed.render_as_string(hide_password=True)}; use sqlite:///PATH", unusable=True)
    engine = create_engine(parsed)
    _configure_sqlite(engine, level, busy_timeout_ms)
    return engine


def _postgresql_engine(url: URL, lock_timeout_ms: int) -> Engine:
    # psycopg 3 only: `postgresql://` (SQLAlchemy's default there is psycopg2, which qaflow
    # doesn't ship) means psycopg too.
    if url.drivername not in ("postgresql", "postgresql+psycopg"):
        raise StorageError(f"unsupported PostgreSQL driver in {_safe(url)}; use postgresql+psycopg://...", unusable=True)
    url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    setting = f"SET lock_timeout = {int(lock_timeout_ms)}"

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # A lock not obtained in time (another unit of work holding the instance row FOR
        # UPDATE) fails with lock_not_available, which `translate_error` makes a ConflictError,
        # as SQLite's busy timeout does. Once per pooled connection; committed, so the
        # connection is idle again when SQLAlchemy gets it.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(setting)
        dbapi_connection.commit()

    return engine


def _safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def parse_url(url: str | URL) -> URL:
    """`url` as a SQLAlchemy URL.

    Raises:
        StorageError: it is not a database URL.
    """
    if isinstance(url, URL):
        return url
    try:
        return make_url(url)
    except Exception as exc:  # ArgumentError, ValueError: a URL that is no URL
        raise StorageError(
            f"not a database URL: {url!r} ({exc}); use sqlite:///qaflow.db or postgresql+psycopg://...", unusable=True
        ) from exc


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine, synchronous: str, busy_timeout_ms: int) -> None:
    pragmas = (
        f"PRAGMA busy_timeout = {int(busy_timeout_ms)}",  # first: the others may wait for a lock
        "PRAGMA journal_mode = WAL",
        f"PRAGMA synchronous = {synchronous}",
        "PRAGMA foreign_keys = ON",
    )

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Take transaction control away from the sqlite3 driver: it would BEGIN only before
        # DML and never before SELECT or DDL. The begin listener below emits BEGIN instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # Units of work of `SqlStore` begin on the driver themselves (`begin_sqlite`); this is
        # for everything else that begins through SQLAlchemy (migrations, schema checks).
        driver: Any = connection.connection.driver_connection
        begin_sqlite(driver.execute, read_only=bool(connection.get_execution_options().get(READ_ONLY)))


READ_ONLY = "qaflow_read_only"  # execution option: a SQLAlchemy transaction that takes no write lock


def begin_sqlite(execute: Callable[[str], object], *, read_only: bool = False) -> None:
    """Begin a transaction on a SQLite driver connection or cursor (`execute` is its method).

    A write takes the write lock first (`BEGIN IMMEDIATE`), retried `LOCK_ATTEMPTS` times after
    a short random sleep. A read (show, history, verify) is a plain `BEGIN`, which takes no
    write lock: in WAL mode it reads the last committed state while writers carry on, and never
    queues behind them.

    Raises:
        ConflictError: the write lock stayed taken (chained to the driver's error).
        StorageError: any other failure to begin.
    """
    if read_only:
        execute("BEGIN")
        return
    attempt = 1
    while True:
        try:
            execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not is_lock_error(exc):
                raise StorageError(f"could not begin a transaction: {exc}", unusable=True) from exc
            if attempt >= LOCK_ATTEMPTS:
                raise ConflictError("the database is locked by another writer; try again", retryable=True) from exc
            logger.debug("database locked, attempt %d of %d", attempt, LOCK_ATTEMPTS)
        attempt += 1
        time.sleep(random.uniform(*_JITTER_SECONDS))


def is_lock_error(exc: BaseException) -> bool:
    """True when the driver says another transaction holds what we need (SQLite busy/locked,
    PostgreSQL serialization failure, deadlock or lock not available).

    `exc` is SQLAlchemy's DBAPIError or the driver's own exception.
    """
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    state = getattr(orig, "sqlstate", None)
    if state is not None:
        return state in _PG_CONFLICT
    return "database is locked" in str(orig)


def _is_duplicate(exc: IntegrityError) -> bool:
    orig = exc.orig
    name = getattr(orig, "sqlite_errorname", None)
    if name is not None:
        return name in _SQLITE_UNIQUE_NAMES
    state = getattr(orig, "sqlstate", None)
    if state is not None:
        return str(state) == _PG_UNIQUE
    return "UNIQUE constraint failed" in str(orig)


def translate_error(exc: DBAPIError, duplicate: str | None = None) -> QaflowError:
    """The qaflow error for a driver error, to raise `from exc`.

    Args:
        exc: what SQLAlchemy raised.
        duplicate: the message for a duplicate key (a `ConflictError`); None for a generic one.
    """
    if isinstance(exc, IntegrityError):
        if _is_duplicate(exc):  # a concurrent writer made the row first: a retry sees it
            return ConflictError(duplicate or f"a row with this key already exists ({exc.orig})", retryable=True)
        return StorageError(f"the database refused the write: {exc.orig}")
    if is_lock_error(exc):
        return ConflictError("the database is busy with another writer; try again", retryable=True)
    return StorageError(f"database error: {exc.orig}", unusable=is_unusable(exc))


def is_unusable(exc: DBAPIError) -> bool:
    """True when a driver error means the database itself can't be used (unreachable, corrupt,
    read-only, out of space), not that one statement was wrong.

    PEP 249's classes say which: OperationalError and InterfaceError are the database or the
    connection; a bare DatabaseError is SQLite's "file is not a database" and "database disk
    image is malformed"; InternalError is the server's own. DataError, ProgrammingError,
    NotSupportedError and IntegrityError are about the statement (a NUL byte in text, say).
    """
    return isinstance(exc, (OperationalError, InterfaceError, InternalError)) or type(exc) is DatabaseError

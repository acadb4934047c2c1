"""`SqlStore`: the engine's `Store` on SQLAlchemy Core, one connection and transaction per unit of work.

`SqlStore.unit_of_work()` gives this thread's `SqlUnitOfWork`: entering it takes the thread's
connection and begins (SQLite: `BEGIN IMMEDIATE`, so the write lock is held from the start;
PostgreSQL: `instances.lock` is `SELECT ... FOR UPDATE`); a clean exit commits, an exception
rolls back and propagates. Its repositories (`uow.instances`, `uow.history`, ...; one class
per aggregate below) run the statements and never commit.

Every statement is a module-level Core construct wrapped in `Prepared` (storage.prepared):
rendered once per dialect, then run on the connection's DBAPI cursor with the column types'
processors, which keeps an event's SQL cost close to the driver's own. Records map to rows
field for column (`storage.tables`); `_RecordMap` derives both directions from the
dataclass fields, so the record and its row can't drift apart silently.

Driver errors leave through `storage.database.translate_error`: a duplicate key or a lock is
`ConflictError`, anything else `StorageError`, chained to SQLAlchemy's and the driver's error.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine, Table, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from engine import ConflictError, QaflowError, StorageError
from engine.store.records import (
    AccessEntry,
    DefinitionRecord,
    HistoryPayload,
    HistoryRow,
    IdempotencyRecord,
    InstanceRecord,
    OutboxMessage,
    SecurityEvent,
    StateEntry,
)
from engine.store.repositories import InstanceList
from storage.database import begin_sqlite, is_sqlite, translate_error
from storage.prepared import Prepared
from storage.tables import (
    access_log,
    definitions,
    history,
    history_payloads,
    idempotency_keys,
    instances,
    outbox,
    security_log,
    state_entries,
)

__all__ = ["SqlStore", "SqlUnitOfWork"]


class _RecordMap:
    """How one record type maps to its table: the columns in field order, and both directions.

    Built from the dataclass's fields when the module loads, so records may gain or lose
    fields (with a migration for the column) without touching the statements.
    """

    def __init__(self, table: Table, record_type: type[Any]) -> None:
        self.names = tuple(field.name for field in dataclasses.fields(record_type))
        self.columns = [table.c[name] for name in self.names]
        self.make: Callable[..., Any] = record_type
        if not hasattr(record_type, "__slots__"):
            # A record read back is made as the records' `fast` constructors make them: one
            # assignment of the instance's __dict__ (the fields, in order, from the row),
            # instead of one `object.__setattr__` per field in the frozen dataclass's __init__.
            names, new, fill = self.names, object.__new__, object.__setattr__

            def make(*values: Any) -> Any:
                record = new(record_type)
                fill(record, "__dict__", dict(zip(names, values, strict=True)))
                return record

            self.make = make
        if hasattr(record_type, "__slots__"):
            getter, names = attrgetter(*self.names), self.names
            self.params: Callable[[Any], Mapping[str, Any]] = lambda record: dict(zip(names, getter(record), strict=True))
        else:
            self.params = vars  # a non-slotted record's __dict__ is exactly its fields


_DEFINITION = _RecordMap(definitions, DefinitionRecord)
_INSTANCE = _RecordMap(instances, InstanceRecord)
_STATE_ENTRY = _RecordMap(state_entries, StateEntry)
_HISTORY = _RecordMap(history, HistoryRow)
_PAYLOAD = _RecordMap(history_payloads, HistoryPayload)
_IDEMPOTENCY = _RecordMap(idempotency_keys, IdempotencyRecord)
_OUTBOX = _RecordMap(outbox, OutboxMessage)
_SECURITY = _RecordMap(security_log, SecurityEvent)
_ACCESS = _RecordMap(access_log, AccessEntry)


def _insert(table: Table, keys: Sequence[str]) -> Prepared:
    # inline(): no RETURNING of generated keys, which nothing here reads
    return Prepared(table.insert().inline(), keys)


# --- statements ------------------------------------------------------------------------

_GET_DEFINITION = Prepared(
    select(*_DEFINITION.columns).where(definitions.c.workflow == bindparam("workflow"), definitions.c.version == bindparam("version"))
)
_GET_LATEST_DEFINITION = Prepared(
    select(*_DEFINITION.columns).where(definitions.c.workflow == bindparam("workflow")).order_by(definitions.c.version.desc()).limit(1)
)
_ADD_DEFINITION = _insert(definitions, _DEFINITION.names)

_GET_INSTANCE = select(*_INSTANCE.columns).where(instances.c.id == bindparam("id"))
_LOCK_INSTANCE = Prepared(_GET_INSTANCE.with_for_update())  # SQLite renders no FOR UPDATE: BEGIN IMMEDIATE locked
_READ_INSTANCE = Prepared(_GET_INSTANCE)
_ADD_INSTANCE = _insert(instances, _INSTANCE.names)
# SET every column but `id`; WHERE's parameters need names of their own.
_UPDATE_INSTANCE = Prepared(
    instances.update().where(instances.c.id == bindparam("where_id"), instances.c.lock_version == bindparam("expected")),
    [name for name in _INSTANCE.names if name != "id"],
)


def _listing(workflow: bool, state: bool, after: bool, limit: bool) -> Prepared:
    statement = select(*_INSTANCE.columns).order_by(instances.c.id)
    if workflow:
        statement = statement.where(instances.c.workflow == bindparam("workflow"))
    if state:
        statement = statement.where(instances.c.state == bindparam("state"))
    if after:
        statement = statement.where(instances.c.id > bindparam("after"))
    if limit:
        statement = statement.limit(bindparam("limit"))
    return Prepared(statement)


_FLAGS = (False, True)
_LIST_INSTANCES = {(w, s, a, n): _listing(w, s, a, n) for w in _FLAGS for s in _FLAGS for a in _FLAGS for n in _FLAGS}

_ADD_STATE_ENTRY = _insert(state_entries, _STATE_ENTRY.names)
_GET_STATE_ENTRIES = Prepared(
    select(*_STATE_ENTRY.columns).where(state_entries.c.instance_id == bindparam("instance_id")).order_by(state_entries.c.seq)
)

_ADD_HISTORY = _insert(history, _HISTORY.names)
_ADD_PAYLOAD = _insert(history_payloads, ("instance_id", "seq", "body"))
_GET_HISTORY = Prepared(select(*_HISTORY.columns).where(history.c.instance_id == bindparam("instance_id")).order_by(history.c.seq))
_GET_PAYLOADS = Prepared(
    select(*_PAYLOAD.columns).where(history_payloads.c.instance_id == bindparam("instance_id")).order_by(history_payloads.c.seq)
)

_GET_IDEMPOTENCY_KEY = Prepared(
    select(*_IDEMPOTENCY.columns).where(idempotency_keys.c.scope == bindparam("scope"), idempotency_keys.c.key == bindparam("key"))
)
_ADD_IDEMPOTENCY_KEY = _insert(idempotency_keys, _IDEMPOTENCY.names)

_ADD_OUTBOX = _insert(outbox, _OUTBOX.names)
_GET_OUTBOX = Prepared(select(*_OUTBOX.columns).order_by(outbox.c.serial))
_GET_PENDING_OUTBOX = Prepared(select(*_OUTBOX.columns).where(outbox.c.status == "pending").order_by(outbox.c.serial))

_ADD_SECURITY_EVENT = _insert(security_log, _SECURITY.names)
_GET_SECURITY_EVENTS = Prepared(select(*_SECURITY.columns).order_by(security_log.c.id))
_GET_INSTANCE_SECURITY_EVENTS = Prepared(
    select(*_SECURITY.columns).where(security_log.c.instance_id == bindparam("instance_id")).order_by(security_log.c.id)
)
_ADD_ACCESS_ENTRY = _insert(access_log, _ACCESS.names)
_GET_ACCESS_ENTRIES = Prepared(select(*_ACCESS.columns).order_by(access_log.c.id))
_GET_INSTANCE_ACCESS_ENTRIES = Prepared(
    select(*_ACCESS.columns).where(access_log.c.instance_id == bindparam("instance_id")).order_by(access_log.c.id)
)


class SqlStore:
    """The engine's `Store` on a SQLAlchemy engine (see `storage.database.create_database_engine`).

    Args:
        engine: an engine made by `create_database_engine` (its SQLite settings are what make
            a unit of work take the write lock first).
    """

    unit_of_work_type: type[SqlUnitOfWork]  # set below the class: what `unit_of_work` makes

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)
        self._open = threading.local()  # this thread's connection, units of work, and whether one is open
        self._held: list[Connection] = []  # every thread's kept connection, to close them all
        self._held_lock = threading.Lock()

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """This thread's unit of work for `read_only`, made once and reused, to enter at once.

        Reused, with its repositories, so that an event allocates none of them; entering it
        while it is open is refused, as is any second unit of work on the thread.
        """
        kept: dict[bool, SqlUnitOfWork] | None = getattr(self._open, "uows", None)
        if kept is None:
            kept = self._open.uows = {}
        uow = kept.get(read_only)
        if uow is None:
            uow = kept[read_only] = self.unit_of_work_type(self, read_only)
        return uow

    def close(self) -> None:
        """Close the connections this store holds and the engine's pool (the store can
        still be used afterwards: it connects again)."""
        with self._held_lock:
            held, self._held = self._held, []
        for conn in held:
            conn.close()
        self._open = threading.local()
        self.engine.dispose()

    def _connection(self) -> Connection:
        """This thread's connection, kept between units of work.

        Checking a connection out of the pool and back for every event cost more than the
        event's own statements (P2), so each thread keeps one; a connection that was
        invalidated (a disconnect, a failed COMMIT) is replaced.
        """
        conn: Connection | None = getattr(self._open, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            self._open.conn = conn
            with self._held_lock:
                self._held.append(conn)
        return conn

    def _forget(self, conn: Connection) -> None:
        if getattr(self._open, "conn", None) is conn:
            self._open.conn = None
        with self._held_lock:
            if conn in self._held:
                self._held.remove(conn)
        conn.close()

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)!r})"


class SqlUnitOfWork:
    """One transaction at a time on this thread's connection (see the module docstring).

    The transaction is run on the DB-API connection, not through SQLAlchemy's `Connection.begin`
    (whose wrappers cost more per event than SQLite's BEGIN and COMMIT themselves): SQLite
    begins with `begin_sqlite` (the driver's own transaction handling is off, per the pysqlite
    recipe), PostgreSQL's psycopg begins at the first statement; both end with the driver's
    `commit` or `rollback`, which is what SQLAlchemy's transaction called.
    """

    __slots__ = (
        "_conn",
        "_cursor",
        "_dialect",
        "_driver",
        "_read_only",
        "_store",
        "access_log",
        "definitions",
        "history",
        "idempotency",
        "instances",
        "outbox",
        "security_log",
        "state_entries",
    )

    def __init__(self, store: SqlStore, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._dialect = store.engine.dialect
        self._conn: Connection | None = None
        self._driver: Any = None
        self._cursor: Any = None
        self.definitions = SqlDefinitions(self)
        self.instances = SqlInstances(self)
        self.state_entries = SqlStateEntries(self)
        self.history = SqlHistory(self)
        self.idempotency = SqlIdempotency(self)
        self.outbox = SqlOutbox(self)
        self.security_log = SqlSecurityLog(self)
        self.access_log = SqlAccessLog(self)

    # --- the transaction -----------------------------------------------------------------

    def __enter__(self) -> SqlUnitOfWork:
        store = self._store
        if getattr(store._open, "active", False):
            # a second connection on this thread would wait for our own write lock
            raise RuntimeError("a unit of work is already open on this store; the engine opens one per event")  # a bug, not a user error
        try:
            conn = store._connection()
            driver: Any = conn.connection.driver_connection
        except DBAPIError as exc:
            raise translate_error(exc) from exc
        cursor = None
        try:
            cursor = driver.cursor()
            if store._sqlite:
                begin_sqlite(cursor.execute, read_only=self._read_only)  # retried, else ConflictError
        except BaseException as exc:
            if cursor is not None:
                cursor.close()
            store._forget(conn)
            if isinstance(exc, self._dialect.loaded_dbapi.Error):
                wrapped = self._wrapped(exc, "BEGIN")
                raise translate_error(wrapped) from wrapped
            raise
        self._conn, self._driver, self._cursor = conn, driver, cursor
        store._open.active = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        conn = self._conn
        if conn is None:
            return
        driver, cursor = self._driver, self._cursor
        self._conn = self._driver = self._cursor = None
        self._store._open.active = False
        try:
            cursor.close()
            if conn.invalidated:  # a disconnect: the driver connection is gone with its transaction
                if exc_type is None:  # a caller swallowed the error: its writes must not look committed
                    raise StorageError("the database connection was lost during the unit of work; nothing was committed", unusable=True)
                return
            if exc_type is None:
                try:
                    driver.commit()
                except self._dialect.loaded_dbapi.Error as error:  # a deferred foreign key, a full disk
                    # SQLite keeps the transaction open after a failed COMMIT: discard the
                    # connection, which ends it.
                    conn.invalidate()
                    wrapped = self._wrapped(error, "COMMIT")
                    raise translate_error(wrapped) from wrapped
            else:
                try:
                    driver.rollback()
                except self._dialect.loaded_dbapi.Error:
                    conn.invalidate()  # the exception in flight says more than this one
        finally:
            if conn.invalidated:
                self._store._forget(conn)

    def _wrapped(self, error: Exception, sql: str) -> DBAPIError:
        """The driver's error as SQLAlchemy's matching DBAPIError subclass chained to it, as `Prepared` raises."""
        dbapi_error: type[Exception] = self._dialect.loaded_dbapi.Error
        # a driver error always comes back as a DBAPIError subclass, never a bare StatementError
        wrapped = cast(DBAPIError, DBAPIError.instance(sql, None, error, dbapi_error, dialect=self._dialect))
        wrapped.__cause__ = error
        return wrapped

    def _failed(self, exc: DBAPIError, params: Mapping[str, Any] | None, duplicate: str | None) -> QaflowError:
        orig: Any = exc.orig
        if self._conn is not None and self._dialect.is_disconnect(orig, self._driver, self._cursor):
            self._conn.invalidate()  # the pool must not hand this connection out again
        message = duplicate.format_map(params) if duplicate is not None and params is not None else None
        return translate_error(exc, message)

    def _run(self, statement: Prepared, params: Mapping[str, Any], duplicate: str | None = None) -> Any:
        try:
            return statement.run(self._cursor, self._dialect, params)
        except DBAPIError as exc:
            raise self._failed(exc, params, duplicate) from exc

    def _rows(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
        try:
            return statement.rows(self._cursor, self._dialect, params)
        except DBAPIError as exc:
            raise self._failed(exc, params, None) from exc

    def _first(self, statement: Prepared, params: Mapping[str, Any]) -> list[Any] | None:
        try:
            return statement.first(self._cursor, self._dialect, params)
        except DBAPIError as exc:
            raise self._failed(exc, params, None) from exc


SqlStore.unit_of_work_type = SqlUnitOfWork


class _SqlRepository:
    """Statements of one aggregate, run in the unit of work's transaction (never committing)."""

    __slots__ = ("_uow",)

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow


class SqlDefinitions(_SqlRepository):
    __slots__ = ()

    def get(self, workflow: str, version: int) -> DefinitionRecord | None:
        row = self._uow._first(_GET_DEFINITION, {"workflow": workflow, "version": version})
        return None if row is None else _DEFINITION.make(*row)

    def latest(self, workflow: str) -> DefinitionRecord | None:
        row = self._uow._first(_GET_LATEST_DEFINITION, {"workflow": workflow})
        return None if row is None else _DEFINITION.make(*row)

    def add(self, record: DefinitionRecord) -> None:
        self._uow._run(_ADD_DEFINITION, _DEFINITION.params(record), "workflow {workflow} version {version} is already deployed")


class SqlInstances(_SqlRepository):
    __slots__ = ()

    def lock(self, instance_id: str) -> InstanceRecord | None:
        row = self._uow._first(_LOCK_INSTANCE, {"id": instance_id})
        return None if row is None else _INSTANCE.make(*row)

    def get(self, instance_id: str) -> InstanceRecord | None:
        row = self._uow._first(_READ_INSTANCE, {"id": instance_id})
        return None if row is None else _INSTANCE.make(*row)

    def add(self, record: InstanceRecord) -> None:
        self._uow._run(_ADD_INSTANCE, _INSTANCE.params(record), "instance {id} already exists")

    def update(self, record: InstanceRecord, expected_lock_version: int) -> None:
        params = dict(_INSTANCE.params(record))
        params["where_id"] = params.pop("id")
        params["expected"] = expected_lock_version
        if self._uow._run(_UPDATE_INSTANCE, params).rowcount != 1:
            # the stored lock_version is not read back: one more query on a path that is already failing
            raise ConflictError(
                f"instance {record.id} has changed since it was read; try again",
                retryable=True,
                instance_id=record.id,
                expected_lock_version=expected_lock_version,
            )

    def list(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> InstanceList:
        statement = _LIST_INSTANCES[workflow is not None, state is not None, after is not None, bool(limit)]
        make = _INSTANCE.make
        params = {"workflow": workflow, "state": state, "after": after, "limit": limit}
        return [make(*row) for row in self._uow._rows(statement, params)]


class SqlStateEntries(_SqlRepository):
    __slots__ = ()

    def add(self, entry: StateEntry) -> None:
        self._uow._run(_ADD_STATE_ENTRY, _STATE_ENTRY.params(entry), "state entry {seq} of {instance_id} already exists")

    def of(self, instance_id: str) -> list[StateEntry]:
        make = _STATE_ENTRY.make
        return [make(*row) for row in self._uow._rows(_GET_STATE_ENTRIES, {"instance_id": instance_id})]


class SqlHistory(_SqlRepository):
    __slots__ = ()

    def append(self, row: HistoryRow, payload: bytes) -> None:
        uow = self._uow
        uow._run(_ADD_HISTORY, _HISTORY.params(row), "history row {seq} of {instance_id} already exists")
        params = {"instance_id": row.instance_id, "seq": row.seq, "body": payload}
        uow._run(_ADD_PAYLOAD, params, "the payload of history row {seq} of {instance_id} already exists")

    def rows(self, instance_id: str) -> list[HistoryRow]:
        make = _HISTORY.make
        return [make(*row) for row in self._uow._rows(_GET_HISTORY, {"instance_id": instance_id})]

    def payloads(self, instance_id: str) -> dict[int, HistoryPayload]:
        make = _PAYLOAD.make
        payloads = (make(*row) for row in self._uow._rows(_GET_PAYLOADS, {"instance_id": instance_id}))
        return {payload.seq: payload for payload in payloads}


class SqlIdempotency(_SqlRepository):
    __slots__ = ()

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        row = self._uow._first(_GET_IDEMPOTENCY_KEY, {"scope": scope, "key": key})
        return None if row is None else _IDEMPOTENCY.make(*row)

    def add(self, record: IdempotencyRecord) -> None:
        self._uow._run(_ADD_IDEMPOTENCY_KEY, _IDEMPOTENCY.params(record), "idempotency key {key!r} is already used")


class SqlOutbox(_SqlRepository):
    __slots__ = ()

    def add(self, message: OutboxMessage) -> None:
        self._uow._run(_ADD_OUTBOX, _OUTBOX.params(message), "outbox message {id} already exists")

    def messages(self, *, pending_only: bool = False) -> list[OutboxMessage]:
        make = _OUTBOX.make
        return [make(*row) for row in self._uow._rows(_GET_PENDING_OUTBOX if pending_only else _GET_OUTBOX)]


class SqlSecurityLog(_SqlRepository):
    __slots__ = ()

    def add(self, event: SecurityEvent) -> None:
        self._uow._run(_ADD_SECURITY_EVENT, _SECURITY.params(event))

    def entries(self, instance_id: str | None = None) -> list[SecurityEvent]:
        if instance_id is None:
            rows = self._uow._rows(_GET_SECURITY_EVENTS)
        else:
            rows = self._uow._rows(_GET_INSTANCE_SECURITY_EVENTS, {"instance_id": instance_id})
        make = _SECURITY.make
        return [make(*row) for row in rows]


class SqlAccessLog(_SqlRepository):
    __slots__ = ()

    def add(self, entry: AccessEntry) -> None:
        self._uow._run(_ADD_ACCESS_ENTRY, _ACCESS.params(entry))

    def entries(self, instance_id: str | None = None) -> list[AccessEntry]:
        if instance_id is None:
            rows = self._uow._rows(_GET_ACCESS_ENTRIES)
        else:
            rows = self._uow._rows(_GET_INSTANCE_ACCESS_ENTRIES, {"instance_id": instance_id})
        make = _ACCESS.make
        return [make(*row) for row in rows]


if TYPE_CHECKING:
    from engine.store.protocol import Store, UnitOfWork

    def _conforms(store: SqlStore, uow: SqlUnitOfWork) -> tuple[Store, UnitOfWork]:
        return store, uow  # mypy checks here that both still match the engine's Protocols

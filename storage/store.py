"""`SqlStore`: the engine's `Store` on SQLAlchemy Core, one connection and transaction per unit of work.

`SqlStore.unit_of_work()` gives a `SqlUnitOfWork`: entering it checks out a pooled connection
and begins (SQLite: `BEGIN IMMEDIATE`, so the write lock is held from the start; PostgreSQL:
`lock_instance` is `SELECT ... FOR UPDATE`); a clean exit commits, an exception rolls back
and propagates. Nothing in between commits.

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
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Table, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from engine import ConflictError, QaflowError
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
from storage.database import READ_ONLY, translate_error
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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._open = threading.local()  # this thread's connection, and whether a unit of work is open
        self._held: list[Connection] = []  # every thread's kept connection, to close them all
        self._held_lock = threading.Lock()

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, read_only)

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
            self._open.read_only = False  # a new connection has no execution options yet
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
    """One transaction on one connection (see the module docstring)."""

    __slots__ = ("_conn", "_cursor", "_dialect", "_read_only", "_store")

    def __init__(self, store: SqlStore, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._dialect = store.engine.dialect
        self._conn: Connection | None = None
        self._cursor: Any = None

    # --- the transaction -----------------------------------------------------------------

    def __enter__(self) -> SqlUnitOfWork:
        store = self._store
        if getattr(store._open, "active", False):
            # a second connection on this thread would wait for our own write lock
            raise QaflowError("a unit of work is already open on this store; the engine opens one per event")
        try:
            conn = store._connection()
        except DBAPIError as exc:
            raise translate_error(exc) from exc
        try:
            if getattr(store._open, "read_only", False) != self._read_only:
                conn.execution_options(**{READ_ONLY: self._read_only})  # SQLite: a plain BEGIN, no write lock
                store._open.read_only = self._read_only
            conn.begin()  # SQLite: BEGIN IMMEDIATE, retried, else ConflictError
            self._cursor = conn.connection.cursor()
        except BaseException as exc:
            store._forget(conn)
            if isinstance(exc, DBAPIError):
                raise translate_error(exc) from exc
            raise
        self._conn = conn
        store._open.active = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        conn = self._conn
        if conn is None:
            return
        self._conn = None
        self._store._open.active = False
        try:
            self._cursor.close()
            transaction = conn.get_transaction()
            if transaction is None:  # pragma: no cover - only if a disconnect invalidated it
                return
            if exc_type is None:
                try:
                    transaction.commit()
                except DBAPIError as error:  # a deferred foreign key, a full disk
                    # SQLite keeps the transaction open after a failed COMMIT, and the pool
                    # counts the attempt as its reset: discard the connection, which ends it.
                    conn.invalidate()
                    raise translate_error(error) from error
            else:
                transaction.rollback()
        finally:
            self._cursor = None
            if conn.invalidated:
                self._store._forget(conn)

    def _failed(self, exc: DBAPIError, params: Mapping[str, Any] | None, duplicate: str | None) -> QaflowError:
        orig: Any = exc.orig
        if self._conn is not None and self._dialect.is_disconnect(orig, self._conn.connection.dbapi_connection, self._cursor):
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

    # --- definitions -------------------------------------------------------------------

    def get_definition(self, workflow: str, version: int) -> DefinitionRecord | None:
        row = self._first(_GET_DEFINITION, {"workflow": workflow, "version": version})
        return None if row is None else _DEFINITION.make(*row)

    def get_latest_definition(self, workflow: str) -> DefinitionRecord | None:
        row = self._first(_GET_LATEST_DEFINITION, {"workflow": workflow})
        return None if row is None else _DEFINITION.make(*row)

    def add_definition(self, record: DefinitionRecord) -> None:
        self._run(_ADD_DEFINITION, _DEFINITION.params(record), "workflow {workflow} version {version} is already deployed")

    # --- instances ---------------------------------------------------------------------

    def lock_instance(self, instance_id: str) -> InstanceRecord | None:
        row = self._first(_LOCK_INSTANCE, {"id": instance_id})
        return None if row is None else _INSTANCE.make(*row)

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        row = self._first(_READ_INSTANCE, {"id": instance_id})
        return None if row is None else _INSTANCE.make(*row)

    def add_instance(self, record: InstanceRecord) -> None:
        self._run(_ADD_INSTANCE, _INSTANCE.params(record), "instance {id} already exists")

    def update_instance(self, record: InstanceRecord, expected_lock_version: int) -> None:
        params = dict(_INSTANCE.params(record))
        params["where_id"] = params.pop("id")
        params["expected"] = expected_lock_version
        if self._run(_UPDATE_INSTANCE, params).rowcount != 1:
            raise ConflictError(f"instance {record.id} has changed since it was read; try again")

    def list_instances(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[InstanceRecord]:
        statement = _LIST_INSTANCES[workflow is not None, state is not None, after is not None, bool(limit)]
        make = _INSTANCE.make
        return [make(*row) for row in self._rows(statement, {"workflow": workflow, "state": state, "after": after, "limit": limit})]

    # --- state entries -----------------------------------------------------------------

    def add_state_entry(self, entry: StateEntry) -> None:
        self._run(_ADD_STATE_ENTRY, _STATE_ENTRY.params(entry), "state entry {seq} of {instance_id} already exists")

    def get_state_entries(self, instance_id: str) -> list[StateEntry]:
        make = _STATE_ENTRY.make
        return [make(*row) for row in self._rows(_GET_STATE_ENTRIES, {"instance_id": instance_id})]

    # --- history -----------------------------------------------------------------------

    def append_history(self, row: HistoryRow, payload: bytes) -> None:
        self._run(_ADD_HISTORY, _HISTORY.params(row), "history row {seq} of {instance_id} already exists")
        params = {"instance_id": row.instance_id, "seq": row.seq, "body": payload}
        self._run(_ADD_PAYLOAD, params, "the payload of history row {seq} of {instance_id} already exists")

    def get_history(self, instance_id: str) -> list[HistoryRow]:
        make = _HISTORY.make
        return [make(*row) for row in self._rows(_GET_HISTORY, {"instance_id": instance_id})]

    def get_payloads(self, instance_id: str) -> dict[int, HistoryPayload]:
        make = _PAYLOAD.make
        payloads = (make(*row) for row in self._rows(_GET_PAYLOADS, {"instance_id": instance_id}))
        return {payload.seq: payload for payload in payloads}

    # --- idempotency keys --------------------------------------------------------------

    def get_idempotency_key(self, scope: str, key: str) -> IdempotencyRecord | None:
        row = self._first(_GET_IDEMPOTENCY_KEY, {"scope": scope, "key": key})
        return None if row is None else _IDEMPOTENCY.make(*row)

    def add_idempotency_key(self, record: IdempotencyRecord) -> None:
        self._run(_ADD_IDEMPOTENCY_KEY, _IDEMPOTENCY.params(record), "idempotency key {key!r} is already used")

    # --- outbox ------------------------------------------------------------------------

    def add_outbox_message(self, message: OutboxMessage) -> None:
        self._run(_ADD_OUTBOX, _OUTBOX.params(message), "outbox message {id} already exists")

    def get_outbox(self, *, pending_only: bool = False) -> list[OutboxMessage]:
        make = _OUTBOX.make
        return [make(*row) for row in self._rows(_GET_PENDING_OUTBOX if pending_only else _GET_OUTBOX)]

    # --- security log ------------------------------------------------------------------

    def add_security_event(self, event: SecurityEvent) -> None:
        self._run(_ADD_SECURITY_EVENT, _SECURITY.params(event))

    def get_security_events(self, instance_id: str | None = None) -> list[SecurityEvent]:
        if instance_id is None:
            rows = self._rows(_GET_SECURITY_EVENTS)
        else:
            rows = self._rows(_GET_INSTANCE_SECURITY_EVENTS, {"instance_id": instance_id})
        make = _SECURITY.make
        return [make(*row) for row in rows]

    # --- access log --------------------------------------------------------------------

    def add_access_entry(self, entry: AccessEntry) -> None:
        self._run(_ADD_ACCESS_ENTRY, _ACCESS.params(entry))

    def get_access_entries(self, instance_id: str | None = None) -> list[AccessEntry]:
        if instance_id is None:
            rows = self._rows(_GET_ACCESS_ENTRIES)
        else:
            rows = self._rows(_GET_INSTANCE_ACCESS_ENTRIES, {"instance_id": instance_id})
        make = _ACCESS.make
        return [make(*row) for row in rows]


if TYPE_CHECKING:
    from engine.store.protocol import Store, UnitOfWork

    def _conforms(store: SqlStore, uow: SqlUnitOfWork) -> tuple[Store, UnitOfWork]:
        return store, uow  # mypy checks here that both still match the engine's Protocols

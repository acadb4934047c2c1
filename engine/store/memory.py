"""An in-memory store with real transactions, for tests and benchmarks.

Each unit of work keeps an undo log: every write records how to take it back, a clean exit
forgets the log (commit), an exception replays it backwards (rollback). That is cheaper than
copying every table when the unit of work begins, and gives the same guarantee: a refused or
failed event leaves instances, history, state entries, keys, outbox and definitions exactly
as they were. One unit of work runs at a time (a lock), like SQLite's single writer.

Records are immutable, so tables hold them directly and reads hand them out without copying.

The store makes its unit of work and its repositories once and hands the same object out for
every unit of work: the store lock lets only one be open at a time, so nothing is shared
between two open ones, and an event allocates no repository objects.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from engine.errors import ConflictError
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

# How to take one write back: a function and its arguments, called on rollback. Tuples rather
# than closures, because a closure costs more to make and every event makes several.
Undo = tuple[Any, ...]  # (function, *arguments)


class MemoryStore:
    """Tables as dicts and lists. `snapshot()` lets tests check that nothing changed."""

    def __init__(self) -> None:
        self.definitions: dict[tuple[str, int], DefinitionRecord] = {}
        self.instances: dict[str, InstanceRecord] = {}
        self.state_entries: dict[str, list[StateEntry]] = {}
        self.history: dict[str, list[HistoryRow]] = {}
        self.payloads: dict[str, dict[int, bytes | None]] = {}  # None: redacted
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.outbox: list[OutboxMessage] = []
        self.security_log: list[SecurityEvent] = []
        self.access_log: list[AccessEntry] = []
        # Re-entrant, so a second unit of work on the same thread is refused below instead
        # of waiting for itself; other threads wait their turn, as on a real database.
        self._lock = threading.RLock()
        self._active = False
        self._uow = MemoryUnitOfWork(self)

    def unit_of_work(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        return self._uow  # one lock for all: reads are as cheap as writes here

    def snapshot(self) -> tuple[Any, ...]:
        """Everything but the security and access logs, copied shallowly: equal snapshots, equal stores."""
        return (
            dict(self.definitions),
            dict(self.instances),
            {key: list(value) for key, value in self.state_entries.items()},
            {key: list(value) for key, value in self.history.items()},
            {key: dict(value) for key, value in self.payloads.items()},
            dict(self.idempotency),
            list(self.outbox),
        )


class MemoryUnitOfWork:
    """One transaction at a time on a MemoryStore (see the module docstring).

    Its undo log is cleared when it is entered, after the store lock is held; the
    repositories append to that same list.
    """

    __slots__ = (
        "_store",
        "_undo",
        "access_log",
        "definitions",
        "history",
        "idempotency",
        "instances",
        "outbox",
        "security_log",
        "state_entries",
    )

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        undo: list[Undo] = []
        self._undo = undo
        self.definitions = MemoryDefinitions(store, undo)
        self.instances = MemoryInstances(store, undo)
        self.state_entries = MemoryStateEntries(store, undo)
        self.history = MemoryHistory(store, undo)
        self.idempotency = MemoryIdempotency(store, undo)
        self.outbox = MemoryOutbox(store, undo)
        self.security_log = MemorySecurityLog(store, undo)
        self.access_log = MemoryAccessLog(store, undo)

    def __enter__(self) -> MemoryUnitOfWork:
        store = self._store
        store._lock.acquire()
        if store._active:  # only reachable from another unit of work on this thread
            store._lock.release()
            raise RuntimeError("a unit of work is already open on this store; the engine opens one per event")  # a bug, not a user error
        store._active = True
        self._undo.clear()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        store = self._store
        undo = self._undo
        try:
            if exc_type is not None:
                for step in reversed(undo):
                    step[0](*step[1:])
        finally:
            undo.clear()
            store._active = False
            store._lock.release()


class _Repository:
    """A view of the store's tables that records how to undo each write in the unit of work's log."""

    __slots__ = ("_store", "_undo")

    def __init__(self, store: MemoryStore, undo: list[Undo]) -> None:
        self._store = store
        self._undo = undo


class MemoryDefinitions(_Repository):
    __slots__ = ()

    def get(self, workflow: str, version: int) -> DefinitionRecord | None:
        return self._store.definitions.get((workflow, version))

    def latest(self, workflow: str) -> DefinitionRecord | None:
        versions = [record for (name, _), record in self._store.definitions.items() if name == workflow]
        return max(versions, key=lambda record: record.version, default=None)

    def add(self, record: DefinitionRecord) -> None:
        table = self._store.definitions
        key = (record.workflow, record.version)
        if key in table:
            raise ConflictError(f"workflow {record.workflow} version {record.version} is already deployed", retryable=True)
        table[key] = record
        self._undo.append((dict.pop, table, key))


class MemoryInstances(_Repository):
    __slots__ = ()

    def lock(self, instance_id: str) -> InstanceRecord | None:
        return self._store.instances.get(instance_id)  # the store lock already serialises writers

    def get(self, instance_id: str) -> InstanceRecord | None:
        return self._store.instances.get(instance_id)

    def add(self, record: InstanceRecord) -> None:
        table = self._store.instances
        if record.id in table:
            raise ConflictError(f"instance {record.id} already exists", retryable=True, instance_id=record.id)
        table[record.id] = record
        self._undo.append((dict.pop, table, record.id))

    def update(self, record: InstanceRecord, expected_lock_version: int) -> None:
        table = self._store.instances
        old = table.get(record.id)
        if old is None or old.lock_version != expected_lock_version:
            raise ConflictError(
                f"instance {record.id} has changed since it was read; try again",
                retryable=True,
                instance_id=record.id,
                expected_lock_version=expected_lock_version,
                actual_lock_version=None if old is None else old.lock_version,
            )
        table[record.id] = record
        self._undo.append((dict.__setitem__, table, record.id, old))

    def list(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> InstanceList:
        found = [
            record
            for record_id, record in sorted(self._store.instances.items())
            if (workflow is None or record.workflow == workflow)
            and (state is None or record.state == state)
            and (after is None or record_id > after)
        ]
        return found if not limit else found[:limit]


class MemoryStateEntries(_Repository):
    __slots__ = ()

    def add(self, entry: StateEntry) -> None:
        entries = self._store.state_entries.setdefault(entry.instance_id, [])
        entries.append(entry)
        self._undo.append((list.pop, entries))

    def of(self, instance_id: str) -> list[StateEntry]:
        return list(self._store.state_entries.get(instance_id, ()))


class MemoryHistory(_Repository):
    __slots__ = ()

    def append(self, row: HistoryRow, payload: bytes) -> None:
        rows = self._store.history.setdefault(row.instance_id, [])
        if rows and rows[-1].seq >= row.seq:
            raise ConflictError(f"history row {row.seq} of {row.instance_id} already exists", retryable=True, instance_id=row.instance_id)
        payloads = self._store.payloads.setdefault(row.instance_id, {})
        rows.append(row)
        payloads[row.seq] = payload
        self._undo.append((_unappend, rows, payloads, row.seq))

    def rows(self, instance_id: str) -> list[HistoryRow]:
        return sorted(self._store.history.get(instance_id, ()), key=lambda row: row.seq)

    def payloads(self, instance_id: str) -> dict[int, HistoryPayload]:
        return {seq: HistoryPayload(instance_id, seq, body) for seq, body in self._store.payloads.get(instance_id, {}).items()}


class MemoryIdempotency(_Repository):
    __slots__ = ()

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self._store.idempotency.get((scope, key))

    def add(self, record: IdempotencyRecord) -> None:
        table = self._store.idempotency
        key = (record.scope, record.key)
        if key in table:
            raise ConflictError(f"idempotency key {record.key!r} is already used", retryable=True, idempotency_key=record.key)
        table[key] = record
        self._undo.append((dict.pop, table, key))


class MemoryOutbox(_Repository):
    __slots__ = ()

    def add(self, message: OutboxMessage) -> None:
        outbox = self._store.outbox
        outbox.append(message)
        self._undo.append((list.pop, outbox))

    def messages(self, *, pending_only: bool = False) -> list[OutboxMessage]:
        return [message for message in self._store.outbox if not pending_only or message.status == "pending"]


class MemorySecurityLog(_Repository):
    __slots__ = ()

    def add(self, event: SecurityEvent) -> None:
        log = self._store.security_log
        log.append(event)
        self._undo.append((list.pop, log))

    def entries(self, instance_id: str | None = None) -> list[SecurityEvent]:
        return [event for event in self._store.security_log if instance_id is None or event.instance_id == instance_id]


class MemoryAccessLog(_Repository):
    __slots__ = ()

    def add(self, entry: AccessEntry) -> None:
        log = self._store.access_log
        log.append(entry)
        self._undo.append((list.pop, log))

    def entries(self, instance_id: str | None = None) -> list[AccessEntry]:
        return [entry for entry in self._store.access_log if instance_id is None or entry.instance_id == instance_id]


def _unappend(rows: list[HistoryRow], payloads: dict[int, bytes | None], seq: int) -> None:
    rows.pop()
    del payloads[seq]


if TYPE_CHECKING:
    from engine.store.protocol import Store, UnitOfWork

    def _conforms(store: MemoryStore, uow: MemoryUnitOfWork) -> tuple[Store, UnitOfWork]:
        return store, uow  # mypy checks here that both still match the engine's Protocols

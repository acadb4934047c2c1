"""The store interface the engine needs: a unit of work with the reads and writes of one event.

The engine owns the transaction boundary (DESIGN §4.2): it opens exactly one unit of work per
event with `Store.unit_of_work()`, used as a context manager. A clean exit commits; an
exception rolls everything back and propagates. The unit of work reaches the tables through
one repository per aggregate (`engine.store.repositories`: `uow.instances.lock(...)`,
`uow.history.append(...)`, ...); no repository commits on its own, and a refused event
leaves instances, history, state entries, idempotency keys and outbox as they were. The
security log is written in a unit of work of its own, after the refused one has rolled back.

A SQLAlchemy Core implementation maps this one to one: entering a unit of work begins a
transaction on a connection (SQLite: `BEGIN IMMEDIATE`, or a plain `BEGIN` for a
read-only unit of work, which never takes the write lock); `instances.lock` is
`SELECT ... FOR UPDATE` on PostgreSQL; `instances.update` is
`UPDATE instances ... WHERE id = :id AND lock_version = :expected` and raises
`ConflictError` when no row matched; records are the frozen dataclasses of
`engine.store.records`, with JSON-form data stored as JSON text.

A store may hand out the same unit-of-work object again once the previous one has ended (the
repositories are made once with it, not per event); it is entered straight away with `with`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from engine.store.repositories import (
    AccessLogRepository,
    DefinitionRepository,
    HistoryRepository,
    IdempotencyRepository,
    InstanceRepository,
    OutboxRepository,
    SecurityLogRepository,
    StateEntryRepository,
)


class UnitOfWork(Protocol):
    """One transaction: the reads and writes of one event, through its repositories.

    Read-only properties, so an implementation may hold its repositories as plain attributes.
    """

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """Commit when `exc_type` is None, else roll back; never swallows the exception."""

    @property
    def definitions(self) -> DefinitionRepository: ...

    @property
    def instances(self) -> InstanceRepository: ...

    @property
    def state_entries(self) -> StateEntryRepository: ...

    @property
    def history(self) -> HistoryRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def security_log(self) -> SecurityLogRepository: ...

    @property
    def access_log(self) -> AccessLogRepository: ...


class Store(Protocol):
    """Where instances live. The engine calls nothing else on it."""

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work, to be entered with `with` at once (it may be reused afterwards).

        `read_only` promises no writes: on SQLite it then takes no write lock, so reads
        (show, history, verify) never queue behind writers.
        """

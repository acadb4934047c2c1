"""The store interface the engine needs: a unit of work with the reads and writes of one event.

The engine owns the transaction boundary (DESIGN §4.2): it opens exactly one unit of work per
event with `Store.unit_of_work()`, used as a context manager. A clean exit commits; an
exception rolls everything back and propagates. Nothing below commits on its own, and a
refused event leaves instances, history, state entries, idempotency keys and outbox as they
were. The security log is written in a unit of work of its own, after the refused one has
rolled back.

A SQLAlchemy Core implementation maps this one to one: `unit_of_work()` returns an object
holding `engine.begin()`'s connection (SQLite: `BEGIN IMMEDIATE`); `lock_instance` is
`SELECT ... FOR UPDATE` on PostgreSQL; `update_instance` is
`UPDATE instances ... WHERE id = :id AND lock_version = :expected` and raises
`ConflictError` when no row matched; records are the frozen dataclasses of
`engine.store.records`, with JSON-form data stored as JSON text.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

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


class UnitOfWork(Protocol):
    """One transaction: the reads and writes of one event. Never commits by itself."""

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """Commit when `exc_type` is None, else roll back; never swallows the exception."""

    # --- definitions -------------------------------------------------------------------

    def get_definition(self, workflow: str, version: int) -> DefinitionRecord | None: ...

    def get_latest_definition(self, workflow: str) -> DefinitionRecord | None:
        """The highest deployed version of `workflow`, or None."""

    def add_definition(self, record: DefinitionRecord) -> None:
        """Insert; (workflow, version) must be new (the engine checks first)."""

    # --- instances ---------------------------------------------------------------------

    def lock_instance(self, instance_id: str) -> InstanceRecord | None:
        """Read the instance and lock it until the unit of work ends; None when there is none."""

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """Read without locking (show, history, explain, verify)."""

    def add_instance(self, record: InstanceRecord) -> None: ...

    def update_instance(self, record: InstanceRecord, expected_lock_version: int) -> None:
        """Replace the instance row, only if its lock_version is still `expected_lock_version`.

        Raises:
            ConflictError: the row has moved on (or is gone).
        """

    def list_instances(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[InstanceRecord]:
        """Instances ordered by id (ids are time-ordered); `after` is an id to page from."""

    # --- state entries -----------------------------------------------------------------

    def add_state_entry(self, entry: StateEntry) -> None: ...

    def get_state_entries(self, instance_id: str) -> list[StateEntry]:
        """Every entry of the instance, in order (ordered by seq)."""

    # --- history -----------------------------------------------------------------------

    def append_history(self, row: HistoryRow, payload: bytes) -> None:
        """Insert one history row (`history`) and its payload's canonical bytes
        (`history_payloads`, keyed by the same instance_id and seq); the pair must be new."""

    def get_history(self, instance_id: str) -> list[HistoryRow]:
        """The instance's rows ordered by seq."""

    def get_payloads(self, instance_id: str) -> dict[int, HistoryPayload]:
        """The instance's payloads by seq (a missing seq means the payload row is gone; a
        redacted one has `body` None)."""

    # --- idempotency keys --------------------------------------------------------------

    def get_idempotency_key(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    def add_idempotency_key(self, record: IdempotencyRecord) -> None: ...

    # --- outbox ------------------------------------------------------------------------

    def add_outbox_message(self, message: OutboxMessage) -> None: ...

    def get_outbox(self, *, pending_only: bool = False) -> list[OutboxMessage]:
        """Messages in the order they were written."""

    # --- security log ------------------------------------------------------------------

    def add_security_event(self, event: SecurityEvent) -> None: ...

    def get_security_events(self, instance_id: str | None = None) -> list[SecurityEvent]:
        """Entries in the order they were written; all of them, or one instance's."""

    # --- access log --------------------------------------------------------------------

    def add_access_entry(self, entry: AccessEntry) -> None:
        """Record one read; written in a unit of work of its own, after the read."""

    def get_access_entries(self, instance_id: str | None = None) -> list[AccessEntry]:
        """Entries in the order they were written; all of them, or one instance's."""


class Store(Protocol):
    """Where instances live. The engine calls nothing else on it."""

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A fresh unit of work, to be entered with `with`.

        `read_only` promises no writes: on SQLite it then takes no write lock, so reads
        (show, history, verify) never queue behind writers.
        """

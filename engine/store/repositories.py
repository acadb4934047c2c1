"""The repositories of a unit of work: one small Protocol per aggregate (table family).

A unit of work (`engine.store.protocol.UnitOfWork`) exposes one repository per aggregate as
an attribute: `uow.definitions`, `uow.instances`, `uow.state_entries`, `uow.history`,
`uow.idempotency`, `uow.outbox`, `uow.security_log`, `uow.access_log`. A repository reads
and writes inside its unit of work's transaction and never commits: the unit of work commits
on a clean exit and rolls back on an exception (STYLE "Transactions").

Records are the frozen dataclasses of `engine.store.records`, one per table.
"""

from __future__ import annotations

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

# A method called `list` hides the builtin inside its class body, so the types say it here.
InstanceList = list[InstanceRecord]


class DefinitionRepository(Protocol):
    """Deployed workflow definitions, keyed by (workflow, version)."""

    def get(self, workflow: str, version: int) -> DefinitionRecord | None: ...

    def latest(self, workflow: str) -> DefinitionRecord | None:
        """The highest deployed version of `workflow`, or None."""

    def add(self, record: DefinitionRecord) -> None:
        """Insert; (workflow, version) must be new (the engine checks first).

        Raises:
            ConflictError: that version is already deployed.
        """


class InstanceRepository(Protocol):
    """Workflow instances, keyed by id."""

    def lock(self, instance_id: str) -> InstanceRecord | None:
        """Read the instance and lock it until the unit of work ends; None when there is none."""

    def get(self, instance_id: str) -> InstanceRecord | None:
        """Read without locking (show, history, explain, verify)."""

    def add(self, record: InstanceRecord) -> None:
        """Insert a new instance.

        Raises:
            ConflictError: an instance with that id exists.
        """

    def update(self, record: InstanceRecord, expected_lock_version: int) -> None:
        """Replace the instance row, only if its lock_version is still `expected_lock_version`.

        Raises:
            ConflictError: the row has moved on (or is gone).
        """

    def list(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> InstanceList:
        """Instances ordered by id (ids are time-ordered); `after` is an id to page from."""


class StateEntryRepository(Protocol):
    """When each instance entered each state (for `entered_at` and deadlines)."""

    def add(self, entry: StateEntry) -> None: ...

    def of(self, instance_id: str) -> list[StateEntry]:
        """Every entry of the instance, in order (ordered by seq)."""


class HistoryRepository(Protocol):
    """The hash-chained history rows and their payloads (`history`, `history_payloads`)."""

    def append(self, row: HistoryRow, payload: bytes) -> None:
        """Insert one history row and its payload's canonical bytes (keyed by the same
        instance_id and seq); the pair must be new.

        Raises:
            ConflictError: that seq is already written.
        """

    def rows(self, instance_id: str) -> list[HistoryRow]:
        """The instance's rows ordered by seq."""

    def payloads(self, instance_id: str) -> dict[int, HistoryPayload]:
        """The instance's payloads by seq (a missing seq means the payload row is gone; a
        redacted one has `body` None)."""


class IdempotencyRepository(Protocol):
    """Idempotency keys and the stored result of the request that first used each."""

    def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    def add(self, record: IdempotencyRecord) -> None:
        """Insert; (scope, key) must be new.

        Raises:
            ConflictError: the key is already used.
        """


class OutboxRepository(Protocol):
    """Notifications written with the event that caused them, for delivery afterwards."""

    def add(self, message: OutboxMessage) -> None: ...

    def messages(self, *, pending_only: bool = False) -> list[OutboxMessage]:
        """Messages in the order they were written."""


class SecurityLogRepository(Protocol):
    """Refused and rejected attempts, written in a unit of work of their own."""

    def add(self, event: SecurityEvent) -> None: ...

    def entries(self, instance_id: str | None = None) -> list[SecurityEvent]:
        """Entries in the order they were written; all of them, or one instance's."""


class AccessLogRepository(Protocol):
    """Who read which instance, written in a unit of work of its own after the read."""

    def add(self, entry: AccessEntry) -> None: ...

    def entries(self, instance_id: str | None = None) -> list[AccessEntry]:
        """Entries in the order they were written; all of them, or one instance's."""

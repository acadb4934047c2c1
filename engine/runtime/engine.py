"""The `Engine`: one facade over small services (DESIGN §4, §6).

An engine is a store, two clocks, a function registry and a history key (`EngineParts`),
and four services built on them, each in its own module:

    definitions   deploy; compiled machines, one per stored definition  (runtime/definitions.py)
    events        start, fire, explain, available                       (runtime/events.py)
    reads         show, history, listings, the logs                     (runtime/reads.py)
    integrity     verify, checkpoints                                    (runtime/integrity.py)

The methods here only document the API and hand over. The events service, and with it the
judgement and commit code, is imported when first used, so a process that only reads
(`qaflow show`) never loads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.expressions import FunctionRegistry, default_functions
from engine.history.chain import ChainHasher
from engine.history.checkpoints import CheckpointFinding
from engine.language.workflow import Workflow
from engine.results import Actor, AvailableTrigger, Explanation, FireResult, HistoryEntry, InstanceView, SystemActor, VerifyReport
from engine.runtime.definitions import Definitions
from engine.runtime.integrity import Integrity
from engine.runtime.parts import EngineParts
from engine.runtime.reads import Reads
from engine.store.protocol import Store
from engine.store.records import AccessEntry, DefinitionRecord, InstanceRecord, OutboxMessage, SecurityEvent
from engine.time.clock import Clock, SystemClock

if TYPE_CHECKING:
    from engine.runtime.events import Events


class Engine:
    """Runs workflows on a store.

    Args:
        store: where instances live (`engine.MemoryStore`, or `storage.open_store(url)`).
        clock: the effective clock ("now" for events); the system clock by default.
        functions: the function registry used to load stored definitions (as deployed).
        history_key: HMAC key for the history chain (`QAFLOW_HISTORY_KEY`); SHA-256 without.
        wall_clock: when events are really recorded; the system clock by default.
        closures: the deployment's closure days, for calendars that count them.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        functions: FunctionRegistry | None = None,
        history_key: bytes | None = None,
        *,
        wall_clock: Clock | None = None,
        closures: frozenset[dt.date] = frozenset(),
    ) -> None:
        effective = clock or SystemClock()
        self.parts = EngineParts(
            store=store,
            clock=effective,
            # With one system clock for both, an event's two times are the same reading.
            wall_clock=wall_clock or (None if isinstance(effective, SystemClock) else SystemClock()),
            functions=functions or default_functions(),
            hasher=ChainHasher(history_key),
            closures=closures,
        )
        self.store = store
        self.clock = effective
        self.definitions = Definitions(self.parts)
        self.reads = Reads(self.parts, self.definitions)
        self.integrity = Integrity(self.parts)
        self._events: Events | None = None

    @property
    def events(self) -> Events:
        """The events service (imported on first use: a read-only process never needs it)."""
        if self._events is None:
            from engine.runtime.events import Events

            self._events = Events(self.parts, self.definitions)
        return self._events

    # --- definitions -------------------------------------------------------------------

    def deploy(self, workflow: Workflow) -> DefinitionRecord:
        """Store a workflow version (if new) and compile it.

        Raises:
            VersionConflictError: this version is stored with a different definition.
        """
        return self.definitions.deploy(workflow)

    def system_actor(self, on_behalf_of: str | None = None) -> SystemActor:
        """The engine's own actor, the only holder of `system` (timers, programme runs)."""
        return SystemActor("system", frozenset({"system"}), on_behalf_of)

    # --- events ------------------------------------------------------------------------

    def start(
        self,
        workflow_id: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        assign: Mapping[str, str] | None = None,
        comment: str | None = None,
        idempotency_key: str | None = None,
        *,
        version: int | None = None,
    ) -> InstanceView:
        """Start an instance of the latest deployed version of `workflow_id` (or `version`).

        Raises:
            TransitionRefusedError: the start is refused (every reason listed).
            NotFoundError: no such workflow (version) is deployed.
            ConflictError: the idempotency key was used with another request.
        """
        return self.events.start(workflow_id, actor, data, assign, comment, idempotency_key, version)

    def fire(
        self,
        instance_id: str,
        trigger: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        assign: Mapping[str, str] | None = None,
        comment: str | None = None,
        idempotency_key: str | None = None,
        lock_version: int | None = None,
    ) -> FireResult:
        """Send `trigger` to an instance, as `actor`, with event data and assignments.

        Raises:
            TransitionRefusedError: refused (every candidate's reasons listed).
            NotFoundError: no such instance.
            ConflictError: `lock_version` is stale, or the idempotency key was used with
                another request.
        """
        return self.events.fire(instance_id, trigger, actor, data, assign, comment, idempotency_key, lock_version)

    def explain(
        self, instance_id: str, trigger: str, actor: Actor, data: Mapping[str, Any] | None = None, assign: Mapping[str, str] | None = None
    ) -> Explanation:
        """Whether `trigger` would be taken now (with `data` and `assign`), every candidate's
        reasons, and what would happen. Changes nothing and logs nothing.

        Raises:
            NotFoundError: no such instance.
        """
        return self.events.explain(instance_id, trigger, actor, data, assign)

    def available(self, instance_id: str, actor: Actor) -> list[AvailableTrigger]:
        """Triggers the actor holds a role for in the instance's current state (separation
        of duties included). Checks and `needs` depend on the event's data: see `explain`.

        Raises:
            NotFoundError: no such instance.
        """
        return self.events.available(instance_id, actor)

    # --- reads -------------------------------------------------------------------------

    def show(self, instance_id: str, reader: str | None = None) -> InstanceView:
        """The instance now: state, typed data, assignees and computed values.

        With `reader`, the read is recorded in the access log (DESIGN §4.8).

        Raises:
            NotFoundError: no such instance.
        """
        return self.reads.show(instance_id, reader)

    def workflow_of(self, instance_id: str) -> Workflow:
        """The definition an instance runs on (as deployed: never the file in `workflows/`).

        Raises:
            NotFoundError: no such instance.
        """
        return self.reads.workflow_of(instance_id)

    def instances(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        assignee: str | None = None,
        where: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int | None = 100,
    ) -> list[InstanceRecord]:
        """Instances ordered by id (oldest first); `limit` None or 0 for all.

        `assignee` keeps instances where that person holds a role; `where` keeps those whose
        computed values, written as text (`true`, `12`, `good`), equal the given ones.
        """
        return self.reads.instances(workflow=workflow, state=state, assignee=assignee, where=where, after=after, limit=limit)

    def history(self, instance_id: str, reader: str | None = None) -> list[HistoryEntry]:
        """The instance's history, payloads read back (None values where redacted).

        With `reader`, the read is recorded in the access log (DESIGN §4.8).

        Raises:
            NotFoundError: no such instance.
        """
        return self.reads.history(instance_id, reader)

    def accesses(self, instance_id: str | None = None) -> list[AccessEntry]:
        """The access log: who read which instance, oldest first."""
        return self.reads.accesses(instance_id)

    def outbox(self, *, pending_only: bool = False) -> list[OutboxMessage]:
        """Messages for people, in the order they were written."""
        return self.reads.outbox(pending_only=pending_only)

    def refusals(self, instance_id: str | None = None) -> list[SecurityEvent]:
        """The security log: refused and rejected attempts, oldest first."""
        return self.reads.refusals(instance_id)

    # --- integrity ---------------------------------------------------------------------

    def verify(self, instance_id: str | None = None) -> VerifyReport:
        """Recompute every chain (or one), check stored bytes, heads and replayed state.

        Raises:
            NotFoundError: `instance_id` names no instance.
        """
        return self.integrity.verify(instance_id)

    def checkpoint(self) -> dict[str, Any]:
        """A digest of every chain head, to keep outside the database (`verify --checkpoint`)."""
        return self.integrity.checkpoint()

    def verify_against(self, checkpoint: Mapping[str, Any]) -> list[CheckpointFinding]:
        """Instances deleted, or histories rewritten, since `checkpoint` was made.

        Raises:
            CheckpointError: the checkpoint is not one, was made with another key, or was altered.
        """
        return self.integrity.verify_against(checkpoint)

"""What the engine's public API takes and gives back: actors, reasons, views and results.

All frozen dataclasses, with no JSON form of their own: the public JSON is built in
`qaflow.presentation`, and what an idempotency key keeps in `engine.runtime.replies`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.errors import CandidateReport, Reason

_new = object.__new__
_fill = object.__setattr__


@dataclass(frozen=True, slots=True)
class Actor:
    """A person acting, with the directory roles they carry (DESIGN §3.7).

    Who carries a role is the caller's business. Assignable roles are held by being assigned
    on the instance, whatever is claimed here; `system` can never be claimed.
    """

    id: str
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SystemActor(Actor):
    """The engine itself (timers, deadlines, cascades, programme runs), the only holder of
    `system`. Made by `Engine.system_actor()`; `on_behalf_of` is recorded with the event."""

    on_behalf_of: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """A `notify` effect's message, as written to the outbox."""

    roles: tuple[str, ...]
    recipients: tuple[str, ...]
    template: str | None
    message: str | None
    urgent: bool


@dataclass(frozen=True, slots=True)
class PendingEffect:
    """An effect the runtime reports but does not run (spawn, cancel_children,
    fire_parent, extend): the step is taken without it and nothing is stored for it, so
    the caller can see what the workflow asked for. `location` is where it is written in
    the definition."""

    kind: str
    location: tuple[str | int, ...]


@dataclass(frozen=True)
class FireResult:
    """The outcome of one accepted event. `changes` are the data changes in JSON form (a
    field -> its new value, None when unset); `to_state` is None for an internal event;
    `replayed` is True when an idempotency key returned the first result again."""

    instance_id: str
    seq: int
    trigger: str
    role: str
    from_state: str
    to_state: str | None
    state: str
    lock_version: int
    changes: Mapping[str, Any]
    assigned: Mapping[str, str]
    notifications: tuple[Notification, ...]
    pending_effects: tuple[PendingEffect, ...]
    hash: str
    replayed: bool = False

    @staticmethod
    def fast(
        instance_id: str,
        seq: int,
        trigger: str,
        role: str,
        from_state: str,
        to_state: str | None,
        state: str,
        lock_version: int,
        changes: Mapping[str, Any],
        assigned: Mapping[str, str],
        notifications: tuple[Notification, ...],
        pending_effects: tuple[PendingEffect, ...],
        hash: str,
    ) -> FireResult:
        """The constructor without its per-field `object.__setattr__` (made on every event,
        like the records in `engine.store.records`)."""
        result = _new(FireResult)
        _fill(
            result,
            "__dict__",
            {
                "instance_id": instance_id,
                "seq": seq,
                "trigger": trigger,
                "role": role,
                "from_state": from_state,
                "to_state": to_state,
                "state": state,
                "lock_version": lock_version,
                "changes": changes,
                "assigned": assigned,
                "notifications": notifications,
                "pending_effects": pending_effects,
                "hash": hash,
                "replayed": False,
            },
        )
        return result


@dataclass(frozen=True, slots=True)
class InstanceView:
    """An instance as the API shows it: typed `data`, `computed` values, assignees."""

    id: str
    workflow: str
    version: int
    state: str
    data: Mapping[str, Any]
    assignees: Mapping[str, str]
    computed: Mapping[str, Any]
    lock_version: int
    last_seq: int
    created_at: dt.datetime
    updated_at: dt.datetime
    parent_id: str | None = None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Explanation:
    """`explain`: whether the event would be taken now and, if so, what would happen.

    `reasons` are event-level (unknown trigger, wrong state, system claimed, bad data);
    `candidates` every candidate's report. When allowed: the role recorded, the transition
    taken, the resulting state, data changes, notifications and pending effects.
    """

    instance_id: str
    trigger: str
    state: str
    allowed: bool
    reasons: tuple[Reason, ...]
    candidates: tuple[CandidateReport, ...]
    role: str | None = None
    transition: int | None = None
    to_state: str | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    notifications: tuple[Notification, ...] = ()
    pending_effects: tuple[PendingEffect, ...] = ()

    def summary(self) -> str:
        """One line for people: allowed and what would happen, or why not."""
        if self.allowed:
            where = f"to '{self.to_state}'" if self.to_state else "with no change of state"
            changed = f"; changes {', '.join(sorted(self.changes))}" if self.changes else ""
            return f"'{self.trigger}' is allowed as {self.role}: transition {self.transition} goes {where}{changed}"
        why = [reason.message for reason in self.reasons]
        for candidate in self.candidates:
            why.extend(f"transition {candidate.transition}: {reason.message}" for reason in candidate.reasons)
        return f"'{self.trigger}' is not allowed: " + "; ".join(why)


@dataclass(frozen=True, slots=True)
class AvailableTrigger:
    """A trigger the actor holds a role for in the instance's current state.

    Checks and `needs` depend on the data the event will carry, so they are listed rather
    than judged; `explain` with that data gives the verdict.
    """

    trigger: str
    role: str
    transitions: tuple[int, ...]
    targets: tuple[str | None, ...]
    needs: tuple[str, ...]
    writes: tuple[str, ...]
    assigns: tuple[str, ...]
    description: str | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One history row with its payload read back (None values when redacted)."""

    seq: int
    at: dt.datetime
    recorded_at: dt.datetime
    actor: str
    role: str
    trigger: str
    from_state: str | None
    to_state: str | None
    changes: Mapping[str, Any] | None
    data: Mapping[str, Any] | None
    assigned: Mapping[str, str] | None
    comment: str | None
    hash: str
    redacted: bool = False


InstanceStatus = Literal["ok", "broken", "redacted"]


@dataclass(frozen=True, slots=True)
class InstanceCheck:
    """`verify`'s verdict on one instance; `first_bad_seq` names the first bad row."""

    instance_id: str
    status: InstanceStatus
    rows: int
    first_bad_seq: int | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    instances: tuple[InstanceCheck, ...]

    @property
    def ok(self) -> bool:
        """No broken instance (redacted ones are fine)."""
        return all(check.status != "broken" for check in self.instances)

    @property
    def broken(self) -> tuple[InstanceCheck, ...]:
        return tuple(check for check in self.instances if check.status == "broken")

"""The rows the engine reads and writes through a store: frozen dataclasses, one per table.

These are the engine's side of the storage contract (`engine.store.protocol`). A store keeps them as
it likes (a dict in `engine.store.memory`, tables in `storage/`) and gives back equal records.
Data values are in JSON form (`engine.canonical`): only str, int, bool, None, list and
dict, so a store can write them as JSON text without knowing the workflow.

Table names (DESIGN §5) each record maps to: `definitions`, `instances`, `state_entries`,
`history`, `history_payloads`, `idempotency_keys`, `outbox`, `security_log`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The records made on every event are frozen dataclasses without slots, so that the runtime
# can make them with `fast` (one dict assignment) instead of the generated `__init__`, which
# sets each field through `object.__setattr__`: for the 15 fields of an instance or a history
# row that costs more than hashing the row. Same class, same fields, same equality.
_new = object.__new__
_fill = object.__setattr__


@dataclass(frozen=True, slots=True)
class DefinitionRecord:
    """One deployed workflow version (`definitions`); (workflow, version) is unique."""

    workflow: str
    version: int
    hash: str
    source: str
    path: str
    format: int
    functions: tuple[str, ...]  # the function registry's names when it was deployed
    deployed_at: dt.datetime


@dataclass(frozen=True)
class InstanceRecord:
    """One running (or finished) instance (`instances`).

    `holders` maps a role to the people who have acted in it on this instance (sorted): they
    keep holding it for separation of duties (DESIGN §3.7). `entered_from` is the state the
    current state entry came from (what `@previous` returns to). `last_seq` and `last_hash`
    are the history chain's head; `lock_version` counts the instance's events.
    """

    id: str
    workflow: str
    version: int
    definition_hash: str
    state: str
    entered_from: str | None
    data: Mapping[str, Any]
    assignees: Mapping[str, str]
    holders: Mapping[str, tuple[str, ...]]
    lock_version: int
    last_seq: int
    last_hash: str
    created_at: dt.datetime
    updated_at: dt.datetime
    parent_id: str | None = None

    @staticmethod
    def fast(
        id: str,
        workflow: str,
        version: int,
        definition_hash: str,
        state: str,
        entered_from: str | None,
        data: Mapping[str, Any],
        assignees: Mapping[str, str],
        holders: Mapping[str, tuple[str, ...]],
        lock_version: int,
        last_seq: int,
        last_hash: str,
        created_at: dt.datetime,
        updated_at: dt.datetime,
        parent_id: str | None,
    ) -> InstanceRecord:
        """The same as the constructor, faster (see the note at the top of the module)."""
        record = _new(InstanceRecord)
        _fill(
            record,
            "__dict__",
            {
                "id": id,
                "workflow": workflow,
                "version": version,
                "definition_hash": definition_hash,
                "state": state,
                "entered_from": entered_from,
                "data": data,
                "assignees": assignees,
                "holders": holders,
                "lock_version": lock_version,
                "last_seq": last_seq,
                "last_hash": last_hash,
                "created_at": created_at,
                "updated_at": updated_at,
                "parent_id": parent_id,
            },
        )
        return record


@dataclass(frozen=True)
class StateEntry:
    """One entry into a state (`state_entries`), made by history row `seq`."""

    instance_id: str
    seq: int
    state: str
    entered_from: str | None
    entered_at: dt.datetime

    @staticmethod
    def fast(instance_id: str, seq: int, state: str, entered_from: str | None, entered_at: dt.datetime) -> StateEntry:
        """The same as the constructor, faster (see the note at the top of the module)."""
        entry = _new(StateEntry)
        _fill(
            entry,
            "__dict__",
            {"instance_id": instance_id, "seq": seq, "state": state, "entered_from": entered_from, "entered_at": entered_at},
        )
        return entry


@dataclass(frozen=True)
class HistoryRow:
    """One history row (`history`, keyed by instance_id and seq).

    `canonical` holds the exact bytes hashed into `hash`: every other field in canonical
    JSON (DESIGN §4.5). The payload lives apart (`HistoryPayload`) so it can be redacted.
    `to_state` is None for an internal event; `from_state` is None for the start row.
    """

    instance_id: str
    seq: int
    at: dt.datetime
    recorded_at: dt.datetime
    actor: str
    role: str
    trigger: str
    from_state: str | None
    to_state: str | None
    workflow: str
    version: int
    definition_hash: str
    payload_hash: str
    previous_hash: str
    hash: str
    canonical: bytes

    @staticmethod
    def fast(
        instance_id: str,
        seq: int,
        at: dt.datetime,
        recorded_at: dt.datetime,
        actor: str,
        role: str,
        trigger: str,
        from_state: str | None,
        to_state: str | None,
        workflow: str,
        version: int,
        definition_hash: str,
        payload_hash: str,
        previous_hash: str,
        hash: str,
        canonical: bytes,
    ) -> HistoryRow:
        """The same as the constructor, faster (see the note at the top of the module)."""
        row = _new(HistoryRow)
        _fill(
            row,
            "__dict__",
            {
                "instance_id": instance_id,
                "seq": seq,
                "at": at,
                "recorded_at": recorded_at,
                "actor": actor,
                "role": role,
                "trigger": trigger,
                "from_state": from_state,
                "to_state": to_state,
                "workflow": workflow,
                "version": version,
                "definition_hash": definition_hash,
                "payload_hash": payload_hash,
                "previous_hash": previous_hash,
                "hash": hash,
                "canonical": canonical,
            },
        )
        return row


@dataclass(frozen=True, slots=True)
class HistoryPayload:
    """The redactable part of a history row (`history_payloads`): its canonical bytes.

    `body` is None once redacted; `verify` then reports the instance as redacted, not broken.
    """

    instance_id: str
    seq: int
    body: bytes | None
    redacted_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A used idempotency key (`idempotency_keys`, unique on scope and key).

    `scope` is `start:<workflow>` or `fire:<instance id>`; `result` is the first result in
    JSON form, returned again for the same request.
    """

    scope: str
    key: str
    request_hash: str
    result: Mapping[str, Any]
    instance_id: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """A refused or rejected attempt (`security_log`); never a history row.

    `kind` is `refused`, `conflict`, `not_found` or `invalid` (a call refused before it was judged:
    `engine.runtime.events.invalid_call_event`); `reasons` are `engine.runtime.views.stored_reason` dicts.
    `instance_id` may name an instance that does not exist (a `not_found` attempt).
    """

    at: dt.datetime
    kind: str
    actor: str
    roles: tuple[str, ...]
    instance_id: str | None
    workflow: str | None
    trigger: str | None
    reasons: tuple[Mapping[str, Any], ...]
    message: str


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message for people (`outbox`), written in the event's transaction.

    `roles` are the roles the workflow addressed; `recipients` the people assigned to the
    assignable ones at the time (directory roles are resolved by the deployment when sent).
    `dedup_key` lets a sender deliver at least once without duplicates reaching anyone.
    """

    id: str
    instance_id: str
    seq: int
    position: int
    kind: str
    roles: tuple[str, ...]
    recipients: tuple[str, ...]
    template: str | None
    message: str | None
    urgent: bool
    created_at: dt.datetime
    dedup_key: str
    not_after: dt.datetime | None = None  # delivering it later than this is pointless
    status: str = "pending"


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One read of an instance (`access_log`): who read what, when, and how.

    `action` is the read (`show`, `history`); `reader` is the person named with `--as`, the
    operating-system user, or what the embedding application passes.
    """

    at: dt.datetime
    reader: str
    instance_id: str | None
    action: str

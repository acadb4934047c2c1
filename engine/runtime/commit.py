"""Writing an accepted step through the unit of work: instance, history, state entry, outbox.

One function per kind of event, each doing exactly the writes of DESIGN §4.2 (no commit: the
engine's unit of work commits). The history row is chained to the instance's head and the
instance row records the new head, so `verify` can check one against the other.

This runs on every event, so it avoids what it can: the records are made with their `fast`
constructors and the row's canonical bytes come from one template (`engine.history.chain`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from engine.errors import Reason, TransitionRefusedError
from engine.history.chain import MAX_PAYLOAD_BYTES, ChainHasher, build_row, genesis_hash, payload_bytes
from engine.ids import new_id
from engine.results import Actor, FireResult, Notification, PendingEffect, SystemActor
from engine.runtime.machine import CompiledWorkflow
from engine.runtime.step import Step, StepRecord
from engine.store.protocol import UnitOfWork
from engine.store.records import InstanceRecord, OutboxMessage, StateEntry

# A message for people stops being worth sending after this long (DESIGN §5 "not-after"):
# a sender that finds it later marks it expired instead of delivering news that is stale.
# An urgent one (a safeguarding concern, an Inadequate audit) is stale within a day.
NOT_AFTER = dt.timedelta(days=7)
URGENT_NOT_AFTER = dt.timedelta(days=1)


def commit_fire(
    uow: UnitOfWork,
    hasher: ChainHasher,
    cw: CompiledWorkflow,
    record: InstanceRecord,
    step: Step,
    *,
    actor: Actor,
    now: dt.datetime,
    recorded_at: dt.datetime,
) -> FireResult:
    """Write an accepted event on an existing instance; the result the caller gets."""
    instance_id = record.id
    seq = record.last_seq + 1
    payload = event_payload(cw, step, actor, instance_id)
    row = build_row(
        hasher,
        cw.row_definition,
        instance_id=instance_id,
        seq=seq,
        at=now,
        recorded_at=recorded_at,
        actor=actor.id,
        role=step.role,
        trigger=step.rule.trigger,
        from_state=step.from_state,
        to_state=step.to_state,
        payload=payload,
        previous_hash=record.last_hash,
    )
    lock_version = record.lock_version + 1
    uow.instances.update(
        InstanceRecord.fast(
            instance_id,
            cw.id,
            cw.version,
            cw.hash,
            step.state,
            step.entered_from,
            step.data,
            step.assignees,
            step.holders,
            lock_version,
            seq,
            row.hash,
            record.created_at,
            now,
            record.parent_id,
        ),
        record.lock_version,
    )
    uow.history.append(row, payload)
    if step.entered:
        uow.state_entries.add(StateEntry.fast(instance_id, seq, step.state, step.entered_from, now))
    notifications, pending = _write_records(uow, instance_id, seq, step.records, now)
    return FireResult.fast(
        instance_id,
        seq,
        step.rule.trigger,
        step.role,
        step.from_state or "",
        step.to_state,
        step.state,
        lock_version,
        step.changes,
        step.assigned,
        notifications,
        pending,
        row.hash,
    )


def commit_start(
    uow: UnitOfWork,
    hasher: ChainHasher,
    cw: CompiledWorkflow,
    instance_id: str,
    step: Step,
    *,
    actor: Actor,
    now: dt.datetime,
    recorded_at: dt.datetime,
) -> InstanceRecord:
    """Write a new instance, its first history row and state entry; the new instance row."""
    payload = event_payload(cw, step, actor, None)
    row = build_row(
        hasher,
        cw.row_definition,
        instance_id=instance_id,
        seq=1,
        at=now,
        recorded_at=recorded_at,
        actor=actor.id,
        role=step.role,
        trigger=step.rule.trigger,
        from_state=None,
        to_state=step.to_state,
        payload=payload,
        previous_hash=genesis_hash(hasher, instance_id, cw.id, cw.version),
    )
    record = InstanceRecord(
        id=instance_id,
        workflow=cw.id,
        version=cw.version,
        definition_hash=cw.hash,
        state=step.state,
        entered_from=None,
        data=step.data,
        assignees=step.assignees,
        holders=step.holders,
        lock_version=1,
        last_seq=1,
        last_hash=row.hash,
        created_at=now,
        updated_at=now,
    )
    uow.instances.add(record)
    uow.history.append(row, payload)
    uow.state_entries.add(StateEntry(instance_id, 1, step.state, None, now))
    _write_records(uow, instance_id, 1, step.records, now)
    return record


def event_payload(cw: CompiledWorkflow, step: Step, actor: Actor, instance_id: str | None) -> bytes:
    """The history payload of a judged event, refused when it is too large to keep.

    Raises:
        TransitionRefusedError: the payload (what was sent and what changed) is too large.
    """
    on_behalf_of = actor.on_behalf_of if isinstance(actor, SystemActor) else None
    payload = payload_bytes(step.assigned, step.changes, step.comment, step.written, on_behalf_of)
    if len(payload) > MAX_PAYLOAD_BYTES:
        reason = Reason(
            "too_large",
            f"the event's history payload (the data as sent and as changed) is {len(payload)} bytes; at most {MAX_PAYLOAD_BYTES} are kept",
        )
        raise TransitionRefusedError(step.rule.trigger, instance_id, (reason,), (), cw.id)
    return payload


def _write_records(
    uow: UnitOfWork, instance_id: str, seq: int, records: Sequence[StepRecord], now: dt.datetime
) -> tuple[tuple[Notification, ...], tuple[PendingEffect, ...]]:
    """Write each step record where it belongs; the notifications and pending effects, for the result.

    A notification is a message in the outbox; a pending effect is only reported.
    """
    if not records:
        return (), ()
    notifications: list[Notification] = []
    pending: list[PendingEffect] = []
    for item in records:
        if isinstance(item, Notification):
            _add_message(uow, instance_id, seq, len(notifications), item, now)
            notifications.append(item)
        else:
            pending.append(item)
    return tuple(notifications), tuple(pending)


def _add_message(uow: UnitOfWork, instance_id: str, seq: int, position: int, note: Notification, now: dt.datetime) -> None:
    uow.outbox.add(
        OutboxMessage(
            new_id(now),
            instance_id,
            seq,
            position,
            "notify",
            note.roles,
            note.recipients,
            note.template,
            note.message,
            note.urgent,
            now,
            f"{instance_id}/{seq}/{position}",
            now + (URGENT_NOT_AFTER if note.urgent else NOT_AFTER),
        )
    )

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

from engine.canonical import format_time
from engine.errors import Reason, TransitionRefusedError
from engine.history.chain import MAX_PAYLOAD_BYTES, ChainHasher, build_row, genesis_hash, payload_bytes
from engine.ids import new_id
from engine.results import Actor, FireResult, Notification, SystemActor
from engine.runtime.judgement import Step
from engine.runtime.machine import CompiledWorkflow
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
    actor: Actor,
    now: dt.datetime,
    recorded_at: dt.datetime,
) -> FireResult:
    """Write an accepted event on an existing instance; the result the caller gets."""
    instance_id = record.id
    seq = record.last_seq + 1
    payload = event_payload(cw, step, actor, instance_id)
    at_text = format_time(now)
    row = build_row(
        hasher,
        instance_id,
        seq,
        now,
        at_text,
        recorded_at,
        at_text if recorded_at is now else format_time(recorded_at),
        actor.id,
        step.role,
        step.rule.trigger,
        step.from_state,
        step.to_state,
        cw.id,
        cw.version,
        cw.hash,
        payload,
        record.last_hash,
        cw.json_names,
    )
    lock_version = record.lock_version + 1
    uow.update_instance(
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
    uow.append_history(row, payload)
    if step.entered:
        uow.add_state_entry(StateEntry.fast(instance_id, seq, step.state, step.entered_from, now))
    if step.notifications:
        _outbox(uow, instance_id, seq, step.notifications, now)
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
        tuple(step.notifications),
        tuple(step.pending),
        row.hash,
    )


def commit_start(
    uow: UnitOfWork,
    hasher: ChainHasher,
    cw: CompiledWorkflow,
    instance_id: str,
    step: Step,
    actor: Actor,
    now: dt.datetime,
    recorded_at: dt.datetime,
) -> InstanceRecord:
    """Write a new instance, its first history row and state entry; the new instance row."""
    payload = event_payload(cw, step, actor, None)
    row = build_row(
        hasher,
        instance_id,
        1,
        now,
        format_time(now),
        recorded_at,
        format_time(recorded_at),
        actor.id,
        step.role,
        step.rule.trigger,
        None,
        step.to_state,
        cw.id,
        cw.version,
        cw.hash,
        payload,
        genesis_hash(hasher, instance_id, cw.id, cw.version),
        cw.json_names,
    )
    record = InstanceRecord(
        instance_id,
        cw.id,
        cw.version,
        cw.hash,
        step.state,
        None,
        step.data,
        step.assignees,
        step.holders,
        1,
        1,
        row.hash,
        now,
        now,
    )
    uow.add_instance(record)
    uow.append_history(row, payload)
    uow.add_state_entry(StateEntry(instance_id, 1, step.state, None, now))
    if step.notifications:
        _outbox(uow, instance_id, 1, step.notifications, now)
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


def _outbox(uow: UnitOfWork, instance_id: str, seq: int, notifications: Sequence[Notification], now: dt.datetime) -> None:
    for position, note in enumerate(notifications):
        uow.add_outbox_message(
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

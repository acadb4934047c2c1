"""Instances as the API shows them, and refused attempts as the security log records them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from engine.canonical import format_time, parse_time
from engine.errors import ConflictError, NotFoundError, QaflowError, TransitionRefusedError
from engine.results import Actor, InstanceView
from engine.runtime.context import ComputedValues, EventContext, WorkingData, no_entries
from engine.runtime.machine import CompiledWorkflow
from engine.store.records import InstanceRecord, SecurityEvent, StateEntry
from engine.time.calendars import Calendar


def instance_view(
    cw: CompiledWorkflow,
    calendar: Calendar,
    record: InstanceRecord,
    now: dt.datetime,
    entries_of: Callable[[str], list[StateEntry]] = no_entries,
) -> InstanceView:
    """The instance with typed data and its computed values (evaluated at `now`)."""
    work = WorkingData(record.data, cw.revivers)
    ctx = EventContext(
        work, cw.params, None, (), record.assignees, record.state, now, calendar, cw.computed_map, lambda: entries_of(record.id)
    )
    return InstanceView(
        id=record.id,
        workflow=record.workflow,
        version=record.version,
        state=record.state,
        data={name: work.get(name) for name in record.data},
        assignees=dict(record.assignees),
        computed=ComputedValues(cw.computed_map, ctx).evaluate_all(),
        lock_version=record.lock_version,
        last_seq=record.last_seq,
        created_at=record.created_at,
        updated_at=record.updated_at,
        parent_id=record.parent_id,
    )


def view_json(record: InstanceRecord) -> dict[str, Any]:
    """What an idempotent `start` keeps as its first result: the new instance row."""
    return {
        "id": record.id,
        "workflow": record.workflow,
        "version": record.version,
        "definition_hash": record.definition_hash,
        "state": record.state,
        "data": dict(record.data),
        "assignees": dict(record.assignees),
        "lock_version": record.lock_version,
        "last_seq": record.last_seq,
        "last_hash": record.last_hash,
        "created_at": format_time(record.created_at),
        "updated_at": format_time(record.updated_at),
        "parent_id": record.parent_id,
    }


def record_from_json(raw: Mapping[str, Any]) -> InstanceRecord:
    """The inverse of `view_json` (holders and entry are not kept: a view shows neither)."""
    return InstanceRecord(
        raw["id"],
        raw["workflow"],
        raw["version"],
        raw["definition_hash"],
        raw["state"],
        None,
        raw["data"],
        raw["assignees"],
        {},
        raw["lock_version"],
        raw["last_seq"],
        raw["last_hash"],
        parse_time(raw["created_at"]),
        parse_time(raw["updated_at"]),
        raw["parent_id"],
    )


def security_event(
    exc: QaflowError, actor: Actor, instance_id: str | None, workflow: str | None, trigger: str, now: dt.datetime
) -> SecurityEvent | None:
    """The security-log entry for a rejected attempt, or None for errors that are not one
    (a broken stored definition is an operator's problem, not an attempt to refuse)."""
    if isinstance(exc, TransitionRefusedError):
        kind, reasons = "refused", tuple(reason.to_json() for reason in exc.all_reasons)
        workflow = exc.workflow or workflow
    elif isinstance(exc, ConflictError):
        kind, reasons = "conflict", ()
    elif isinstance(exc, NotFoundError):
        kind, reasons = "not_found", ()
    else:
        return None
    return SecurityEvent(now, kind, actor.id, tuple(sorted(actor.roles)), instance_id, workflow, trigger, reasons, str(exc))

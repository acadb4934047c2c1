"""Instances as the API shows them, and refused attempts as the security log records them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.errors import ConflictError, FunctionError, NotFoundError, QaflowError, Reason, TransitionRefusedError
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


def security_event(
    exc: QaflowError, actor: Actor, instance_id: str | None, workflow: str | None, trigger: str, now: dt.datetime
) -> SecurityEvent | None:
    """The security-log entry for a rejected attempt, or None for errors that are not one
    (a broken stored definition is an operator's problem, not an attempt to refuse; a
    `FunctionError` is the embedding application's function failing, not the person's attempt)."""
    if isinstance(exc, FunctionError):
        return None
    if isinstance(exc, TransitionRefusedError):
        kind, reasons = "refused", tuple(map(stored_reason, exc.all_reasons))
        workflow = exc.workflow or workflow
    elif isinstance(exc, ConflictError):
        kind, reasons = "conflict", ()
    elif isinstance(exc, NotFoundError):
        kind, reasons = "not_found", ()
    else:
        return None
    return SecurityEvent(now, kind, actor.id, tuple(sorted(actor.roles)), instance_id, workflow, trigger, reasons, str(exc))


def stored_reason(reason: Reason) -> dict[str, Any]:
    """A reason as the security log keeps it: code and message, and what it names when it names one."""
    kept: dict[str, Any] = {"code": reason.code, "message": reason.message}
    if reason.role is not None:
        kept["role"] = reason.role
    if reason.field is not None:
        kept["field"] = reason.field
    if reason.roles:
        kept["roles"] = list(reason.roles)
    if reason.check is not None:
        kept["check"] = reason.check
    return kept

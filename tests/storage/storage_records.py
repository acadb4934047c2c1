"""Record builders for the storage tests: every field set, with awkward values on purpose.

Times carry microseconds and are UTC (one test also feeds other offsets); data is nested JSON
with unicode; bytes are not valid UTF-8, so nothing along the way may decode them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.store.records import (
    DefinitionRecord,
    HistoryPayload,
    HistoryRow,
    IdempotencyRecord,
    InstanceRecord,
    OutboxMessage,
    SecurityEvent,
    StateEntry,
)

T0 = dt.datetime(2025, 3, 30, 0, 59, 59, 123456, tzinfo=dt.UTC)  # the minute before BST begins

NESTED_DATA: dict[str, Any] = {
    "child_ref": "CR-0042",
    "grade": "requires_improvement",
    "score": 3,
    "ratio": "0.75",
    "flags": [True, False, None],
    "notes": {"zoë": "Ångström café — ✓", "empty": {}, "list": [[1, 2], {"a": []}]},
    "due_on": "2025-04-28",
}


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def definition(workflow: str = "case_file_audit", version: int = 1) -> DefinitionRecord:
    return DefinitionRecord(
        workflow=workflow,
        version=version,
        hash=f"{version:064x}",
        source=f"workflow: {workflow}\nversion: {version}\n# ünïcode ✓\n",
        path=f"workflows/{workflow}.yaml",
        format=1,
        functions=("days_between", "working_days_until"),
        deployed_at=at(0),
    )


def instance(
    instance_id: str,
    *,
    workflow: str = "case_file_audit",
    version: int = 1,
    state: str = "allocated",
    lock_version: int = 1,
    data: dict[str, Any] | None = None,
    parent_id: str | None = None,
) -> InstanceRecord:
    return InstanceRecord(
        id=instance_id,
        workflow=workflow,
        version=version,
        definition_hash=f"{version:064x}",
        state=state,
        entered_from="draft",
        data=NESTED_DATA if data is None else data,
        assignees={"auditor": "amira", "practitioner": "pat"},
        holders={"auditor": ("amira",), "moderator": ("mo", "zoë")},
        lock_version=lock_version,
        last_seq=lock_version,
        last_hash="ab" * 32,
        created_at=at(1),
        updated_at=at(2.000001),
        parent_id=parent_id,
    )


def history_row(instance_id: str, seq: int, *, to_state: str | None = "allocated") -> HistoryRow:
    return HistoryRow(
        instance_id=instance_id,
        seq=seq,
        at=at(10 + seq),
        recorded_at=at(10.5 + seq),
        actor="amira",
        role="auditor",
        trigger="allocate" if seq > 1 else "start",
        from_state="draft" if seq > 1 else None,
        to_state=to_state,
        workflow="case_file_audit",
        version=1,
        definition_hash="0" * 63 + "1",
        payload_hash=f"{seq:064x}",
        previous_hash=f"{seq - 1:064x}",
        hash=f"{seq + 100:064x}",
        canonical=b'{"seq":%d,"bytes":"\xff\x00\xfe"}' % seq,
    )


def payload(instance_id: str, seq: int) -> bytes:
    """A history row's payload bytes (not valid UTF-8, on purpose)."""
    return b'{"comment":"caf\xc3\xa9 \xff","for":"%s"}' % instance_id.encode() + bytes([seq])


def payload_record(instance_id: str, seq: int) -> HistoryPayload:
    """What `history.payloads` gives back for `payload(instance_id, seq)`."""
    return HistoryPayload(instance_id=instance_id, seq=seq, body=payload(instance_id, seq))


def state_entry(instance_id: str, seq: int, state: str = "allocated") -> StateEntry:
    return StateEntry(instance_id=instance_id, seq=seq, state=state, entered_from="draft" if seq > 1 else None, entered_at=at(20 + seq))


def outbox_message(message_id: str, instance_id: str, seq: int, position: int = 0, *, status: str = "pending") -> OutboxMessage:
    return OutboxMessage(
        id=message_id,
        instance_id=instance_id,
        seq=seq,
        position=position,
        kind="notify",
        roles=("auditor", "qa_lead"),
        recipients=("amira",),
        template=None if position else "reminder",
        message="Audit “due” soon ✓" if position else None,
        urgent=bool(position),
        created_at=at(30 + seq),
        dedup_key=f"{instance_id}/{seq}/{position}",
        status=status,
    )


def idempotency_record(scope: str, key: str, instance_id: str) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=scope,
        key=key,
        request_hash="cd" * 32,
        result={"id": instance_id, "state": "allocated", "data": NESTED_DATA, "lock_version": 1},
        instance_id=instance_id,
        created_at=at(40),
    )


def security_event(instance_id: str | None, n: int) -> SecurityEvent:
    return SecurityEvent(
        at=at(50 + n),
        kind="refused",
        actor="pat",
        roles=("practitioner",),
        instance_id=instance_id,
        workflow="case_file_audit" if instance_id else None,
        trigger="complete" if n % 2 else None,
        reasons=({"code": "wrong_role", "message": "needs auditor", "ctx": {"held": ["practitioner"], "n": n}},),
        message=f"'complete' refused #{n} — ✗",
    )

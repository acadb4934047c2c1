"""What an idempotency key keeps as its first result, and how that result is replayed
(DESIGN §4.6).

These are stored forms, read back from rows written by earlier versions, so they change
only with a migration of the rows: they are never the public JSON of `fire --json` or
`start --json` (built in `qaflow.presentation`), which may change on its own terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.canonical import format_time, parse_time
from engine.results import FireResult, Notification, PendingEffect
from engine.store.records import InstanceRecord


def stored_fire_result(result: FireResult) -> dict[str, Any]:
    """A `fire`'s first result as its idempotency row keeps it (`replayed` is not kept)."""
    return {
        "instance_id": result.instance_id,
        "seq": result.seq,
        "trigger": result.trigger,
        "role": result.role,
        "from": result.from_state,
        "to": result.to_state,
        "state": result.state,
        "lock_version": result.lock_version,
        "changes": dict(result.changes),
        "assigned": dict(result.assigned),
        "notifications": [
            {"roles": list(n.roles), "recipients": list(n.recipients), "template": n.template, "message": n.message, "urgent": n.urgent}
            for n in result.notifications
        ],
        "pending_effects": [{"kind": p.kind, "location": list(p.location)} for p in result.pending_effects],
        "hash": result.hash,
    }


def fire_result_from_stored(raw: Mapping[str, Any]) -> FireResult:
    """The kept first result of a `fire`, replayed: `replayed` is True."""
    return FireResult(
        instance_id=raw["instance_id"],
        seq=raw["seq"],
        trigger=raw["trigger"],
        role=raw["role"],
        from_state=raw["from"],
        to_state=raw["to"],
        state=raw["state"],
        lock_version=raw["lock_version"],
        changes=raw["changes"],
        assigned=raw["assigned"],
        notifications=tuple(
            Notification(tuple(n["roles"]), tuple(n["recipients"]), n["template"], n["message"], n["urgent"]) for n in raw["notifications"]
        ),
        pending_effects=tuple(PendingEffect(p["kind"], tuple(p["location"])) for p in raw["pending_effects"]),
        hash=raw["hash"],
        replayed=True,
    )


def stored_start(record: InstanceRecord) -> dict[str, Any]:
    """A `start`'s first result as its idempotency row keeps it: the new instance row, from
    which the view is made again on replay (its computed values as of the replay)."""
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


def start_from_stored(raw: Mapping[str, Any]) -> InstanceRecord:
    """The inverse of `stored_start` (holders and entry are not kept: a view shows neither)."""
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

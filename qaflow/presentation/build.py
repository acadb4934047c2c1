"""One function per public JSON output, each building its shape (`shapes`) from what the
engine gives back. The CLI prints what these return; nothing else builds public JSON.

The shapes are imported for mypy only: at run time they are plain dicts, so printing JSON
does not load pydantic (only generating the schemas does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from typing_extensions import TypeIs

from engine import (
    AvailableTrigger,
    CandidateReport,
    CheckpointFinding,
    Explanation,
    FireResult,
    HistoryEntry,
    InstanceCheck,
    InstanceRecord,
    InstanceView,
    Issue,
    Notification,
    OutboxMessage,
    PendingEffect,
    Reason,
    SecurityEvent,
    VerifyReport,
    format_time,
    to_json_value,
)

if TYPE_CHECKING:
    from qaflow.presentation.shapes import (
        AvailableJson,
        CandidateJson,
        CheckpointFindingJson,
        ExplainJson,
        FireJson,
        HistoryItemJson,
        HistoryRowJson,
        InstanceCheckJson,
        IssueJson,
        ListRowJson,
        NotificationJson,
        OutboxJson,
        OutboxStatus,
        PendingEffectJson,
        ReasonJson,
        RefusalRowJson,
        ShowJson,
        StartJson,
        VerifyJson,
    )


def issue_json(issue: Issue) -> IssueJson:
    """`validate --json`: one item per problem."""
    return {
        "path": issue.path,
        "line": issue.line,
        "col": issue.col,
        "severity": issue.severity,
        "code": issue.code,
        "message": issue.message,
    }


def start_json(view: InstanceView) -> StartJson:
    return {"id": view.id}


def notification_json(notification: Notification) -> NotificationJson:
    return {
        "roles": list(notification.roles),
        "recipients": list(notification.recipients),
        "template": notification.template,
        "message": notification.message,
        "urgent": notification.urgent,
    }


def pending_effect_json(effect: PendingEffect) -> PendingEffectJson:
    return {"kind": effect.kind, "location": list(effect.location)}


def fire_json(result: FireResult) -> FireJson:
    """`fire --json`. `changes` are in JSON form in a `FireResult` already."""
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
        "notifications": [notification_json(n) for n in result.notifications],
        "pending_effects": [pending_effect_json(p) for p in result.pending_effects],
        "hash": result.hash,
        "replayed": result.replayed,
    }


def show_json(view: InstanceView) -> ShowJson:
    """`show --json`: typed data and computed values in JSON form. `deadlines` and
    `children` are empty lists until the runtime has deadlines and child instances."""
    return {
        "id": view.id,
        "workflow": view.workflow,
        "version": view.version,
        "state": view.state,
        "data": to_json_value(dict(view.data)),
        "assignees": dict(view.assignees),
        "computed": to_json_value(dict(view.computed)),
        "deadlines": [],
        "parent": view.parent_id,
        "children": [],
        "lock_version": view.lock_version,
    }


def history_row_json(entry: HistoryEntry) -> HistoryRowJson:
    """One history row; a redacted row has `changes` and `assigned` null."""
    return {
        "seq": entry.seq,
        "at": format_time(entry.at),
        "recorded_at": format_time(entry.recorded_at),
        "actor": entry.actor,
        "role": entry.role,
        "trigger": entry.trigger,
        "from": entry.from_state,
        "to": entry.to_state,
        "changes": None if entry.changes is None else dict(entry.changes),
        "assigned": None if entry.assigned is None else dict(entry.assigned),
        "comment": entry.comment,
        "hash": entry.hash,
    }


def refusal_row_json(event: SecurityEvent) -> RefusalRowJson:
    """A refused attempt from the security log, as `history --refusals` shows it."""
    return {
        "at": format_time(event.at),
        "refused": True,
        "actor": event.actor,
        "trigger": event.trigger,
        "kind": event.kind,
        "message": event.message,
    }


def history_json(entries: Iterable[HistoryEntry], refusals: Iterable[SecurityEvent] | None = None) -> list[HistoryItemJson]:
    """`history --json [--refusals]`: the rows in order; with `refusals`, refused attempts
    interleaved by time (a stable sort: a refusal at the moment of a row comes after it)."""
    rows: list[HistoryItemJson] = [history_row_json(entry) for entry in entries]
    if refusals is None:
        return rows
    rows += [refusal_row_json(event) for event in refusals]
    return sorted(rows, key=lambda row: row["at"])


def is_refusal(row: HistoryItemJson) -> TypeIs[RefusalRowJson]:
    """Whether a `history_json` item is a refused attempt (only those have `refused`)."""
    return "refused" in row


def list_row_json(record: InstanceRecord) -> ListRowJson:
    """`list --json`: one item per instance."""
    return {
        "id": record.id,
        "workflow": record.workflow,
        "version": record.version,
        "state": record.state,
        "lock_version": record.lock_version,
        "updated_at": format_time(record.updated_at),
    }


def available_json(option: AvailableTrigger) -> AvailableJson:
    """`available --json`: one item per trigger; `to` is null for an internal event."""
    return {
        "trigger": option.trigger,
        "role": option.role,
        "to": list(option.targets),
        "needs": list(option.needs),
        "writes": list(option.writes),
        "assigns": list(option.assigns),
        "description": option.description,
    }


def reason_json(reason: Reason) -> ReasonJson:
    """A reason's code and message, and the role, field, roles or check only when it names one."""
    shown: ReasonJson = {"code": reason.code, "message": reason.message}
    if reason.role is not None:
        shown["role"] = reason.role
    if reason.field is not None:
        shown["field"] = reason.field
    if reason.roles:
        shown["roles"] = list(reason.roles)
    if reason.check is not None:
        shown["check"] = reason.check
    return shown


def candidate_json(candidate: CandidateReport) -> CandidateJson:
    return {
        "transition": candidate.transition,
        "to": candidate.to,
        "allowed": candidate.allowed,
        "reasons": [reason_json(r) for r in candidate.reasons],
    }


def explain_json(found: Explanation) -> ExplainJson:
    """`explain --json`: the verdict, every reason and candidate, and what would happen."""
    return {
        "instance_id": found.instance_id,
        "trigger": found.trigger,
        "state": found.state,
        "allowed": found.allowed,
        "summary": found.summary(),
        "reasons": [reason_json(r) for r in found.reasons],
        "candidates": [candidate_json(c) for c in found.candidates],
        "role": found.role,
        "transition": found.transition,
        "to": found.to_state,
        "changes": to_json_value(dict(found.changes)),
        "notifications": [notification_json(n) for n in found.notifications],
        "pending_effects": [pending_effect_json(p) for p in found.pending_effects],
    }


def instance_check_json(check: InstanceCheck) -> InstanceCheckJson:
    return {
        "instance_id": check.instance_id,
        "status": check.status,
        "rows": check.rows,
        "first_bad_seq": check.first_bad_seq,
        "problem": check.problem,
    }


def checkpoint_finding_json(finding: CheckpointFinding) -> CheckpointFindingJson:
    return {"instance_id": finding.instance_id, "seq": finding.seq, "problem": finding.problem}


def verify_json(report: VerifyReport, findings: Iterable[CheckpointFinding] = ()) -> VerifyJson:
    """`verify --json`: `ok` is false when a chain is broken or the checkpoint found a change."""
    found = [checkpoint_finding_json(f) for f in findings]
    return {
        "ok": report.ok and not found,
        "instances": [instance_check_json(c) for c in report.instances],
        "checkpoint": found,
    }


def outbox_json(message: OutboxMessage) -> OutboxJson:
    """`outbox --json`: one item per message."""
    return {
        "id": message.id,
        "instance_id": message.instance_id,
        "seq": message.seq,
        "status": _outbox_status(message.status),
        "roles": list(message.roles),
        "recipients": list(message.recipients),
        "template": message.template,
        "message": message.message,
        "urgent": message.urgent,
        "created_at": format_time(message.created_at),
        "not_after": None if message.not_after is None else format_time(message.not_after),
        "dedup_key": message.dedup_key,
    }


_OUTBOX_STATUSES: dict[str, OutboxStatus] = {"pending": "pending", "sent": "sent", "failed": "failed", "expired": "expired"}


def _outbox_status(status: str) -> OutboxStatus:
    """The store keeps the status as text; the published shape names the four it may be."""
    try:
        return _OUTBOX_STATUSES[status]
    except KeyError:
        raise ValueError(f"an outbox message has the unknown status {status!r}") from None

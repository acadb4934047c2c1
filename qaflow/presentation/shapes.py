"""The shape of every public JSON output, as typed dicts: mypy checks what `build` makes
against them, and `schemas` generates the published JSON Schemas (docs/cli-json/) from them.

Typed dicts rather than pydantic models because the output is plain JSON data, and some
keys (`from`, a Python keyword) and optional keys (a reason's `role`, `field`...) are
awkward as model fields; pydantic's `TypeAdapter` reads the constraints written here with
`Field` for the schemas. Every object is closed (`extra="forbid"`: no keys but these).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, TypeAlias

from pydantic import ConfigDict, Discriminator, Field, Tag, with_config
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

# `engine.format_time` writes UTC with microseconds; the pattern also admits whole seconds
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"
HASH_PATTERN = r"^[0-9a-f]{64}$"

Time: TypeAlias = Annotated[str, Field(pattern=TIME_PATTERN)]
Hash: TypeAlias = Annotated[str, Field(pattern=HASH_PATTERN)]
JsonObject: TypeAlias = dict[str, Any]  # instance data and changes, already in JSON form (DESIGN §4.5)

CLOSED = with_config(ConfigDict(extra="forbid"))


@CLOSED
class IssueJson(TypedDict):
    """One problem in one workflow file."""

    path: str
    line: Annotated[int, Field(ge=1)]
    col: Annotated[int, Field(ge=1)]
    severity: Literal["error", "warning"]
    code: Annotated[str, Field(pattern=r"^[a-z_]+$")]
    message: str


@CLOSED
class StartJson(TypedDict):
    id: Annotated[str, Field(min_length=1)]


@CLOSED
class NotificationJson(TypedDict):
    """A `notify` effect's message."""

    roles: list[str]
    recipients: list[str]
    template: str | None
    message: str | None
    urgent: bool


@CLOSED
class PendingEffectJson(TypedDict):
    """An effect recorded but not run by this version of the runtime; `location` is where
    it is written in the definition."""

    kind: str
    location: list[str | int]


FireJson = TypedDict(
    "FireJson",
    {
        "instance_id": str,
        "seq": Annotated[int, Field(ge=2)],
        "trigger": str,
        "role": str,
        "from": str,
        "to": str | None,
        "state": str,
        "lock_version": int,
        "changes": JsonObject,
        "assigned": dict[str, str],
        "notifications": list[NotificationJson],
        "pending_effects": list[PendingEffectJson],
        "hash": Hash,
        "replayed": bool,
    },
)
CLOSED(FireJson)


@CLOSED
class DeadlineJson(TypedDict):
    name: str
    due: Time | None
    met: bool
    breached: bool


@CLOSED
class ChildJson(TypedDict):
    id: str
    workflow: str
    state: str


@CLOSED
class ShowJson(TypedDict):
    id: str
    workflow: str
    version: Annotated[int, Field(ge=1)]
    state: str
    data: JsonObject
    assignees: dict[str, str]
    computed: JsonObject
    deadlines: list[DeadlineJson]
    parent: str | None
    children: list[ChildJson]
    lock_version: Annotated[int, Field(ge=1)]


HistoryRowJson = TypedDict(
    "HistoryRowJson",
    {
        "seq": Annotated[int, Field(ge=1)],
        "at": Time,
        "recorded_at": Annotated[
            Time, Field(description="when the event was really recorded (differs from `at` only under a clock override)")
        ],
        "actor": str,
        "role": str,
        "trigger": str,
        "from": str | None,
        "to": str | None,
        "changes": JsonObject | None,
        "assigned": Annotated[dict[str, str] | None, Field(description="roles assigned by this event")],
        "comment": str | None,
        "hash": Hash,
    },
)
CLOSED(HistoryRowJson)


@CLOSED
class RefusalRowJson(TypedDict):
    """A refused attempt from the security log (with --refusals)"""

    at: Time
    refused: Literal[True]
    actor: str
    trigger: str | None
    kind: str
    message: str


def _history_tag(row: Any) -> str:
    """Which kind of history row: refusals say `refused`, history rows never do."""
    return "refusal" if isinstance(row, dict) and "refused" in row else "row"


HistoryItemJson: TypeAlias = Annotated[
    Annotated[HistoryRowJson, Tag("row")] | Annotated[RefusalRowJson, Tag("refusal")], Discriminator(_history_tag)
]


@CLOSED
class ListRowJson(TypedDict):
    id: str
    workflow: str
    version: int
    state: str
    lock_version: int
    updated_at: Time


@CLOSED
class AvailableJson(TypedDict):
    trigger: str
    role: str
    to: list[str | None]
    needs: list[str]
    writes: list[str]
    assigns: list[str]
    description: str | None


@CLOSED
class ReasonJson(TypedDict):
    """Why an event is refused: a stable code, a message, and what it names when it names one."""

    code: str
    message: str
    role: NotRequired[str]
    field: NotRequired[str]
    roles: NotRequired[list[str]]
    check: NotRequired[int]


@CLOSED
class CandidateJson(TypedDict):
    transition: int
    to: str | None
    allowed: bool
    reasons: list[ReasonJson]


@CLOSED
class ExplainJson(TypedDict):
    instance_id: str
    trigger: str
    state: str
    allowed: bool
    summary: str
    reasons: list[ReasonJson]
    candidates: list[CandidateJson]
    role: str | None
    transition: int | None
    to: str | None
    changes: JsonObject
    notifications: list[NotificationJson]
    pending_effects: list[PendingEffectJson]


@CLOSED
class InstanceCheckJson(TypedDict):
    instance_id: str
    status: Literal["ok", "broken", "redacted"]
    rows: int
    first_bad_seq: int | None
    problem: str | None


@CLOSED
class CheckpointFindingJson(TypedDict):
    instance_id: str
    seq: int | None
    problem: str


@CLOSED
class VerifyJson(TypedDict):
    ok: bool
    instances: list[InstanceCheckJson]
    checkpoint: list[CheckpointFindingJson]


OutboxStatus: TypeAlias = Literal["pending", "sent", "failed", "expired"]


@CLOSED
class OutboxJson(TypedDict):
    id: str
    instance_id: str
    seq: int
    status: OutboxStatus
    roles: list[str]
    recipients: list[str]
    template: str | None
    message: str | None
    urgent: bool
    created_at: Time
    not_after: Time | None
    dedup_key: str

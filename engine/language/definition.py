"""The workflow language, format 1, as pydantic models: the shape of every key (DESIGN §3).

This is the structural stage of loading: it says what each key may hold. Whether names
refer to things that exist, whether the graph makes sense and whether expressions type-check
is `engine.language.lint`'s job, which reports it against the same positions.

The models keep what the QA lead wrote (a role list may be written as one name; a param as
a bare value). Where the language offers two spellings, a validator folds them into one, so
code after this stage sees one shape. The JSON Schema for editors comes from these models
(`workflow_json_schema`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
)
from pydantic_core import PydanticCustomError

Region = Literal["england-and-wales", "scotland", "northern-ireland"]


# Empty defaults come from these rather than from `list` and `dict`: pydantic inspects each
# factory's signature when it builds the validator, and a builtin's signature is parsed from
# its text (about 0.1 ms each, for some 30 fields).
def _no_items() -> list[Any]:
    return []


def _no_entries() -> dict[str, Any]:
    return {}


def _as_list(value: Any) -> Any:
    """`by: auditor` means `by: [auditor]`."""
    return [value] if isinstance(value, str) else value


def _none_as_empty(value: Any) -> Any:
    """`closed:` with nothing under it is a state with no settings."""
    return {} if value is None else value


def _states_none_as_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: {} if spec is None else spec for name, spec in value.items()}
    return value


NameList = Annotated[list[StrictStr], BeforeValidator(_as_list, json_schema_input_type=StrictStr | list[StrictStr])]
Scalar = StrictStr | StrictInt | Decimal | StrictBool


class Spec(BaseModel):
    """Base of every model: unknown keys are errors, nothing is coerced, nothing changes later.

    `defer_build`: pydantic builds the validator when a model is first used, not when its
    class is made, so the nested models are built once, inside `WorkflowSpec`'s validator,
    rather than once each at import as well (command start-up, QUALITY.md P8).
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True)


class CalendarSpec(Spec):
    region: Region = "england-and-wales"
    closures: StrictBool = Field(True, description="Whether the deployment's closure days stop the clock")


def _calendar_shorthand(value: Any) -> Any:
    """`calendar: scotland` means `calendar: {region: scotland}`."""
    return {"region": value} if isinstance(value, str) else value


CalendarChoice = Annotated[CalendarSpec, BeforeValidator(_calendar_shorthand, json_schema_input_type=Region | CalendarSpec)]


class ParamSpec(Spec):
    type: StrictStr | None = Field(None, description="Inferred from the value when omitted")
    value: Any = Field(description="A literal; a string that parses as a duration is a duration")
    description: StrictStr | None = None


def _param_shorthand(value: Any) -> Any:
    """`audit_window: 28 days` means `audit_window: {value: 28 days}`."""
    return value if isinstance(value, dict) else {"value": value}


ParamChoice = Annotated[ParamSpec, BeforeValidator(_param_shorthand, json_schema_input_type=Scalar | ParamSpec)]


class FieldSpec(Spec):
    type: StrictStr = Field(
        description="string, text, integer, number, boolean, date, datetime, duration, a scale, a named type, list, map or object"
    )
    required: StrictBool = False
    default: Any = Field(None, description="A literal, or '=params.name'")
    min: Any = Field(None, description="A number, or a date for date fields")
    max: Any = None
    pattern: StrictStr | None = None
    values: list[StrictStr] | None = None
    description: StrictStr | None = None
    items: FieldSpec | None = None
    fields: dict[str, FieldSpec] | None = None


class Check(Spec):
    when: StrictStr = Field(description="A boolean expression")
    otherwise: StrictStr = Field(description="Shown when the check fails; may show {field} and {params.x}")


class Guarded(Spec):
    """What `start` and transitions share: who, what data, which checks."""

    by: NameList = Field(default_factory=_no_items)
    needs: NameList = Field(default_factory=_no_items)
    writes: NameList = Field(default_factory=_no_items)
    assigns: NameList = Field(default_factory=_no_items)
    checks: list[Check] = Field(default_factory=_no_items)
    when: StrictStr | None = Field(None, description="Shorthand for one check")
    otherwise: StrictStr | None = None


class StartSpec(Guarded):
    pass


# --- effects ---------------------------------------------------------------------------


class Effect(Spec):
    when: StrictStr | None = None


class SetEffect(Effect):
    set: dict[str, Any]


class ClearEffect(Effect):
    clear: NameList


class SpawnEffect(Effect):
    spawn: StrictStr
    for_each: StrictStr | None = None
    with_: dict[str, Any] = Field(default_factory=_no_entries, alias="with")
    assign: dict[str, StrictStr] = Field(default_factory=_no_entries)
    then: StrictStr | None = None


class CancelChildren(Spec):
    workflow: StrictStr
    trigger: StrictStr


class CancelChildrenEffect(Effect):
    cancel_children: CancelChildren


class FireParent(Spec):
    trigger: StrictStr
    with_: dict[str, Any] = Field(default_factory=_no_entries, alias="with")


def _fire_parent_shorthand(value: Any) -> Any:
    return {"trigger": value} if isinstance(value, str) else value


class FireParentEffect(Effect):
    fire_parent: Annotated[FireParent, BeforeValidator(_fire_parent_shorthand, json_schema_input_type=StrictStr | FireParent)]


class Notify(Spec):
    to: NameList
    template: StrictStr | None = None
    message: StrictStr | None = None
    urgent: StrictBool = False


class NotifyEffect(Effect):
    notify: Notify


class Extend(Spec):
    deadline: StrictStr
    by: StrictStr


class ExtendEffect(Effect):
    extend: Extend


EFFECT_KINDS: dict[str, type[Effect]] = {
    "set": SetEffect,
    "clear": ClearEffect,
    "spawn": SpawnEffect,
    "cancel_children": CancelChildrenEffect,
    "fire_parent": FireParentEffect,
    "notify": NotifyEffect,
    "extend": ExtendEffect,
}


def effect_kind(value: Any) -> str | None:
    """The one effect key present, or None when there are none or several."""
    if isinstance(value, Effect):
        return next(kind for kind, cls in EFFECT_KINDS.items() if isinstance(value, cls))
    if not isinstance(value, dict):
        return None
    kinds = [key for key in value if key in EFFECT_KINDS]
    return kinds[0] if len(kinds) == 1 else None


AnyEffect = Annotated[
    Annotated[SetEffect, Tag("set")]
    | Annotated[ClearEffect, Tag("clear")]
    | Annotated[SpawnEffect, Tag("spawn")]
    | Annotated[CancelChildrenEffect, Tag("cancel_children")]
    | Annotated[FireParentEffect, Tag("fire_parent")]
    | Annotated[NotifyEffect, Tag("notify")]
    | Annotated[ExtendEffect, Tag("extend")],
    Discriminator(effect_kind),
]


# --- states, transitions, time ----------------------------------------------------------


class TimerSpec(Spec):
    after: StrictStr | None = Field(None, description="A duration, params.name or =expression")
    at: StrictStr | None = Field(None, description="A date or datetime field, or =expression")
    fire: StrictStr


class StateSpec(Spec):
    description: StrictStr | None = None
    final: StrictBool = False
    needs: NameList = Field(default_factory=_no_items)
    timers: list[TimerSpec] = Field(default_factory=_no_items)
    on_enter: list[AnyEffect] = Field(default_factory=_no_items)


class TransitionSpec(Guarded):
    trigger: StrictStr
    from_: NameList = Field(alias="from", description='A state, a list of states, or "*" (every non-final state)')
    to: StrictStr | None = Field(None, description='A state, "@previous", or omitted for an internal event')
    description: StrictStr | None = None
    do: list[AnyEffect] = Field(default_factory=_no_items)


class DeadlineStart(Spec):
    """Where a deadline's clock starts: the instance's start (neither key), a state's first
    entry (`entered`) or a date field (`field`)."""

    entered: StrictStr | None = None
    field: StrictStr | None = None


def _deadline_start_shorthand(value: Any) -> Any:
    if value == "start":
        return {}
    if isinstance(value, dict):
        return value
    raise PydanticCustomError("deadline_from", "expected 'start', {entered: STATE} or {field: FIELD}, got {value}", {"value": repr(value)})


class Reminder(Spec):
    before: StrictStr
    fire: StrictStr


class Escalation(Spec):
    after: StrictStr
    fire: StrictStr


class DeadlineSpec(Spec):
    within: StrictStr = Field(description="A duration, params.name or =expression")
    from_: Annotated[
        DeadlineStart,
        BeforeValidator(_deadline_start_shorthand, json_schema_input_type=Literal["start"] | DeadlineStart),
    ] = Field(default_factory=DeadlineStart, alias="from")
    until: NameList = Field(default_factory=_no_items)
    calendar: CalendarChoice | None = None
    reminders: list[Reminder] = Field(default_factory=_no_items)
    on_breach: StrictStr | None = None
    escalations: list[Escalation] = Field(default_factory=_no_items)


class WorkflowSpec(Spec):
    """One workflow file, format 1."""

    model_config = ConfigDict(title="qaflow workflow (format 1)")

    format: Literal[1] = 1
    workflow: StrictStr = Field(description="The workflow's id; must match the file name")
    version: StrictInt = Field(ge=1, description="Bump it when the process changes")
    title: StrictStr | None = None
    description: StrictStr | None = None
    calendar: CalendarChoice = Field(default_factory=CalendarSpec)
    params: dict[str, ParamChoice] = Field(default_factory=_no_entries)
    roles: dict[str, StrictStr] = Field(default_factory=_no_entries)
    separate: list[list[StrictStr]] = Field(default_factory=_no_items)
    scales: dict[str, list[StrictStr]] = Field(default_factory=_no_entries)
    types: dict[str, dict[str, FieldSpec]] = Field(default_factory=_no_entries)
    fields: dict[str, FieldSpec] = Field(default_factory=_no_entries)
    start: StartSpec = Field(default_factory=StartSpec)
    initial: StrictStr
    states: Annotated[dict[str, StateSpec], BeforeValidator(_states_none_as_empty)]
    transitions: list[TransitionSpec] = Field(default_factory=_no_items)
    deadlines: dict[str, DeadlineSpec] = Field(default_factory=_no_entries)
    computed: dict[str, StrictStr] = Field(default_factory=_no_entries)


def workflow_json_schema() -> dict[str, Any]:
    """The JSON Schema editors use for completion (`qaflow schema`)."""
    schema = WorkflowSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://qaflow.example/schema/workflow.schema.json"
    return schema

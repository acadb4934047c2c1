"""An event's request checked and validated: its data, assignments and comment.

Nothing here is trusted: the data must be a map of declared fields, each value passes the
field's strict pydantic validator and becomes JSON form (`engine.canonical`); a `map` field
merges key by key and `null` unsets (refused for a required field, DESIGN §3.2);
assignments name one person per role; a comment is text of bounded length. Every problem
is a `Reason`, all of them collected, so a refusal lists them at once.

Which fields this event may write depends on the candidate transition, and is judged there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine.canonical import CanonicalError, nfc, to_json_value
from engine.errors import Reason
from engine.expressions.values import is_set
from engine.language.fieldtypes import validation_message
from engine.runtime.context import REVIVE
from engine.runtime.machine import CompiledWorkflow
from engine.runtime.roles import unknown_field_reason

MAX_COMMENT = 20_000  # characters; a comment is a note, not a document


@dataclass(slots=True)
class CheckedRequest:
    """A request, checked: what it writes, assigns and says, or the reasons it can't."""

    writes: dict[str, tuple[Any, Any]]  # field -> (typed, JSON form); JSON None unsets
    written: dict[str, Any]  # field -> JSON form, as recorded in the history payload
    assign: dict[str, str]
    comment: str | None
    reasons: list[Reason]


EMPTY_REQUEST = CheckedRequest({}, {}, {}, None, [])  # an event with no data, assignments or comment


def check_request(cw: CompiledWorkflow, data: Any, assign_in: Any, comment: Any, current: Mapping[str, Any]) -> CheckedRequest:
    """Check the request's shape and validate every written value (strict, per field)."""
    reasons: list[Reason] = []
    writes: dict[str, tuple[Any, Any]] = {}
    written: dict[str, Any] = {}
    if data is not None and type(data) is not dict and not isinstance(data, Mapping):
        reasons.append(Reason("bad_request", f"event data must be a map of field names to values, got {type(data).__name__}"))
        data = None
    validators, encoders = cw.validators, cw.encoders
    for name, value in (data or {}).items():
        validate = validators.get(name) if isinstance(name, str) else None
        if validate is None and not isinstance(name, str):
            reasons.append(Reason("bad_request", f"event data is keyed by field names (text), got a key of type {type(name).__name__}"))
            continue
        if validate is None:
            reasons.append(unknown_field_reason("not_writable", "field", str(name), cw.field_types, f"'{cw.id}' has no field"))
            continue
        try:
            if value is None:
                typed = json_value = as_written = None
            elif name in cw.map_fields and isinstance(value, Mapping):
                typed, json_value = _merge_map(validate, value, current.get(name))
                as_written = to_json_value(value)  # the keys sent, nulls (removals) included
            else:
                typed = validate(value)
                json_value = as_written = encoders[name](typed)
                if type(typed) is str:
                    typed = json_value  # the NFC text, as stored, is what checks read too
        except ValidationError as exc:
            reasons.append(Reason("invalid_value", f"'{name}': {validation_message(exc)}", field=name))
            continue
        except CanonicalError as exc:
            reasons.append(Reason("invalid_value", f"'{name}': {exc}", field=name))
            continue
        if name in cw.required and not is_set(json_value):
            reasons.append(Reason("required_unset", f"'{name}' is required: it can't be unset or emptied", field=name))
        writes[name] = (typed, json_value)
        written[name] = as_written
    assign: dict[str, str] = {}
    if assign_in is not None and type(assign_in) is not dict and not isinstance(assign_in, Mapping):
        reasons.append(Reason("bad_assignment", "assignments must be a map of roles to person ids"))
        assign_in = None
    for role, person in (assign_in or {}).items():
        if not isinstance(role, str):
            reasons.append(Reason("bad_assignment", f"assignments are keyed by role names (text), got a key of type {type(role).__name__}"))
        elif not isinstance(person, str) or not person.strip() or person != person.strip() or not person.isprintable():
            reasons.append(Reason("bad_assignment", f"assign {role[:40]!r}: name one person by their id (printable text)", role=role))
        else:
            assign[role] = nfc(person)
    if comment is not None and not isinstance(comment, str):
        reasons.append(Reason("bad_request", "a comment must be text"))
        comment = None
    elif comment is not None and len(comment) > MAX_COMMENT:
        reasons.append(Reason("too_large", f"a comment may be at most {MAX_COMMENT} characters; this one has {len(comment)}"))
        comment = None
    if comment:
        try:
            comment = nfc(comment)
        except CanonicalError as exc:
            reasons.append(Reason("bad_request", f"the comment: {exc}"))
            comment = None
    return CheckedRequest(writes, written, assign, comment or None, reasons)


def _merge_map(validate: Callable[[Any], Any], value: Mapping[str, Any], current: Any) -> tuple[Any, Any]:
    """A map merges key by key; a key given as null is removed (DESIGN §3.2)."""
    removed = [key for key, item in value.items() if item is None]
    typed = validate({key: item for key, item in value.items() if item is not None})
    merged = {**(current or {}), **to_json_value(typed)}
    for key in removed:
        merged.pop(key, None)
    return REVIVE, merged or None

"""The structural stage: a strictly read document through the pydantic model, errors placed.

pydantic reports locations as paths that can include union branch names (`'ParamSpec'`,
`"literal['start']"`); QA leads need a line and a column and a sentence. This module turns
each `ValidationError` entry into an `Issue` on the line where the key or value was written,
with a message that names the key and, for a misspelt key, the nearest allowed one.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from engine.errors import Loc
from engine.language.definition import EFFECT_KINDS, WorkflowSpec
from engine.language.fieldtypes import error_message
from engine.language.yamlsource import SourceDocument
from engine.suggest import did_you_mean

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "dict_type": "a mapping of keys to values",
    "list_type": "a list",
    "model_type": "a mapping of keys to values",
    "is_instance_of": "a number",
}


def validate_structure(doc: SourceDocument) -> WorkflowSpec | None:
    """Validate the document against the model; problems go into `doc.issues`."""
    if not isinstance(doc.value, dict):
        doc.add((), "wrong_type", "a workflow file must be a mapping of keys such as `workflow:` and `states:`")
        return None
    try:
        return WorkflowSpec.model_validate(doc.value)
    except ValidationError as exc:
        seen: set[tuple[Loc, str]] = set()
        for error in exc.errors(include_url=False):
            loc, leftover = _document_loc(doc.value, error["loc"])
            code, message, at_key = _describe(error, loc, leftover)
            if (loc, code) in seen:  # one line per place, however many union branches failed
                continue
            seen.add((loc, code))
            doc.add(loc, code, message, key=at_key)
        return None


def _document_loc(value: Any, pydantic_loc: tuple[Any, ...]) -> tuple[Loc, list[Any]]:
    """The part of pydantic's path that exists in the document, and what is left over."""
    loc: list[str | int] = []
    leftover: list[Any] = []
    parts = list(pydantic_loc)
    # An effect's loc carries its union tag after the list index ('do', 0, 'set', ...),
    # which would otherwise be mistaken for the effect's own `set:` key.
    for i in range(len(parts) - 1, 1, -1):
        if parts[i] in EFFECT_KINDS and isinstance(parts[i - 1], int) and parts[i - 2] in ("do", "on_enter"):
            del parts[i]
    for part in parts:
        if (isinstance(value, dict) and part in value) or (isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)):
            value = value[part]
            loc.append(part)
        else:
            leftover.append(part)  # a union branch, or a key that is missing
    return tuple(loc), leftover


def _describe(error: Any, loc: Loc, leftover: list[Any]) -> tuple[str, str, bool]:
    """(code, message, place at the key rather than the value)."""
    kind = error["type"]
    where = _where(loc)
    if kind == "missing":
        name = str(leftover[-1]) if leftover else "?"
        return "missing_key", f"{where}missing the required key '{name}'", True
    if kind == "extra_forbidden":
        name = str(loc[-1])
        allowed = sorted(allowed_keys(loc[:-1]))
        hint = did_you_mean(name, allowed) or f"; allowed keys: {', '.join(allowed)}"
        return "unknown_key", f"unknown key '{name}'{hint}", True
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        kinds = ", ".join(EFFECT_KINDS)
        given = error.get("input")
        named = [k for k in given if k in EFFECT_KINDS] if isinstance(given, dict) else []
        if len(named) > 1:
            return "bad_effect", f"an effect does one thing, but this one has {', '.join(named)}: split it into separate list items", False
        hint = ""
        if isinstance(given, dict):
            for key in given:
                suggestion = did_you_mean(str(key), EFFECT_KINDS)
                if suggestion and key != "when":
                    hint = suggestion
        return "bad_effect", f"an effect needs exactly one of {kinds}{hint}", False
    if kind in _TYPE_NAMES:
        return "wrong_type", f"{where}expected {_TYPE_NAMES[kind]}, got {_show(error.get('input'))}", False
    return "bad_value", f"{where}{error_message(error)}", False


def _where(loc: Loc) -> str:
    if not loc:
        return ""
    if isinstance(loc[-1], int) and len(loc) > 1:
        return f"'{loc[-2]}' item {loc[-1] + 1}: "
    return f"'{loc[-1]}': "


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value) if isinstance(value, str) else str(value)


def allowed_keys(loc: Loc) -> set[str]:
    """The keys the model allows at `loc` (a mapping's location in the document)."""
    candidates: list[Any] = [WorkflowSpec]
    for part in loc:
        following: list[Any] = []
        for annotation in candidates:
            following.extend(_step(annotation, part))
        candidates = following
    keys: set[str] = set()
    for annotation in candidates:
        for model in _models(annotation):
            keys.update(field.alias or name for name, field in model.model_fields.items())
    return keys


def _step(annotation: Any, part: str | int) -> list[Any]:
    """Annotations reachable from `annotation` by one document step (a key or an index)."""
    result: list[Any] = []
    for option in _unwrap(annotation):
        origin = get_origin(option)
        if isinstance(option, type) and issubclass(option, BaseModel) and isinstance(part, str):
            for name, field in option.model_fields.items():
                if part in (name, field.alias):
                    result.append(field.annotation)
        elif origin is list and isinstance(part, int):
            result.append(get_args(option)[0])
        elif origin is dict and isinstance(part, str):
            result.append(get_args(option)[1])
    return result


def _unwrap(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin is Union or isinstance(annotation, types.UnionType):
        return [inner for arg in get_args(annotation) for inner in _unwrap(arg)]
    return [annotation]


def _models(annotation: Any) -> list[type[BaseModel]]:
    return [a for a in _unwrap(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]

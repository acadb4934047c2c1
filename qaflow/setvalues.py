"""`--set name=value` on the command line, read by the field's declared type (DESIGN §3.2).

A `string` field keeps `0123` as text; an `integer` reads `3`; a `boolean` reads `true`;
dates, datetimes and durations stay text for the engine's strict validation to read; lists,
maps and objects are YAML flow collections (`[a, b]`, `{k: v}`) read by our strict YAML
reader. A value that does not read as its type is passed on as text, so the engine refuses
it naming the field, rather than the command line guessing.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.expressions import types as T
from engine.workflow import Workflow
from engine.yamlsource import read_yaml
from qaflow.errors import UsageError

_INTEGER = re.compile(r"[-+]?[0-9]+")


def parse_assignments(items: tuple[str, ...], what: str) -> dict[str, str]:
    """`role=person` pairs (for --assign); each name at most once."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{what} takes NAME=VALUE, got {item!r}")
        if name.strip() in result:
            raise UsageError(f"{what} names '{name.strip()}' twice")
        result[name.strip()] = value
    return result


def parse_sets(workflow: Workflow | None, items: tuple[str, ...]) -> dict[str, Any]:
    """Event data from `--set` arguments, each value read by its field's type."""
    raw = parse_assignments(items, "--set")
    fields = workflow.field_types if workflow is not None else {}
    return {name: read_value(fields[name].type if name in fields else None, text) for name, text in raw.items()}


def read_value(type_: T.Type | None, text: str) -> Any:
    if text == "" or text.lower() == "null":
        return None
    if type_ == T.INTEGER and _INTEGER.fullmatch(text):
        return int(text)
    if type_ == T.NUMBER:
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    if type_ == T.BOOLEAN and text in ("true", "false"):
        return text == "true"
    if isinstance(type_, (T.ListType, T.MapType, T.ObjectType)):
        doc = read_yaml("--set", text)
        return text if doc.issues else doc.value
    return text

"""Calls to the functions an embedding application registers, and the check of what they return.

A registered function is code qaflow did not write and often reaches another system (a
case-management lookup). Whatever it raises, and any value its signature does not allow, is a
`FunctionError` naming it, with what it raised chained: a failure of the host, never a reason
to refuse the event, and never a wrong value passed on into a check or an effect. The built-in
functions are ours and typed by their checkers, so their calls are compiled without this.

None is allowed for every return type: a function gives None for unset values, as the
built-ins do (DESIGN §3.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from engine.errors import FunctionError
from engine.expressions.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DURATION,
    INTEGER,
    NONE,
    NUMBER,
    STRING,
    TEXT,
    EnumType,
    EvalContext,
    ListType,
    MapType,
    ObjectType,
    ScaleType,
    Type,
)
from engine.time.durations import Duration

Run = Callable[[EvalContext], Any]

# What a function raised is quoted in the error up to this length: a client library's message
# can be long (a whole response body), and the error becomes one line on a terminal or in a log.
MAX_QUOTED = 200


class _WrongType(Exception):
    """A returned value (or a part of it) that its type does not allow; `what` says where."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def host_call(name: str, impl: Callable[..., Any], takes_context: bool, args: tuple[Run, ...], returns: Type) -> Run:
    """The compiled call of a registered function: its value checked against `returns`."""

    def call(ctx: EvalContext) -> Any:
        arguments = [arg(ctx) for arg in args]  # their own failures are theirs, not this function's
        try:
            value = impl(ctx, *arguments) if takes_context else impl(*arguments)
        except Exception as exc:
            raise FunctionError(name, f"failed: {type(exc).__name__}: {_quoted(exc)}") from exc
        if value is None:
            return None
        try:
            return conform(value, returns)
        except _WrongType as wrong:
            raise FunctionError(name, f"returned {wrong.what} where its signature says {returns.describe()}") from None

    return call


def _quoted(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


def conform(value: Any, type_: Type) -> Any:
    """`value` as the expression language holds a value of `type_` (an int for a number
    becomes a Decimal); raises `_WrongType` for a value the type does not allow."""
    if value is None:
        return None
    if type_ == BOOLEAN:
        if type(value) is bool:
            return value
    elif type_ in (STRING, TEXT):
        if isinstance(value, str):
            return value
    elif type_ == INTEGER:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif type_ == NUMBER:
        if isinstance(value, Decimal) and value.is_finite():
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
    elif type_ == DATE:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
    elif type_ == DATETIME:
        if isinstance(value, dt.datetime) and value.utcoffset() is not None:
            return value
        if isinstance(value, dt.datetime):
            raise _WrongType("a datetime without a time zone")
    elif type_ == DURATION:
        if isinstance(value, Duration):
            return value
    elif isinstance(type_, (ScaleType, EnumType)):
        if isinstance(value, str) and value in type_.values:
            return value
        if isinstance(value, str):
            raise _WrongType("a string that is not one of its values")
    elif isinstance(type_, ListType):
        if isinstance(value, (list, tuple)):
            return [_part(item, type_.item, f"item {index}") for index, item in enumerate(value)]
    elif isinstance(type_, MapType):
        if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
            return {key: _part(item, type_.item, f"the value of {key!r}") for key, item in value.items()}
    elif isinstance(type_, ObjectType):
        if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
            return _object(value, type_)
    elif type_ == ANY:
        return value
    elif type_ == NONE:
        pass  # only None, handled above
    raise _WrongType(_kind(value))


def _part(value: Any, type_: Type, where: str) -> Any:
    try:
        return conform(value, type_)
    except _WrongType as wrong:
        raise _WrongType(f"{wrong.what} as {where}") from None


def _object(value: Mapping[str, Any], type_: ObjectType) -> dict[str, Any]:
    declared = dict(type_.fields)
    unknown = sorted(key for key in value if key not in declared)
    if unknown:
        raise _WrongType(f"an object with the key {unknown[0]!r}, which the type does not have")
    return {key: _part(item, declared[key], f"the value of {key!r}") for key, item in value.items()}


def _kind(value: Any) -> str:
    """What a returned value is, in words a developer reads (not the value: it may be personal data)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, Decimal):
        return "a number that is not finite" if not value.is_finite() else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dt.datetime):
        return "a datetime"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, Duration):
        return "a duration"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a map"
    return f"a {type(value).__name__}"

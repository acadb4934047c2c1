"""Rules between types: which compare, which order, which may be stored where, how two join.

Pure functions of types; the checker adds what only nodes know (whether a string is a
literal, so that it can be checked against a scale). Integer and number mix freely; string,
text, enumeration and scale values are all strings, but two different scales never mix.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import ExpressionError
from engine.expressions.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    NONE,
    NUMBER,
    STRING,
    TEXT,
    EnumType,
    ListType,
    MapType,
    ObjectType,
    Primitive,
    ScaleType,
    Type,
)
from engine.suggest import did_you_mean


@dataclass(frozen=True)
class StateType(EnumType):
    """The type of `state`: a string that can only be one of the workflow's states."""

    def describe(self) -> str:
        return "a state name"


def family(type_: Type) -> str:
    """Types in one family compare with each other."""
    if type_ in (INTEGER, NUMBER):
        return "number"
    if type_ in (STRING, TEXT) or isinstance(type_, (EnumType, ScaleType)):
        return "string"
    if isinstance(type_, ListType):
        return "list"
    if isinstance(type_, MapType):
        return "map"
    if isinstance(type_, ObjectType):
        return "object"
    if isinstance(type_, Primitive):
        return type_.name
    return repr(type_)


def is_wild(type_: Type) -> bool:
    """None fits anything; `any` (a parent's field when the parent is unknown) is not checked."""
    return type_ in (NONE, ANY)


def is_numeric(type_: Type) -> bool:
    return type_ in (INTEGER, NUMBER)


def is_stringy(type_: Type) -> bool:
    return family(type_) == "string"


def is_enumerated(type_: Type) -> bool:
    """Scales and enumerations: a string literal compared with one must be one of its values."""
    return isinstance(type_, (EnumType, ScaleType))


def is_boolean(type_: Type) -> bool:
    return type_ in (BOOLEAN, ANY)


def can_equal(left: Type, right: Type) -> bool:
    if is_wild(left) or is_wild(right):
        return True
    if family(left) != family(right):
        return False
    if isinstance(left, ScaleType) and isinstance(right, ScaleType):
        return left == right
    if isinstance(left, (ListType, MapType)) and isinstance(right, (ListType, MapType)):
        return can_equal(left.item, right.item)
    if isinstance(left, ObjectType) and isinstance(right, ObjectType):
        return assignable(left, right) or assignable(right, left)
    return True


def can_order(type_: Type) -> bool:
    """`<` works on numbers, dates, datetimes and free strings (not scale or enumeration values)."""
    return type_ in (INTEGER, NUMBER, DATE, DATETIME, STRING, TEXT, ANY)


def assignable(source: Type, target: Type) -> bool:
    """Whether a value of type `source` may be used where `target` is expected (no literals)."""
    if is_wild(source) or target == ANY or source == target:
        return True
    if source == INTEGER and target == NUMBER:
        return True
    if target in (STRING, TEXT):
        return is_stringy(source)
    if isinstance(target, EnumType) and isinstance(source, (EnumType, ScaleType)):
        return set(source.values) <= set(target.values)
    if isinstance(target, ListType) and isinstance(source, ListType):
        return assignable(source.item, target.item)
    if isinstance(target, MapType) and isinstance(source, MapType):
        return assignable(source.item, target.item)
    if isinstance(target, ObjectType) and isinstance(source, ObjectType):
        source_keys = [name for name, _ in source.fields]
        return source_keys == [name for name, _ in target.fields] and all(
            assignable(field_type, target_type) for (_, field_type), (_, target_type) in zip(source.fields, target.fields, strict=True)
        )
    return False


def join(left: Type, right: Type) -> Type | None:
    """The type of a value that is either `left` or `right` (if-else branches, list items)."""
    if left == right or right == NONE:
        return left
    if left == NONE:
        return right
    if ANY in (left, right):
        return ANY
    if is_numeric(left) and is_numeric(right):
        return NUMBER
    if is_stringy(left) and is_stringy(right):
        if isinstance(left, ScaleType) and isinstance(right, ScaleType):
            return None
        return STRING
    if isinstance(left, ListType) and isinstance(right, ListType):
        item = join(left.item, right.item)
        return None if item is None else ListType(item)
    if isinstance(left, MapType) and isinstance(right, MapType):
        item = join(left.item, right.item)
        return None if item is None else MapType(item)
    if assignable(left, right):
        return right
    if assignable(right, left):
        return left
    return None


def not_a_member(value: str, type_: EnumType | ScaleType, offset: int) -> ExpressionError:
    """The error for a string literal that is not one of a scale's or enumeration's values."""
    hint = did_you_mean(value, type_.values)
    if isinstance(type_, StateType):
        return ExpressionError("unknown_state", f"there is no state {value!r}{hint}", offset)
    listed = ", ".join(type_.values)
    if isinstance(type_, ScaleType):
        return ExpressionError("not_in_scale", f"{value!r} is not in scale '{type_.name}' ({listed}){hint}", offset)
    return ExpressionError("not_in_values", f"{value!r} is not one of the values {listed}{hint}", offset)

"""The checked tree: what the checker hands the compiler, every node with its type.

Each node says exactly what to do at run time (which value to read, which arithmetic to
use), so the compiler makes no type decisions of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from engine.expressions.types import Type


@dataclass(frozen=True)
class Typed:
    type: Type
    offset: int


@dataclass(frozen=True)
class TConst(Typed):
    value: Any
    is_literal: bool = True


@dataclass(frozen=True)
class TList(Typed):
    items: tuple[Typed, ...]


# What a name reads; `TRead.key` is the name below the root (a field, param, role, deadline...).
ReadSource = Literal[
    "field",
    "computed",
    "param",
    "actor_id",
    "actor_roles",
    "assignee",
    "parent_field",
    "parent_assignee",
    "item",
    "state",
    "deadline_due",
    "deadline_breached",
    "deadline_met",
]


@dataclass(frozen=True)
class TRead(Typed):
    """Read a value, then step down `path` (object keys and map keys: both are dict lookups)."""

    source: ReadSource
    key: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class TUnary(Typed):
    op: str  # "-", "+", "not"
    operand: Typed


# How a binary operator computes, decided from the operand types ("dynamic": a type known
# only at run time, such as a parent's field when the parent is not known).
ArithMode = Literal[
    "number",
    "dynamic",
    "date_duration",
    "duration_date",
    "datetime_duration",
    "duration_datetime",
    "date_date",
    "concat",
]


@dataclass(frozen=True)
class TArith(Typed):
    op: str  # "+", "-", "*", "/"
    mode: ArithMode
    left: Typed
    right: Typed


@dataclass(frozen=True)
class TBoolOp(Typed):
    op: str  # "and", "or"
    values: tuple[Typed, ...]


@dataclass(frozen=True)
class TCompare(Typed):
    ops: tuple[str, ...]
    operands: tuple[Typed, ...]


@dataclass(frozen=True)
class TIf(Typed):
    test: Typed
    body: Typed
    orelse: Typed


@dataclass(frozen=True)
class TCall(Typed):
    name: str
    impl: Callable[..., Any]
    takes_context: bool
    args: tuple[Typed, ...]
    host: bool = False  # a function the embedding application registered (engine.expressions.host)


@dataclass(frozen=True)
class TToNumber(Typed):
    """An integer used where a number is expected: the value becomes a Decimal."""

    operand: Typed

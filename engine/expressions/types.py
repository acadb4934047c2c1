"""The types an expression can have, what it may name, and what it reads when it runs.

The checker types every expression against a `Scope` (`engine.expressions.scope`). At run time a compiled
expression reads an `EvalContext`, which the runtime supplies for one event.

Runtime values by type: string/text -> str, integer -> int, number -> decimal.Decimal,
boolean -> bool, date -> datetime.date, datetime -> aware datetime.datetime (UTC),
duration -> engine.time.durations.Duration, scale or enumeration value -> str, list -> list,
map -> dict[str, ...], object -> dict[str, ...]; unset scalars are None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engine.time.calendars import Calendar


class Type:
    """Base of every expression type. Subclasses are frozen dataclasses, so types compare by value."""

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Primitive(Type):
    """string, text, integer, number, boolean, date, datetime, duration, none, or any."""

    name: str

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class ScaleType(Type):
    """An ordered grading scale, best value first."""

    name: str
    values: tuple[str, ...]

    def describe(self) -> str:
        return f"scale '{self.name}'"


@dataclass(frozen=True)
class EnumType(Type):
    """A string restricted to `values` (a field's `values:`)."""

    values: tuple[str, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(value) for value in self.values)


@dataclass(frozen=True)
class ListType(Type):
    item: Type

    def describe(self) -> str:
        return f"list of {self.item.describe()}"


@dataclass(frozen=True)
class MapType(Type):
    """String keys; `item` is the value type."""

    item: Type

    def describe(self) -> str:
        return f"map of {self.item.describe()}"


@dataclass(frozen=True)
class ObjectType(Type):
    """Fixed keys. `name` is the named type it came from, if any (for messages)."""

    fields: tuple[tuple[str, Type], ...]
    name: str | None = None

    def field_type(self, key: str) -> Type | None:
        for name, type_ in self.fields:
            if name == key:
                return type_
        return None

    def describe(self) -> str:
        return f"object '{self.name}'" if self.name else "object"


STRING = Primitive("string")
TEXT = Primitive("text")
INTEGER = Primitive("integer")
NUMBER = Primitive("number")
BOOLEAN = Primitive("boolean")
DATE = Primitive("date")
DATETIME = Primitive("datetime")
DURATION = Primitive("duration")
NONE = Primitive("none")
ANY = Primitive("any")  # only where the definition cannot know yet (a parent's fields)


@dataclass(frozen=True)
class DeadlineView:
    due: dt.datetime | None
    breached: bool
    met: bool


class EvalContext(Protocol):
    """What a compiled expression reads while it runs: one instance, one event."""

    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def params(self) -> Mapping[str, Any]: ...
    @property
    def actor_id(self) -> str | None: ...
    @property
    def actor_roles(self) -> Sequence[str]: ...
    @property
    def assignees(self) -> Mapping[str, str]: ...
    @property
    def parent_data(self) -> Mapping[str, Any] | None: ...
    @property
    def parent_assignees(self) -> Mapping[str, str] | None: ...
    @property
    def item(self) -> Any: ...
    @property
    def state(self) -> str | None: ...
    @property
    def deadlines(self) -> Mapping[str, DeadlineView]: ...
    @property
    def now(self) -> dt.datetime: ...
    @property
    def calendar(self) -> Calendar: ...
    @property
    def computed(self) -> Mapping[str, Any]: ...

    def entered_at(self, state: str) -> dt.datetime | None: ...
    def times_entered(self, state: str) -> int: ...
    def count_children(self, workflow: str, states: Sequence[str] | None) -> int: ...
    def all_children_final(self, workflow: str) -> bool: ...

"""What expressions read during one event: the working data and the `EvalContext`.

`WorkingData` starts as the instance's data in JSON form and takes the event's writes and
the effects' changes on top. Expressions read typed values; each field is revived from its
JSON form the first time it is read (most fields need no reviving at all), so an event
costs only what it touches. The instance's own data is never modified: the first write
copies it (one shallow dict copy; values are immutable by convention).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from engine.expressions import CompiledExpression, ExpressionRuntimeError
from engine.expressions.types import DeadlineView
from engine.language.fieldtypes import Reviver
from engine.store.records import StateEntry
from engine.time.calendars import Calendar

_MISSING = object()


def no_entries(instance_id: str) -> list[StateEntry]:
    """For a start, and wherever no store is at hand: no state entries yet."""
    return []

REVIVE: Any = object()  # a typed value not worked out: revive it from the JSON form when read


class WorkingData(Mapping[str, Any]):
    """The instance's data as it stands during the event (see the module docstring)."""

    __slots__ = ("_base", "_json", "_revivers", "_typed", "touched")

    def __init__(self, base: Mapping[str, Any], revivers: Mapping[str, Reviver]) -> None:
        self._base = base
        self._json: dict[str, Any] | None = None
        self._revivers = revivers
        self._typed: dict[str, Any] = {}
        self.touched: list[str] = []  # fields written, in order, possibly repeated

    def get(self, key: str, default: Any = None) -> Any:
        value = self._typed.get(key, _MISSING)
        if value is not _MISSING:
            return value
        raw = (self._json if self._json is not None else self._base).get(key)
        if raw is None:
            return default
        reviver = self._revivers.get(key)
        value = raw if reviver is None else reviver(raw)
        self._typed[key] = value
        return value

    def raw(self, key: str) -> Any:
        """A field's JSON form (None when unset)."""
        return (self._json if self._json is not None else self._base).get(key)

    def put(self, key: str, typed: Any, json_value: Any) -> None:
        """Set a field (both forms given), or unset it when `json_value` is None."""
        if self._json is None:
            self._json = dict(self._base)
        if json_value is None:
            self._json.pop(key, None)
            self._typed[key] = None
        else:
            self._json[key] = json_value
            if typed is REVIVE:
                self._typed.pop(key, None)
            else:
                self._typed[key] = typed
        self.touched.append(key)

    def json(self) -> Mapping[str, Any]:
        """The data in JSON form as it stands now: a new dict when anything was written, else
        the instance's own (never modified, so it can be shared)."""
        return self._json if self._json is not None else self._base

    def current(self) -> Mapping[str, Any]:
        """The JSON-form data as it stands now, for many reads in a row (see `json`)."""
        return self._json if self._json is not None else self._base

    def changes(self) -> dict[str, Any]:
        """Fields whose JSON form differs from the start: field -> new value (None: unset)."""
        if self._json is None:
            return {}
        base, now = self._base, self._json
        result: dict[str, Any] = {}
        for key in self.touched:
            new = now.get(key)
            if key not in result and base.get(key) != new:
                result[key] = new
        return result

    def __getitem__(self, key: str) -> Any:
        if self.raw(key) is None:
            raise KeyError(key)
        return self.get(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._json if self._json is not None else self._base)

    def __len__(self) -> int:
        return len(self._json if self._json is not None else self._base)


class ComputedValues(Mapping[str, Any]):
    """`spec.computed`, each evaluated the first time it is read (they may not read each other)."""

    __slots__ = ("_context", "_expressions", "_values")

    def __init__(self, expressions: Mapping[str, CompiledExpression], context: EventContext) -> None:
        self._expressions = expressions
        self._context = context
        self._values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._values:
            return self._values[key]
        expression = self._expressions.get(key)
        if expression is None:
            return default
        value = self._values[key] = expression.evaluate(self._context)
        return value

    def __getitem__(self, key: str) -> Any:
        if key not in self._expressions:
            raise KeyError(key)
        return self.get(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._expressions)

    def __len__(self) -> int:
        return len(self._expressions)

    def evaluate_all(self) -> dict[str, Any]:
        """Every computed value; one that fails to evaluate shows as None."""
        result: dict[str, Any] = {}
        for name in self._expressions:
            try:
                result[name] = self.get(name)
            except ExpressionRuntimeError:
                result[name] = None
        return result


class EventContext:
    """The `EvalContext` of one event (engine.expressions.types): plain attributes, cheap to make.

    The runtime runs no spawns and arms no deadlines, so an instance has no parent, no armed
    deadline and no children here: `parent.*` reads None, `deadlines` is empty and the
    children counts are 0.
    """

    __slots__ = ("_computed", "_entries", "_load_entries", "_roles", "actor_id", "assignees", "calendar", "data", "now", "params", "state")

    parent_data: Mapping[str, Any] | None = None
    parent_assignees: Mapping[str, str] | None = None
    item: Any = None
    deadlines: Mapping[str, DeadlineView] = {}

    def __init__(
        self,
        data: WorkingData,
        params: Mapping[str, Any],
        actor_id: str | None,
        actor_roles: Collection[str],
        assignees: Mapping[str, str],
        state: str | None,
        now: dt.datetime,
        calendar: Calendar,
        computed: Mapping[str, CompiledExpression],
        load_entries: Callable[[], list[StateEntry]],
    ) -> None:
        self.data = data
        self.params = params
        self.actor_id = actor_id
        self._roles = actor_roles
        self.assignees = assignees
        self.state = state
        self.now = now
        self.calendar = calendar
        self._computed: Mapping[str, CompiledExpression] | ComputedValues = computed
        self._load_entries = load_entries
        self._entries: list[StateEntry] | None = None

    @property
    def actor_roles(self) -> Sequence[str]:
        return sorted(self._roles)

    @property
    def computed(self) -> ComputedValues:
        values = self._computed
        if not isinstance(values, ComputedValues):
            values = self._computed = ComputedValues(values, self)
        return values

    def _state_entries(self) -> list[StateEntry]:
        if self._entries is None:
            self._entries = self._load_entries()
        return self._entries

    def entered_at(self, state: str) -> dt.datetime | None:
        """When the instance first entered `state` (None if never)."""
        for entry in self._state_entries():
            if entry.state == state:
                return entry.entered_at
        return None

    def times_entered(self, state: str) -> int:
        return sum(1 for entry in self._state_entries() if entry.state == state)

    def count_children(self, workflow: str, states: Sequence[str] | None) -> int:
        return 0

    def all_children_final(self, workflow: str) -> bool:
        return True

"""The functions every workflow can call (DESIGN §3.4), and the registry embedding code extends.

Each function is a load-time checker plus a run-time implementation. Arguments that name
states, workflows or keys must be string literals, so they are checked when the workflow
loads. Functions on scale values (`worse_than`, `worst`, ...) get an implementation
specialised for the scale found at load time. Unset values follow the null rules: most
functions give None (or False, or 0) for None rather than failing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from engine.expressions import timemath
from engine.expressions.scope import CallSite, Checked, FunctionRegistry, Signature, register_builtin
from engine.expressions.typed import TConst
from engine.expressions.typerules import can_equal, is_enumerated, is_stringy, is_wild
from engine.expressions.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    ListType,
    MapType,
    ObjectType,
    ScaleType,
    Type,
)
from engine.expressions.values import ExpressionRuntimeError, is_set
from engine.suggest import did_you_mean
from engine.time.calendars import LONDON

if TYPE_CHECKING:
    from engine.expressions.types import EvalContext

__all__ = ["CallSite", "Checked", "FunctionRegistry", "Signature", "default_functions"]


def default_functions() -> FunctionRegistry:
    """A new registry holding the built-in functions; register more on it freely."""
    registry = FunctionRegistry()
    register_builtin(registry, "len", _check_len, _len)
    register_builtin(registry, "today", Signature((), DATE), _today, takes_context=True)
    register_builtin(registry, "now", Signature((), DATETIME), lambda ctx: ctx.now, takes_context=True)
    register_builtin(registry, "days_since", _check_moment(INTEGER), _days_since, takes_context=True)
    register_builtin(registry, "working_days_since", _check_moment(INTEGER), _working_days_since, takes_context=True)
    register_builtin(registry, "working_days_until", _check_moment(INTEGER), _working_days_until, takes_context=True)
    register_builtin(registry, "add_working_days", _check_add_working_days, _add_working_days, takes_context=True)
    register_builtin(registry, "worse_than", _check_rank_pair(worse=True), _unspecialised)
    register_builtin(registry, "better_than", _check_rank_pair(worse=False), _unspecialised)
    register_builtin(registry, "worst", _check_worst, _unspecialised)
    register_builtin(registry, "any_worse_than", _check_any_worse_than, _unspecialised)
    register_builtin(registry, "all_have", _check_all_have, _unspecialised)
    register_builtin(registry, "count", _check_count, _unspecialised)
    register_builtin(registry, "entered_at", _check_state_function(DATETIME), _entered_at, takes_context=True)
    register_builtin(registry, "times_entered", _check_state_function(INTEGER), _times_entered, takes_context=True)
    register_builtin(registry, "count_children", _check_count_children, _count_children, takes_context=True)
    register_builtin(registry, "all_children_final", _check_workflow_function, _all_children_final, takes_context=True)
    return registry


def _unspecialised(*_: Any) -> Any:
    raise AssertionError("this function's checker always returns a specialised implementation")


# --- len, time ---------------------------------------------------------------------------


def _check_len(call: CallSite) -> Type:
    call.expect_count(1)
    type_ = call.type_of(0)
    if not (isinstance(type_, (ListType, MapType)) or is_stringy(type_) or is_wild(type_)):
        raise call.error("type_mismatch", f"needs a list, a map or a string, not {type_.describe()}", 0)
    return INTEGER


def _len(value: Any) -> int:
    return 0 if value is None else len(value)


def _today(ctx: EvalContext) -> dt.date:
    return ctx.now.astimezone(LONDON).date()


def _check_moment(returns: Type) -> Callable[[CallSite], Type]:
    def check(call: CallSite) -> Type:
        call.expect_count(1)
        _moment_type(call, 0)
        return returns

    return check


def _moment_type(call: CallSite, index: int) -> Type:
    type_ = call.type_of(index)
    if type_ not in (DATE, DATETIME) and not is_wild(type_):
        raise call.error("type_mismatch", f"needs a date or a datetime, not {type_.describe()}", index)
    return type_


def _days_since(ctx: EvalContext, moment: dt.date | None) -> int | None:
    if moment is None:
        return None
    return (_today(ctx) - timemath.london_date(moment)).days


def _working_days_since(ctx: EvalContext, moment: dt.date | None) -> int | None:
    if moment is None:
        return None
    return timemath.working_days_between(timemath.london_date(moment), _today(ctx), ctx.calendar)


def _working_days_until(ctx: EvalContext, moment: dt.date | None) -> int | None:
    if moment is None:
        return None
    return timemath.working_days_between(_today(ctx), timemath.london_date(moment), ctx.calendar)


def _check_add_working_days(call: CallSite) -> Type:
    call.expect_count(2)
    returns = _moment_type(call, 0)
    call.fit(1, INTEGER)
    count = call.args[1]
    if isinstance(count, TConst) and isinstance(count.value, int) and abs(count.value) > timemath.MAX_WORKING_DAYS:
        raise call.error("out_of_range", f"at most {timemath.MAX_WORKING_DAYS} working days", 1)
    return returns


def _add_working_days(ctx: EvalContext, moment: dt.date | None, count: int | None) -> dt.date | None:
    if moment is None or count is None:
        return None
    return timemath.add_working_days(moment, count, ctx.calendar)


# --- scales ------------------------------------------------------------------------------


def _rank(scale: ScaleType) -> Callable[[Any], int]:
    """A value's position in its scale: larger is worse (scales are written best first)."""
    positions = {value: index for index, value in enumerate(scale.values)}

    def rank(value: Any) -> int:
        try:
            return positions[value]
        except (KeyError, TypeError):
            raise ExpressionRuntimeError(f"{value!r} is not in scale '{scale.name}'") from None

    return rank


def _scale_of_pair(call: CallSite) -> ScaleType:
    for index in (0, 1):
        type_ = call.type_of(index)
        if isinstance(type_, ScaleType):
            call.fit(1 - index, type_)
            return type_
    raise call.error("type_mismatch", "needs a scale value, such as a field whose type is a scale", 0)


def _check_rank_pair(worse: bool) -> Callable[[CallSite], Checked]:
    def check(call: CallSite) -> Checked:
        call.expect_count(2)
        rank = _rank(_scale_of_pair(call))

        def compare(left: Any, right: Any) -> bool:
            if left is None or right is None:
                return False
            return rank(left) > rank(right) if worse else rank(left) < rank(right)

        return Checked(BOOLEAN, compare)

    return check


def _scale_values(call: CallSite, index: int) -> tuple[ScaleType, Callable[[Any], Iterable[Any]]]:
    """The scale of a list, map or object of one scale's values, and how to list its values."""
    type_ = call.type_of(index)
    if isinstance(type_, (ListType, MapType)) and isinstance(type_.item, ScaleType):
        if isinstance(type_, ListType):
            return type_.item, lambda value: value or ()
        return type_.item, lambda value: value.values() if isinstance(value, dict) else ()
    if isinstance(type_, ObjectType) and type_.fields:
        scales = {field_type for _, field_type in type_.fields}
        scale = next(iter(scales))
        if len(scales) == 1 and isinstance(scale, ScaleType):
            keys = tuple(name for name, _ in type_.fields)
            return scale, lambda value: (value.get(key) for key in keys) if isinstance(value, dict) else ()
    raise call.error("type_mismatch", f"needs a list, map or object of one scale's values, not {type_.describe()}", index)


def _check_worst(call: CallSite) -> Checked:
    call.expect_count(1)
    scale, values_of = _scale_values(call, 0)
    rank = _rank(scale)

    def worst(collection: Any) -> str | None:
        present = [value for value in values_of(collection) if value is not None]
        return max(present, key=rank) if present else None

    return Checked(scale, worst)


def _check_any_worse_than(call: CallSite) -> Checked:
    call.expect_count(2)
    scale, values_of = _scale_values(call, 0)
    call.fit(1, scale)
    rank = _rank(scale)

    def any_worse_than(collection: Any, limit: Any) -> bool:
        if limit is None:
            return False
        bound = rank(limit)
        return any(rank(value) > bound for value in values_of(collection) if value is not None)

    return Checked(BOOLEAN, any_worse_than)


# --- lists of objects --------------------------------------------------------------------


def _item_key(call: CallSite, index: int, item: Type) -> tuple[str, Type]:
    """A key of the list's items, written as a string literal and checked against the item type."""
    key = call.string_literal(index, "a key of the list's items")
    if not isinstance(item, ObjectType):
        return key, ANY
    found = item.field_type(key)
    if found is None:
        hint = did_you_mean(key, [name for name, _ in item.fields])
        raise call.error("unknown_name", f"the list's items have no key {key!r}{hint}", index)
    return key, found


def _list_item(call: CallSite) -> Type:
    type_ = call.type_of(0)
    if is_wild(type_):
        return ANY
    if isinstance(type_, ListType) and (isinstance(type_.item, ObjectType) or is_wild(type_.item)):
        return type_.item
    raise call.error("type_mismatch", f"needs a list of objects, not {type_.describe()}", 0)


def _check_all_have(call: CallSite) -> Checked:
    call.expect_count(2, 99)
    item = _list_item(call)
    keys = tuple(_item_key(call, index, item)[0] for index in range(1, len(call.args)))

    def all_have(items: Any, *_: str) -> bool:
        return all(isinstance(entry, dict) and all(is_set(entry.get(key)) for key in keys) for entry in items or ())

    return Checked(BOOLEAN, all_have)


def _check_count(call: CallSite) -> Checked:
    call.expect_count(3)
    key, key_type = _item_key(call, 1, _list_item(call))
    value_type = call.type_of(2)
    if is_enumerated(key_type) and isinstance(call.args[2], TConst):
        call.fit(2, key_type)
    elif not can_equal(key_type, value_type):
        raise call.error("type_mismatch", f"{key!r} holds {key_type.describe()}, not {value_type.describe()}", 2)

    def count(items: Any, _: str, wanted: Any) -> int:
        return sum(1 for entry in items or () if isinstance(entry, dict) and entry.get(key) == wanted)

    return Checked(INTEGER, count)


# --- states and children -----------------------------------------------------------------


def _check_state_function(returns: Type) -> Callable[[CallSite], Type]:
    def check(call: CallSite) -> Type:
        call.expect_count(1)
        state = call.string_literal(0, "a state name")
        if state not in call.scope.states:
            hint = did_you_mean(state, call.scope.states)
            raise call.error("unknown_state", f"there is no state {state!r}{hint}", 0)
        return returns

    return check


def _entered_at(ctx: EvalContext, state: str) -> dt.datetime | None:
    return ctx.entered_at(state)


def _times_entered(ctx: EvalContext, state: str) -> int:
    return ctx.times_entered(state)


def _workflow(call: CallSite) -> None:
    workflow = call.string_literal(0, "a workflow name")
    known = call.scope.workflows
    if known is not None and workflow not in known:
        raise call.error("unknown_workflow", f"there is no workflow {workflow!r}{did_you_mean(workflow, known)}", 0)


def _check_workflow_function(call: CallSite) -> Type:
    call.expect_count(1)
    _workflow(call)
    return BOOLEAN


def _check_count_children(call: CallSite) -> Type:
    call.expect_count(1, 2)
    _workflow(call)
    if len(call.args) == 2:
        call.string_list_literal(1, "state names")
    return INTEGER


def _count_children(ctx: EvalContext, workflow: str, states: list[str] | None = None) -> int:
    return ctx.count_children(workflow, states)


def _all_children_final(ctx: EvalContext, workflow: str) -> bool:
    return ctx.all_children_final(workflow)

"""Compile a typed tree into nested closures: `Callable[[EvalContext], Any]`.

Each node becomes one small function that calls its children's functions, so evaluating an
expression does no parsing and no type dispatch: those decisions were made when the workflow
loaded. The failures at run time are `ExpressionRuntimeError`s (see `values.py`), and a
`FunctionError` from a function the embedding application registered (see `host.py`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from engine.errors import QaflowError
from engine.expressions import timemath, values
from engine.expressions.host import host_call
from engine.expressions.typed import (
    TArith,
    TBoolOp,
    TCall,
    TCompare,
    TConst,
    TIf,
    TList,
    TRead,
    TToNumber,
    TUnary,
    Typed,
)
from engine.expressions.types import BOOLEAN, DeadlineView, EvalContext, ListType, MapType
from engine.expressions.values import ExpressionRuntimeError

Run = Callable[[EvalContext], Any]
Operation = Callable[[Any, Any], Any]

_NUMBER_OPS: dict[str, Operation] = {
    "+": values.add,
    "-": values.subtract,
    "*": values.multiply,
    "/": values.divide,
}
_COMPARE_OPS: dict[str, Operation] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": values.less,
    "<=": values.less_equal,
    ">": values.greater,
    ">=": values.greater_equal,
    "in": lambda left, right: values.contains(right, left),
    "not in": lambda left, right: not values.contains(right, left),
    "is": lambda left, _: left is None,
    "is not": lambda left, _: left is not None,
}


def compile_node(node: Typed) -> Run:
    if isinstance(node, TConst):
        constant = node.value
        return lambda ctx: constant
    if isinstance(node, TList):
        return _list(node)
    if isinstance(node, TRead):
        return _read(node)
    if isinstance(node, TUnary):
        return _unary(node)
    if isinstance(node, TArith):
        return _arith(node)
    if isinstance(node, TBoolOp):
        return _bool_op(node)
    if isinstance(node, TCompare):
        return _compare(node)
    if isinstance(node, TIf):
        test, body, orelse = compile_condition(node.test), compile_node(node.body), compile_node(node.orelse)
        return lambda ctx: body(ctx) if test(ctx) else orelse(ctx)
    if isinstance(node, TCall):
        return _call(node)
    if isinstance(node, TToNumber):
        inner = compile_node(node.operand)
        return lambda ctx: _to_number(inner(ctx))
    raise AssertionError(f"unexpected typed node {node!r}")  # the checker only builds the above


def compile_condition(node: Typed) -> Run:
    """A closure that always returns True or False: an unset boolean counts as false."""
    run = compile_node(node)
    if isinstance(node, (TCompare, TBoolOp)) or (isinstance(node, TUnary) and node.op == "not"):
        return run  # these already give True or False
    if node.type == BOOLEAN:
        return lambda ctx: run(ctx) is True
    return lambda ctx: values.truth(run(ctx))


def _to_number(value: Any) -> Any:
    return Decimal(value) if type(value) is int else value


def _list(node: TList) -> Run:
    if all(isinstance(item, TConst) for item in node.items):
        constants = tuple(item.value for item in node.items if isinstance(item, TConst))
        return lambda ctx: list(constants)  # a fresh list: a function may not change a shared one
    items = tuple(compile_node(item) for item in node.items)
    return lambda ctx: [item(ctx) for item in items]


def _read(node: TRead) -> Run:
    base = _base_reader(node)
    path = node.path
    run: Run = base if not path else (lambda ctx: _dig(base(ctx), path))
    # An unset list or map reads as empty (DESIGN §3.4), so `len(x)` and `in` need no guard.
    if isinstance(node.type, ListType):
        return lambda ctx: _or_empty_list(run(ctx))
    if isinstance(node.type, MapType):
        return lambda ctx: _or_empty_map(run(ctx))
    return run


def _or_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _or_empty_map(value: Any) -> Any:
    return {} if value is None else value


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    """Object and map keys are both mapping lookups; anything else has no keys (so None)."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _base_reader(node: TRead) -> Run:
    key = node.key
    source = node.source
    if source == "field":
        return lambda ctx: ctx.data.get(key)
    if source == "computed":
        return lambda ctx: ctx.computed.get(key)
    if source == "param":
        return lambda ctx: ctx.params.get(key)
    if source == "actor_id":
        return lambda ctx: ctx.actor_id
    if source == "actor_roles":
        return lambda ctx: list(ctx.actor_roles)
    if source == "assignee":
        return lambda ctx: ctx.assignees.get(key)
    if source == "parent_field":
        return lambda ctx: _get(ctx.parent_data, key)
    if source == "parent_assignee":
        return lambda ctx: _get(ctx.parent_assignees, key)
    if source == "item":
        return lambda ctx: ctx.item
    if source == "state":
        return lambda ctx: ctx.state
    if source == "deadline_due":
        return lambda ctx: _deadline(ctx, key).due
    if source == "deadline_breached":
        return lambda ctx: _deadline(ctx, key).breached
    return lambda ctx: _deadline(ctx, key).met


_NO_DEADLINE = DeadlineView(due=None, breached=False, met=False)


def _deadline(ctx: EvalContext, name: str) -> DeadlineView:
    """A deadline not armed yet (its clock has not started) is neither breached nor met."""
    return ctx.deadlines.get(name) or _NO_DEADLINE


def _get(mapping: Mapping[str, Any] | None, key: str) -> Any:
    return None if mapping is None else mapping.get(key)


def _unary(node: TUnary) -> Run:
    if node.op == "not":
        condition = compile_condition(node.operand)
        return lambda ctx: not condition(ctx)
    operand = compile_node(node.operand)
    function = values.negate if node.op == "-" else values.plus
    return lambda ctx: function(operand(ctx))


def _arith(node: TArith) -> Run:
    left, right = compile_node(node.left), compile_node(node.right)
    mode = node.mode
    function: Operation
    if mode == "number":
        function = _NUMBER_OPS[node.op]
    elif mode == "dynamic":
        function = values.add_any if node.op == "+" else _NUMBER_OPS[node.op]
    elif mode == "concat":
        function = _concat
    elif mode == "date_date":
        function = _days_between
    else:
        return _time_shift(node, left, right)
    return lambda ctx: function(left(ctx), right(ctx))


def _concat(left: Any, right: Any) -> Any:
    return None if left is None or right is None else left + right


def _days_between(left: Any, right: Any) -> Any:
    return None if left is None or right is None else (left - right).days


def _time_shift(node: TArith, left: Run, right: Run) -> Run:
    """date/datetime ± duration, in either order for '+'."""
    sign = -1 if node.op == "-" else 1
    moment, duration = (right, left) if node.mode.startswith("duration_") else (left, right)

    def shift(ctx: EvalContext) -> Any:
        start, length = moment(ctx), duration(ctx)
        if start is None or length is None:
            return None
        return timemath.shift(start, length, ctx.calendar, sign)

    return shift


def _bool_op(node: TBoolOp) -> Run:
    conditions = tuple(compile_condition(value) for value in node.values)
    if len(conditions) == 2:
        first, second = conditions
        if node.op == "and":
            return lambda ctx: first(ctx) and second(ctx)
        return lambda ctx: first(ctx) or second(ctx)
    if node.op == "and":
        return lambda ctx: all(condition(ctx) for condition in conditions)
    return lambda ctx: any(condition(ctx) for condition in conditions)


def _compare(node: TCompare) -> Run:
    operands = tuple(
        _container(operand) if index and node.ops[index - 1] in ("in", "not in") else compile_node(operand)
        for index, operand in enumerate(node.operands)
    )
    functions = tuple(_COMPARE_OPS[op] for op in node.ops)
    if len(functions) == 1:
        function = functions[0]
        left, right = operands
        return lambda ctx: bool(function(left(ctx), right(ctx)))
    pairs = tuple(zip(functions, operands[1:], strict=True))
    first = operands[0]

    def chain(ctx: EvalContext) -> bool:
        # Like Python: a < b < c is a < b and b < c, with b evaluated once.
        left = first(ctx)
        for function, operand in pairs:
            right = operand(ctx)
            if not function(left, right):
                return False
            left = right
        return True

    return chain


def _container(node: Typed) -> Run:
    """A constant list on the right of `in` becomes a tuple once, not a new list per evaluation."""
    if isinstance(node, TList) and all(isinstance(item, TConst) for item in node.items):
        constants = tuple(item.value for item in node.items if isinstance(item, TConst))
        return lambda ctx: constants
    return compile_node(node)


def _call(node: TCall) -> Run:
    args = tuple(compile_node(arg) for arg in node.args)
    impl, name, takes_context = node.impl, node.name, node.takes_context
    if node.host:
        return host_call(name, impl, takes_context, args, node.type)

    def call(ctx: EvalContext) -> Any:
        arguments = [arg(ctx) for arg in args]
        try:
            return impl(ctx, *arguments) if takes_context else impl(*arguments)
        except QaflowError:
            raise
        except Exception as exc:
            # a built-in that failed on a value (a date out of range): the expression failed
            raise ExpressionRuntimeError(f"{name}() failed: {exc}") from exc

    return call

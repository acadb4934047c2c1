"""Run-time value rules shared by compiled expressions and the built-in functions.

Null semantics live here: arithmetic with None gives None, an unset boolean counts as false,
and a value is *set* when it is not None, '' or an empty list or map (DESIGN §3.2).
Arithmetic on numbers uses one fixed decimal context, never the thread's current one, so a
caller's `decimal.localcontext` cannot change what a workflow computes.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from engine.errors import QaflowError

# 28 significant digits like Python's default; traps turn overflow into an exception we catch.
DECIMALS = decimal.Context(prec=28, traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


class ExpressionRuntimeError(QaflowError):
    """A compiled expression could not produce a value (division by zero, a date out of range,
    a built-in function given a value it can't use). The runtime refuses the event with the
    reason `expression_failed`; a registered function's failure is a `FunctionError` instead.

    `expression` is the expression's text, filled in by `CompiledExpression.evaluate`.
    """

    code = "expression_failed"

    def __init__(self, message: str, expression: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression

    def __str__(self) -> str:
        if self.expression is None:
            return self.message
        return f"{self.message} (in {self.expression!r})"


def kind_of(value: Any) -> str:
    """A value's kind in the language's words, for run-time messages."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def is_number(value: Any) -> bool:
    return isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool))


def truth(value: Any) -> bool:
    """A value used as a condition when its type was only known at run time."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise ExpressionRuntimeError(f"expected true or false, got a {kind_of(value)}")


def is_set(value: Any) -> bool:
    """DESIGN §3.2: not None, not '', not an empty list or map (False and 0 are set)."""
    if value is None:
        return False
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0
    return True


def _numbers(op: str, left: Any, right: Any) -> None:
    if not (is_number(left) and is_number(right)):
        raise ExpressionRuntimeError(f"'{op}' does not work on a {kind_of(left)} and a {kind_of(right)}")


def add(left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if type(left) is int and type(right) is int:
        return left + right
    _numbers("+", left, right)
    return _decimal(DECIMALS.add, left, right)


def subtract(left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if type(left) is int and type(right) is int:
        return left - right
    _numbers("-", left, right)
    return _decimal(DECIMALS.subtract, left, right)


def multiply(left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if type(left) is int and type(right) is int:
        return left * right
    _numbers("*", left, right)
    return _decimal(DECIMALS.multiply, left, right)


def divide(left: Any, right: Any) -> Any:
    """Always a number (a Decimal), even for two integers; dividing by zero fails the event."""
    if left is None or right is None:
        return None
    _numbers("/", left, right)
    if right == 0:
        raise ExpressionRuntimeError("division by zero")
    return _decimal(DECIMALS.divide, left, right)


def add_any(left: Any, right: Any) -> Any:
    """`+` on values whose types were not known when the workflow loaded: numbers or strings."""
    if isinstance(left, str) and isinstance(right, str):
        return left + right
    return add(left, right)


def negate(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is int:
        return -value
    if isinstance(value, Decimal):
        return _decimal(DECIMALS.minus, value)
    raise ExpressionRuntimeError(f"'-' does not work on a {kind_of(value)}")


def plus(value: Any) -> Any:
    if value is None or is_number(value):
        return value
    raise ExpressionRuntimeError(f"'+' does not work on a {kind_of(value)}")


def _decimal(operation: Any, *operands: Any) -> Decimal:
    try:
        result: Decimal = operation(*operands)
    except decimal.DecimalException as exc:
        raise ExpressionRuntimeError(f"the number is out of range ({type(exc).__name__})") from exc
    return result


def less(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    try:
        return bool(left < right)
    except (TypeError, ArithmeticError) as exc:
        raise _unordered(left, right) from exc


def less_equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    try:
        return bool(left <= right)
    except (TypeError, ArithmeticError) as exc:
        raise _unordered(left, right) from exc


def greater(left: Any, right: Any) -> bool:
    return less(right, left)


def greater_equal(left: Any, right: Any) -> bool:
    return less_equal(right, left)


def _unordered(left: Any, right: Any) -> ExpressionRuntimeError:
    return ExpressionRuntimeError(f"a {kind_of(left)} and a {kind_of(right)} cannot be ordered")


def contains(container: Any, value: Any) -> bool:
    """`value in container`; an unset container is empty, and None is in no string."""
    if container is None:
        return False
    if isinstance(container, str) and not isinstance(value, str):
        return False
    try:
        return value in container
    except TypeError as exc:
        raise ExpressionRuntimeError(f"cannot look for a {kind_of(value)} in a {kind_of(container)}") from exc

"""Type-check a syntax tree against a `Scope`, producing the typed tree the compiler runs.

Everything a QA lead can get wrong is found here, when the workflow loads: unknown names and
functions, type mismatches, string literals outside a scale or enumeration, `<` on scale
values, non-boolean conditions. Errors point at the offending node.
"""

from __future__ import annotations

from engine.errors import DurationError, ExpressionError
from engine.expressions.names import resolve
from engine.expressions.scope import CallSite, Checked, Scope
from engine.expressions.syntax import Binary, BoolOp, Call, Compare, Const, IfExp, ListLit, Node, Path, Unary
from engine.expressions.timemath import MAX_WORKING_DAYS
from engine.expressions.typed import (
    ArithMode,
    TArith,
    TBoolOp,
    TCall,
    TCompare,
    TConst,
    TIf,
    TList,
    TToNumber,
    TUnary,
    Typed,
)
from engine.expressions.typerules import (
    assignable,
    can_equal,
    can_order,
    is_boolean,
    is_enumerated,
    is_numeric,
    is_stringy,
    join,
    not_a_member,
)
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
    ListType,
    MapType,
    ScaleType,
    Type,
)
from engine.suggest import did_you_mean
from engine.time.durations import Duration, parse_duration

_CONST_TYPES: dict[type, Type] = {bool: BOOLEAN, int: INTEGER, str: STRING, type(None): NONE}
_ORDERING = ("<", "<=", ">", ">=")


def is_string_literal(node: Typed) -> bool:
    return isinstance(node, TConst) and node.is_literal and isinstance(node.value, str)


class Checker:
    """Checks one expression; `names` collects what it read, for the lint."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.names: set[str] = set()

    def check(self, node: Node) -> Typed:
        if isinstance(node, Const):
            type_ = _CONST_TYPES.get(type(node.value), NUMBER)
            return TConst(type_, node.offset, node.value)
        if isinstance(node, ListLit):
            items = [self.check(item) for item in node.items]
            item_type, items = self.unify(items, "list items")
            return TList(ListType(item_type), node.offset, tuple(items))
        if isinstance(node, Path):
            read, used = resolve(node, self.scope)
            self.names.add(used)
            return read
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, BoolOp):
            values = tuple(self.condition(self.check(value), f"'{node.op}'") for value in node.values)
            return TBoolOp(BOOLEAN, node.offset, node.op, values)
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, IfExp):
            test = self.condition(self.check(node.test), "'if'")
            type_, (body, orelse) = self.unify([self.check(node.body), self.check(node.orelse)], "the two branches")
            return TIf(type_, node.offset, test, body, orelse)
        if isinstance(node, Call):
            return self._call(node)
        raise AssertionError(f"unexpected syntax node {node!r}")  # the parser only builds the above

    def condition(self, node: Typed, where: str) -> Typed:
        if not is_boolean(node.type):
            hint = " (write 'x is not None' to test whether it is set)" if node.type != NONE else ""
            raise ExpressionError("not_boolean", f"{where} needs true or false here, not {node.type.describe()}{hint}", node.offset)
        return node

    def fit(self, node: Typed, target: Type) -> Typed:
        """`node` used where `target` is expected: check it, and adapt literals and integers.

        A string literal must be a value of the target scale or enumeration (or a duration,
        where one is expected); lists and if-else branches are fitted item by item.
        """
        if is_string_literal(node) and isinstance(node, TConst):
            value = str(node.value)
            if isinstance(target, (EnumType, ScaleType)):
                if value not in target.values:
                    raise not_a_member(value, target, node.offset)
                return TConst(target, node.offset, value)
            if target == DURATION:
                return TConst(DURATION, node.offset, self._duration(value, node.offset))
        if isinstance(node, TList) and isinstance(target, ListType):
            return TList(target, node.offset, tuple(self.fit(item, target.item) for item in node.items))
        if isinstance(node, TIf) and target != ANY:
            return TIf(target, node.offset, node.test, self.fit(node.body, target), self.fit(node.orelse, target))
        if node.type == INTEGER and target == NUMBER:
            return TToNumber(NUMBER, node.offset, node)
        if not assignable(node.type, target):
            raise ExpressionError("type_mismatch", f"expected {target.describe()}, got {node.type.describe()}", node.offset)
        return node

    def unify(self, nodes: list[Typed], what: str) -> tuple[Type, list[Typed]]:
        """One type for values that stand in for each other (list items, if-else branches).

        String literals take the type of the other values, so `['good', grade]` is a list of
        grades and each literal is checked against the scale.
        """
        joined: Type = NONE
        for node in nodes:
            if is_string_literal(node):
                continue
            step = join(joined, node.type)
            if step is None:
                raise ExpressionError("type_mismatch", f"{what} mix {joined.describe()} and {node.type.describe()}", node.offset)
            joined = step
        if joined == NONE and any(is_string_literal(node) for node in nodes):
            joined = STRING
        return joined, [self.fit(node, joined) if joined != NONE else node for node in nodes]

    def _duration(self, text: str, offset: int) -> Duration:
        try:
            duration = parse_duration(text)
        except DurationError as exc:
            raise ExpressionError("bad_duration", exc.message, offset + 1 + exc.offset) from None
        if abs(duration.working_days) > MAX_WORKING_DAYS:
            raise ExpressionError("out_of_range", f"at most {MAX_WORKING_DAYS} working days", offset)
        return duration

    def _unary(self, node: Unary) -> Typed:
        operand = self.check(node.operand)
        if node.op == "not":
            return TUnary(BOOLEAN, node.offset, "not", self.condition(operand, "'not'"))
        if not (is_numeric(operand.type) or operand.type == ANY):
            raise ExpressionError("type_mismatch", f"'{node.op}' works on numbers, not {operand.type.describe()}", node.offset)
        return TUnary(operand.type, node.offset, node.op, operand)

    def _binary(self, node: Binary) -> Typed:
        left, right = self.check(node.left), self.check(node.right)
        op = node.op
        if op == "*" and any(is_stringy(t) or isinstance(t, ListType) for t in (left.type, right.type)):
            raise ExpressionError("not_allowed", "'*' multiplies numbers only: there is no string or list repetition", node.op_offset)
        # A string literal next to a date is a duration: due_on + '28 days'.
        if left.type in (DATE, DATETIME) and is_string_literal(right) and op in "+-":
            right = self.fit(right, DURATION)
        if right.type in (DATE, DATETIME) and is_string_literal(left) and op == "+":
            left = self.fit(left, DURATION)
        found = _arith(op, left.type, right.type)
        if found is None:
            raise ExpressionError("type_mismatch", _arith_hint(op, left.type, right.type), node.op_offset)
        mode, type_ = found
        return TArith(type_, node.offset, op, mode, left, right)

    def _compare(self, node: Compare) -> Typed:
        operands = [self.check(operand) for operand in node.operands]
        for index, (op, op_offset) in enumerate(zip(node.ops, node.op_offsets, strict=True)):
            left, right = operands[index], operands[index + 1]
            if op in ("==", "!="):
                operands[index], operands[index + 1] = self._equatable(left, right, op, op_offset)
            elif op in _ORDERING:
                _orderable(left.type, right.type, op, op_offset)
            elif op in ("in", "not in"):
                operands[index], operands[index + 1] = self._membership(left, right, op, op_offset)
        return TCompare(BOOLEAN, node.offset, node.ops, tuple(operands))

    def _members(self, node: Typed, target: Type) -> Typed:
        """Check string literals, alone or in a list literal, against a scale or enumeration
        (or read them as a duration, next to one)."""
        if is_string_literal(node) and (is_enumerated(target) or target == DURATION):
            return self.fit(node, target)
        if isinstance(node, TList) and isinstance(target, ListType) and (is_enumerated(target.item) or target.item == DURATION):
            return self.fit(node, target)
        return node

    def _equatable(self, left: Typed, right: Typed, op: str, offset: int) -> tuple[Typed, Typed]:
        right = self._members(right, left.type)
        left = self._members(left, right.type)
        if not can_equal(left.type, right.type):
            raise ExpressionError(
                "type_mismatch",
                f"{left.type.describe()} and {right.type.describe()} never compare equal ('{op}')",
                offset,
            )
        return left, right

    def _membership(self, left: Typed, right: Typed, op: str, offset: int) -> tuple[Typed, Typed]:
        container = right.type
        if container == ANY:
            return left, right
        if isinstance(container, ListType):
            right = self._members(right, ListType(left.type))
            left = self._members(left, container.item)
            if not can_equal(left.type, right.type.item if isinstance(right.type, ListType) else ANY):
                raise ExpressionError("type_mismatch", f"{left.type.describe()} is never '{op}' a {container.describe()}", offset)
            return left, right
        if isinstance(container, MapType) or is_stringy(container):
            if not (is_stringy(left.type) or left.type in (NONE, ANY)):
                raise ExpressionError(
                    "type_mismatch",
                    f"'{op}' on {container.describe()} looks for a string, not {left.type.describe()}",
                    offset,
                )
            return left, right
        raise ExpressionError("type_mismatch", f"'{op}' needs a list, a map or a string on its right, not {container.describe()}", offset)

    def _call(self, node: Call) -> Typed:
        spec = self.scope.functions.get(node.name)
        if spec is None:
            hint = did_you_mean(node.name, self.scope.functions.names())
            raise ExpressionError("unknown_function", f"there is no function '{node.name}'{hint}", node.offset)
        site = CallSite(node.name, [self.check(arg) for arg in node.args], node.offset, self.scope, self.fit)
        result = spec.check(site)
        returns, impl = (result.returns, result.impl) if isinstance(result, Checked) else (result, spec.impl)
        return TCall(returns, node.offset, node.name, impl, spec.takes_context, tuple(site.args), spec.host)


def _orderable(left: Type, right: Type, op: str, offset: int) -> None:
    if isinstance(left, ScaleType) or isinstance(right, ScaleType):
        raise ExpressionError(
            "scale_order",
            f"scale values have no '{op}': use worse_than(a, b) or better_than(a, b)",
            offset,
        )
    if NONE in (left, right):
        raise ExpressionError("type_mismatch", f"'{op}' with None is always false: use 'is None' or 'is not None'", offset)
    if not (can_order(left) and can_order(right) and can_equal(left, right)):
        raise ExpressionError("type_mismatch", f"{left.describe()} and {right.describe()} cannot be compared with '{op}'", offset)


def _arith(op: str, left: Type, right: Type) -> tuple[ArithMode, Type] | None:
    """How `left op right` computes, and its type; None when the types don't allow it."""
    if NONE in (left, right):
        return None
    if is_numeric(left) and is_numeric(right):
        both_int = left == INTEGER and right == INTEGER
        return "number", INTEGER if both_int and op != "/" else NUMBER
    if ANY in (left, right):
        other = right if left == ANY else left
        if other == ANY or is_numeric(other) or (op == "+" and is_stringy(other)):
            return "dynamic", NUMBER if op == "/" and other != ANY else ANY
        return None
    if op in "+-" and left in (DATE, DATETIME) and right == DURATION:
        return ("date_duration" if left == DATE else "datetime_duration"), left
    if op == "+" and left == DURATION and right in (DATE, DATETIME):
        return ("duration_date" if right == DATE else "duration_datetime"), right
    if op == "-" and left == DATE and right == DATE:
        return "date_date", INTEGER
    if op == "+" and is_stringy(left) and is_stringy(right):
        return "concat", TEXT if TEXT in (left, right) else STRING
    return None


def _arith_hint(op: str, left: Type, right: Type) -> str:
    message = f"'{op}' does not work on {left.describe()} and {right.describe()}"
    if left in (DATE, DATETIME) and is_numeric(right):
        message += "; add a duration such as '5 days' or params.x, or use add_working_days(d, n)"
    elif left == DATETIME and right == DATETIME:
        message += "; use days_since(d) or working_days_since(d)"
    return message

"""Turn Python's syntax tree into the language's own (`syntax.py`), refusing what it does not allow.

This is an allowlist: each `ast` node type the language uses has a converter here, and any
other node type is refused with `not_allowed`, naming the construct. Names are refused when
they start with `_`, so no path can ever spell a Python internal such as `__class__`.
"""

from __future__ import annotations

import ast
from decimal import Decimal, InvalidOperation

from engine.errors import ExpressionError
from engine.expressions.limits import MAX_INTEGER_DIGITS
from engine.expressions.source import SourceMap
from engine.expressions.syntax import (
    Binary,
    BoolOp,
    Call,
    Compare,
    Const,
    IfExp,
    ListLit,
    Node,
    Path,
    Step,
    Unary,
)

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_REFUSED_BINARY = {
    ast.Pow: "'**' is",
    ast.Mod: "'%' is",
    ast.FloorDiv: "'//' is",
    ast.MatMult: "'@' is",
    ast.BitAnd: "'&' is (use 'and')",
    ast.BitOr: "'|' is (use 'or')",
    ast.BitXor: "'^' is",
    ast.LShift: "'<<' is",
    ast.RShift: "'>>' is",
}
_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Lambda: "lambdas are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.Dict: "dict literals are",
    ast.Set: "set literals are",
    ast.Tuple: "tuples are (write a list: [a, b])",
    ast.JoinedStr: "f-strings are",
    ast.FormattedValue: "f-strings are",
    ast.Starred: "starred items are",
    ast.NamedExpr: "assignments (:=) are",
    ast.Await: "'await' is",
    ast.Yield: "'yield' is",
    ast.YieldFrom: "'yield' is",
    ast.Slice: "slices are",
}
_MAX_EXPONENT = 100  # a QA threshold never needs 1e100; keeps decimal arithmetic small


def to_syntax(root: ast.expr, source: SourceMap, text: str) -> Node:
    """Convert a measured `ast` tree (see `limits.parse_bounded`).

    Raises:
        ExpressionError: `not_allowed` or `literal_too_large`, at the offending node.
    """
    return _Converter(source, text).convert(root)


def _refuse(what: str, offset: int) -> ExpressionError:
    """`what` ends with its verb ("lambdas are", "'%' is"), so the message reads as a sentence."""
    return ExpressionError("not_allowed", f"{what} not allowed in expressions", offset)


class _Converter:
    def __init__(self, source: SourceMap, text: str) -> None:
        self._source = source
        self._text = text

    def convert(self, node: ast.expr) -> Node:
        offset = self._source.start(node)
        if isinstance(node, ast.Constant):
            return Const(offset, self._literal(node, offset))
        if isinstance(node, ast.List):
            return ListLit(offset, tuple(self.convert(item) for item in node.elts))
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
            return self._path(node)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node, offset)
        if isinstance(node, ast.BinOp):
            return self._binary(node, offset)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return BoolOp(offset, op, tuple(self.convert(value) for value in node.values))
        if isinstance(node, ast.Compare):
            return self._compare(node, offset)
        if isinstance(node, ast.IfExp):
            return IfExp(offset, self.convert(node.test), self.convert(node.body), self.convert(node.orelse))
        if isinstance(node, ast.Call):
            return self._call(node, offset)
        what = _REFUSED_NODES.get(type(node), f"'{type(node).__name__}' is")
        raise _refuse(what, offset)

    def _literal(self, node: ast.Constant, offset: int) -> int | Decimal | str | bool | None:
        value = node.value
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            if abs(value) >= 10**MAX_INTEGER_DIGITS:
                raise ExpressionError("literal_too_large", f"integer literals have at most {MAX_INTEGER_DIGITS} digits", offset)
            return value
        if isinstance(value, float):
            return self._decimal(node, offset)
        what = {bytes: "bytes literals are", complex: "imaginary numbers are"}.get(type(value), "'...' is")
        raise _refuse(what, offset)

    def _decimal(self, node: ast.Constant, offset: int) -> Decimal:
        """Read a number literal from its source text: a binary float would already be rounded."""
        written = self._text[offset : self._source.end(node)].replace("_", "")
        try:
            number = Decimal(written)
        except InvalidOperation:
            number = Decimal(repr(node.value))
        if not number.is_finite() or abs(number.adjusted()) > _MAX_EXPONENT or len(number.as_tuple().digits) > 30:
            raise ExpressionError(
                "literal_too_large",
                f"number literals have at most {MAX_INTEGER_DIGITS} digits and an exponent within ±{_MAX_EXPONENT}",
                offset,
            )
        return number

    def _path(self, node: ast.Name | ast.Attribute | ast.Subscript) -> Path:
        """A name followed by `.key` and `['key']` steps; anything else as the base is refused."""
        steps: list[Step] = []
        current: ast.expr = node
        while not isinstance(current, ast.Name):
            if isinstance(current, ast.Attribute):
                key_offset = self._source.end(current) - len(current.attr)
                _check_identifier(current.attr, key_offset)
                steps.append(Step(current.attr, key_offset, is_subscript=False))
                current = current.value
            elif isinstance(current, ast.Subscript):
                steps.append(self._subscript_step(current))
                current = current.value
            else:
                what = "a call" if isinstance(current, ast.Call) else "a literal or a bracketed expression"
                raise ExpressionError(
                    "not_allowed",
                    f"'.' and '[...]' may only follow a name (a field, params.x, item, ...), not {what}",
                    self._source.start(current),
                )
        offset = self._source.start(current)
        _check_identifier(current.id, offset)
        return Path(offset, current.id, tuple(reversed(steps)))

    def _subscript_step(self, node: ast.Subscript) -> Step:
        key = node.slice
        key_offset = self._source.start(key)
        if isinstance(key, ast.Slice):
            raise _refuse("slices are", key_offset)
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise ExpressionError(
                "not_allowed",
                "only a map can be indexed, and only with a string literal key: notes_by_team['North']",
                key_offset,
            )
        return Step(key.value, key_offset, is_subscript=True)

    def _unary(self, node: ast.UnaryOp, offset: int) -> Node:
        if isinstance(node.op, ast.Invert):
            raise _refuse("'~' is", offset)
        operand = self.convert(node.operand)
        if isinstance(node.op, ast.Not):
            return Unary(offset, "not", operand)
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        # Fold signed number literals, so `-5` is a literal where literals are required.
        value = operand.value if isinstance(operand, Const) else None
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return Const(offset, -value if sign == "-" else value)
        return Unary(offset, sign, operand)

    def _binary(self, node: ast.BinOp, offset: int) -> Binary:
        op_offset = self._operator_offset(node.left, node.right)
        if type(node.op) in _REFUSED_BINARY:
            raise _refuse(_REFUSED_BINARY[type(node.op)], op_offset)
        return Binary(offset, _BINARY[type(node.op)], op_offset, self.convert(node.left), self.convert(node.right))

    def _compare(self, node: ast.Compare, offset: int) -> Compare:
        operands = [node.left, *node.comparators]
        ops: list[str] = []
        op_offsets: list[int] = []
        for index, op in enumerate(node.ops):
            symbol = _COMPARE[type(op)]
            op_offset = self._operator_offset(operands[index], operands[index + 1])
            right = operands[index + 1]
            if symbol in ("is", "is not") and not (isinstance(right, ast.Constant) and right.value is None):
                raise ExpressionError(
                    "not_allowed",
                    f"'{symbol}' only compares with None ('x {symbol} None'); use '==' or '!=' for values",
                    op_offset,
                )
            ops.append(symbol)
            op_offsets.append(op_offset)
        return Compare(offset, tuple(ops), tuple(op_offsets), tuple(self.convert(item) for item in operands))

    def _call(self, node: ast.Call, offset: int) -> Call:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(
                "not_allowed",
                "only functions called by their plain name can be called, such as len(x) or today()",
                self._source.start(node.func),
            )
        _check_identifier(node.func.id, offset)
        if node.keywords:
            raise _refuse("keyword arguments are", self._source.start(node.keywords[0]))
        return Call(offset, node.func.id, tuple(self.convert(arg) for arg in node.args))

    def _operator_offset(self, left: ast.AST, right: ast.AST) -> int:
        """Where the operator between two operands is written: skip spaces, brackets, comments."""
        index = self._source.end(left)
        stop = self._source.start(right)
        while index < stop:
            char = self._text[index]
            if char == "#":
                newline = self._text.find("\n", index)
                index = stop if newline < 0 else newline
            elif char.isspace() or char in ")\\":
                index += 1
            else:
                return index
        return self._source.clamp(self._source.end(left))


def _check_identifier(name: str, offset: int) -> None:
    if name.startswith("_"):
        raise ExpressionError("not_allowed", f"names starting with '_' are not allowed ({name!r})", offset)

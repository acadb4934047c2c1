"""The expression language's own syntax tree: only the forms the language allows.

`parser.py` builds these from Python's `ast`, refusing everything else, so the checker never
sees a Python construct the language does not have. Every node keeps the character offset
where it starts in the expression text, for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

LiteralValue = int | Decimal | str | bool | None


@dataclass(frozen=True)
class Node:
    offset: int


@dataclass(frozen=True)
class Const(Node):
    """A literal: integer, decimal number, string, True, False or None."""

    value: LiteralValue


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Step:
    """One step down a name: `.key` (an object's key) or `['key']` (a map's key)."""

    key: str
    offset: int
    is_subscript: bool


@dataclass(frozen=True)
class Path(Node):
    """A name and the steps below it: `domains.planning.grade`, `notes_by_team['North']`."""

    root: str
    steps: tuple[Step, ...]

    def dotted(self, upto: int | None = None) -> str:
        """The path as written, up to `upto` steps (all by default)."""
        parts = [self.root]
        for step in self.steps[:upto]:
            parts.append(f"[{step.key!r}]" if step.is_subscript else f".{step.key}")
        return "".join(parts)


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-", "+" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # "+", "-", "*" or "/"
    op_offset: int
    left: Node
    right: Node


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and" or "or"
    values: tuple[Node, ...]


@dataclass(frozen=True)
class Compare(Node):
    """`a < b <= c`: `ops[i]` sits between `operands[i]` and `operands[i + 1]`."""

    ops: tuple[str, ...]  # "==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not"
    op_offsets: tuple[int, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class IfExp(Node):
    test: Node
    body: Node
    orelse: Node


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]

"""The bounds every expression must keep, checked before and right after Python parses it.

An expression comes from a YAML file, so it is untrusted input. The order matters:
length, then a scan of the raw text (bracket depth, stray characters), and only then
`ast.parse`, whose recursive C parser could otherwise exhaust the stack on 1,000 nested
brackets. After parsing, the syntax tree is measured (node count and nesting depth)
without recursion, so later recursive passes stay shallow.
"""

from __future__ import annotations

import ast
import warnings

from engine.errors import ExpressionError
from engine.expressions.source import SourceMap

MAX_LENGTH = 1000
MAX_NODES = 200
MAX_DEPTH = 32
MAX_INTEGER_DIGITS = 30

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}
# Operator and context markers are leaves of Python's tree, not syntax a QA lead wrote.
_UNCOUNTED = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop)


def check_text(text: str) -> None:
    """Refuse text that is too long, empty, badly bracketed or nested too deep.

    Brackets inside string literals and comments don't count. Outside string literals only
    ASCII is allowed: Python folds look-alike letters (`ｅval`) into plain ones, which would
    let a name read differently from how it looks.

    Raises:
        ExpressionError: `expression_too_long`, `expression_too_deep` or `expression_syntax`.
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            "expression_too_long",
            f"the expression is {len(text)} characters long; at most {MAX_LENGTH} are allowed",
            MAX_LENGTH,
        )
    open_at: list[int] = []
    has_content = False
    index = 0
    while index < len(text):
        char = text[index]
        if char in "'\"":
            index = _skip_string(text, index)
            has_content = True
            continue
        if char == "#":
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
            continue
        has_content = has_content or not char.isspace()
        if char in _OPENERS:
            open_at.append(index)
            if len(open_at) > MAX_DEPTH:
                raise ExpressionError("expression_too_deep", f"brackets are nested more than {MAX_DEPTH} deep", index)
        elif char in _CLOSERS:
            if not open_at or _OPENERS[text[open_at[-1]]] != char:
                raise ExpressionError("expression_syntax", f"'{char}' does not close an open bracket", index)
            open_at.pop()
        else:
            _check_plain_char(char, index)
        index += 1
    if open_at:
        raise ExpressionError("expression_syntax", f"'{text[open_at[-1]]}' is never closed", open_at[-1])
    if not has_content:
        raise ExpressionError("expression_syntax", "the expression is empty", 0)


def _check_plain_char(char: str, index: int) -> None:
    if char == "\x00":
        raise ExpressionError("expression_syntax", "the expression contains a null character", index)
    if ord(char) > 127:
        raise ExpressionError(
            "expression_syntax",
            f"unexpected character {char!r} (U+{ord(char):04X}): outside quotes an expression uses plain ASCII letters, digits and symbols",
            index,
        )


def _skip_string(text: str, start: int) -> int:
    """The index just after the string literal opening at `start`."""
    quote = text[start]
    triple = text.startswith(quote * 3, start)
    index = start + (3 if triple else 1)
    while index < len(text):
        char = text[index]
        if char == "\x00":
            raise ExpressionError("expression_syntax", "the expression contains a null character", index)
        if char == "\\":
            index += 2
            continue
        if triple and text.startswith(quote * 3, index):
            return index + 3
        if not triple and char == quote:
            return index + 1
        if not triple and char == "\n":
            break
        index += 1
    raise ExpressionError("expression_syntax", "this string is never closed", start)


def parse_bounded(text: str) -> tuple[ast.expr, SourceMap]:
    """Parse text that passed `check_text`, then measure the tree.

    The text is parsed inside brackets so that an expression may span lines (a YAML block
    scalar) and may start with spaces; `check_text` has made sure its own brackets balance,
    so the wrapping cannot change what the text means.

    Raises:
        ExpressionError: `expression_syntax`, `expression_too_complex` or `expression_too_deep`.
    """
    # Same length, so offsets survive: Python would read a lone CR as a line break anyway.
    normal = text.replace("\r\n", " \n").replace("\r", "\n")
    parsed_text = "(" + normal + "\n)"
    source = SourceMap(parsed_text, 1, len(text))
    try:
        with warnings.catch_warnings():
            # An invalid escape such as '\d' only warns; the string keeps its backslash.
            warnings.simplefilter("ignore")
            tree = ast.parse(parsed_text, mode="eval")
    except SyntaxError as exc:
        offset = source.char_offset(exc.lineno or 1, max((exc.offset or 1) - 1, 0))
        raise ExpressionError("expression_syntax", f"not a valid expression: {exc.msg}", offset) from None
    except (MemoryError, RecursionError):
        raise ExpressionError("expression_too_complex", "the expression is too complex to read", 0) from None
    except ValueError as exc:
        raise ExpressionError("expression_syntax", f"not a valid expression: {exc}", 0) from None
    _measure(tree.body, source)
    return tree.body, source


def _measure(root: ast.expr, source: SourceMap) -> None:
    """Count nodes and nesting with an explicit stack: no recursion on untrusted shapes."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, _UNCOUNTED):
            continue
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(
                "expression_too_complex",
                f"the expression has more than {MAX_NODES} parts; split it, e.g. into a computed value",
                source.start(node),
            )
        if depth > MAX_DEPTH:
            raise ExpressionError("expression_too_deep", f"the expression nests more than {MAX_DEPTH} levels deep", source.start(node))
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1 if isinstance(child, ast.expr) else depth))

"""Positions inside an expression: from Python's (line, UTF-8 byte column) to a character offset.

`ast` reports where a node starts as a 1-based line and a 0-based column counted in UTF-8
bytes. Errors carry a 0-based character offset into the text the QA lead wrote, so the
loader can turn it into a line and column of the YAML file. The text is parsed wrapped in
brackets (see `limits.parse_bounded`); `SourceMap` undoes that shift too.
"""

from __future__ import annotations

import ast


class SourceMap:
    """Converts positions in the parsed (wrapped) text back to offsets in the original."""

    def __init__(self, parsed_text: str, shift: int, original_length: int) -> None:
        self._lines = parsed_text.split("\n")
        self._ascii = [line.isascii() for line in self._lines]
        self._starts: list[int] = []
        position = 0
        for line in self._lines:
            self._starts.append(position)
            position += len(line) + 1
        self._shift = shift
        self._length = original_length

    def offset(self, lineno: int, col_bytes: int) -> int:
        """The 0-based character offset in the original text, clamped to lie inside it."""
        if not 1 <= lineno <= len(self._lines):
            return self.clamp(self._length)
        return self.clamp(self._starts[lineno - 1] + self._chars(lineno, col_bytes) - self._shift)

    def _chars(self, lineno: int, col_bytes: int) -> int:
        """A byte column as a character count (the same on plain ASCII lines, the usual case)."""
        line = self._lines[lineno - 1]
        if self._ascii[lineno - 1]:
            return max(col_bytes, 0)
        return len(line.encode("utf-8")[: max(col_bytes, 0)].decode("utf-8", errors="ignore"))

    def char_offset(self, lineno: int, col_chars: int) -> int:
        """Like `offset`, for positions already counted in characters (SyntaxError's)."""
        if not 1 <= lineno <= len(self._lines):
            return self.clamp(self._length)
        return self.clamp(self._starts[lineno - 1] + col_chars - self._shift)

    def start(self, node: ast.AST) -> int:
        # Python syntax nodes, never expression values; a few kinds (comprehension) have no position.
        return self.offset(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))

    def end(self, node: ast.AST) -> int:
        """The offset just after the node (clamped like every other offset)."""
        end_line: int | None = getattr(node, "end_lineno", None)
        end_col: int | None = getattr(node, "end_col_offset", None)
        if end_line is None or end_col is None:
            return self.start(node)
        if not 1 <= end_line <= len(self._lines):
            return self._length
        position = self._starts[end_line - 1] + self._chars(end_line, end_col) - self._shift
        return max(0, min(position, self._length))

    def clamp(self, position: int) -> int:
        """Keep an offset inside the text, so the loader can always turn it into a line and column."""
        return max(0, min(position, self._length - 1)) if self._length else 0

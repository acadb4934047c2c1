"""Strict YAML reading: plain Python values plus the position of every key and item.

Why not `yaml.safe_load`: it forgets positions, keeps duplicate keys silently (the last
wins), expands anchors and merge keys, and follows YAML 1.1, where `on`, `no` and `12:30`
are not strings. A QA lead naming a state `no` must get a state called "no".

So we walk PyYAML's event stream ourselves (the C parser when available: it only
tokenises, it constructs nothing) and build values by the YAML 1.2 core schema:
- only `true`/`false` (and their capitalised forms) are booleans; `null`, `~` and an
  empty value are null;
- `0123` is the decimal 123; `0o17` and `0x1F` are octal and hexadecimal;
- numbers with a point or an exponent become `Decimal`, never binary floats;
- `.inf` and `.nan` stay strings; dates stay strings until a field's type reads them;
- mapping keys are always the key's text.
Anchors, aliases, merge keys, explicit tags, complex keys, duplicate keys and more than one
document are errors. Every problem is collected; reading goes on where it can.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from engine.errors import Issue, Loc

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# Deeper than any workflow needs, shallow enough that building values never nears Python's
# recursion limit (libyaml itself accepts 1,000 levels).
MAX_DEPTH = 40
# Errors whose context (the bracket, quote or key left open) is where the QA lead must look;
# for the others the problem mark (the token that broke the structure) is the better place.
_CONTEXT_FIRST = ("flow sequence", "flow mapping", "quoted scalar", "simple key", "block scalar")


@dataclass(frozen=True)
class Mark:
    """A 1-based position; `style` is the scalar's quoting (None plain, '"', "'", '|', '>')."""

    line: int
    col: int
    style: str | None = None


@dataclass
class SourceDocument:
    """One parsed file: its value, and where each part of it was written."""

    path: str
    text: str
    value: Any = None
    key_marks: dict[Loc, Mark] = field(default_factory=dict)
    value_marks: dict[Loc, Mark] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def mark(self, loc: Loc, *, key: bool = False) -> Mark:
        """Where `loc` was written (its key if `key`), else its nearest written ancestor."""
        loc = tuple(loc)
        while True:
            found = (self.key_marks.get(loc) if key else None) or self.value_marks.get(loc)
            if found is not None:
                return found
            if not loc:
                return Mark(1, 1)
            loc = loc[:-1]

    def mark_in_string(self, loc: Loc, offset: int) -> Mark:
        """The position of character `offset` inside the string scalar at `loc`.

        A literal block (`|`) keeps its lines, so rows and columns carry over. Every other
        style may fold line breaks and indentation into spaces, so we count the
        non-blank characters before `offset` and find the same count in the source text.
        Exact unless a double-quoted string uses escapes before the offset.
        """
        start = self.mark(loc)
        value = self._value_at(loc)
        if not isinstance(value, str):
            return start
        offset = max(0, min(offset, len(value)))
        if start.style == "|":
            return self._mark_in_block(start, value, offset)
        wanted = sum(1 for char in value[:offset] if not char.isspace())
        lines = self.text.split("\n")
        row, col = start.line - 1, start.col - 1
        if start.style in ('"', "'"):
            col += 1
        elif start.style == ">":
            row, col = row + 1, 0
        seen = 0
        while row < len(lines):
            line = lines[row]
            while col < len(line):
                if not line[col].isspace():
                    if seen == wanted:
                        return Mark(row + 1, col + 1)
                    seen += 1
                col += 1
            row, col = row + 1, 0
        return start

    def _mark_in_block(self, start: Mark, value: str, offset: int) -> Mark:
        lines = self.text.splitlines()
        line_no = start.line + 1  # the content starts below the | or > indicator
        while line_no <= len(lines) and not lines[line_no - 1].strip():
            line_no += 1
        indent = 0
        if line_no <= len(lines):
            content = lines[line_no - 1]
            indent = len(content) - len(content.lstrip(" "))
        before = value[:offset]
        row = before.count("\n")
        col = len(before) - (before.rfind("\n") + 1)
        return Mark(line_no + row, indent + col + 1)

    def _value_at(self, loc: Loc) -> Any:
        value = self.value
        for part in loc:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    def add(self, loc: Loc, code: str, message: str, *, key: bool = False, severity: str = "error") -> None:
        mark = self.mark(loc, key=key)
        self.issues.append(Issue(self.path, mark.line, mark.col, severity, code, message, loc))  # type: ignore[arg-type]


def resolve_scalar(text: str) -> Any:
    """A plain scalar's value under the YAML 1.2 core schema (floats as Decimal)."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.fullmatch(text):
        return int(text)
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return Decimal(text)
    return text


def read_yaml(path: str, text: str) -> SourceDocument:
    """Read one YAML document strictly; problems are in the result's `issues`."""
    doc = SourceDocument(path=path, text=text)
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()):
        doc.issues.append(
            Issue(
                path,
                1,
                1,
                "error",
                "empty_file",
                "the file is empty: a workflow needs at least `workflow`, `version`, `initial` and `states`",
            )
        )
        return doc
    try:
        events = list(yaml.parse(text, Loader=_Parser))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and any(word in (exc.context or "") for word in _CONTEXT_FIRST):
            mark = exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        doc.issues.append(Issue(path, line, col, "error", "yaml_syntax", f"{problem}{context}"))
        return doc
    except yaml.reader.ReaderError as exc:  # a control character or a bad byte
        before = text[: exc.position]
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        doc.issues.append(
            Issue(
                path,
                line,
                col,
                "error",
                "yaml_syntax",
                f"character #x{_code_point(exc.character):04x} is not allowed in YAML: {exc.reason}",
            )
        )
        return doc
    except yaml.YAMLError as exc:
        doc.issues.append(Issue(path, 1, 1, "error", "yaml_syntax", str(exc).splitlines()[0]))
        return doc
    _Builder(doc).build(iter(events))
    return doc


class _Builder:
    """Turns the event stream into values and marks, reporting what format 1 forbids."""

    def __init__(self, doc: SourceDocument) -> None:
        self.doc = doc

    def problem(self, event: Any, code: str, message: str) -> None:
        mark = event.start_mark
        self.doc.issues.append(Issue(self.doc.path, mark.line + 1, mark.column + 1, "error", code, message))

    def build(self, events: Iterator[Any]) -> None:
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.problem(event, "yaml_multiple_documents", "a workflow file holds one YAML document; remove the second `---`")
                    return
                self.doc.value = self.node(events, next(events), ())

    def node(self, events: Iterator[Any], event: Any, loc: Loc) -> Any:
        mark = event.start_mark
        style = getattr(event, "style", None)
        self.doc.value_marks[loc] = Mark(mark.line + 1, mark.column + 1, style or None)
        if isinstance(event, yaml.AliasEvent):
            self.problem(event, "yaml_alias", f"aliases (*{event.anchor}) are not allowed: write the value out in full")
            return None
        if getattr(event, "anchor", None):
            self.problem(event, "yaml_anchor", f"anchors (&{event.anchor}) are not allowed: write each value out in full")
        if getattr(event, "tag", None) and event.tag != "!":
            self.problem(event, "yaml_tag", f"tags ({event.tag}) are not allowed: qaflow decides each value's type from its field")
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)) and len(loc) >= MAX_DEPTH:
            self.problem(event, "yaml_too_deep", f"nested more than {MAX_DEPTH} levels deep: no workflow needs that")
            _skip_collection(events)
            return None
        if isinstance(event, yaml.ScalarEvent):
            # The C parser reports a plain scalar's style as '' and the Python one as None.
            return resolve_scalar(event.value) if not event.style and event.implicit[0] else event.value
        if isinstance(event, yaml.SequenceStartEvent):
            return self.sequence(events, loc)
        return self.mapping(events, loc)

    def sequence(self, events: Iterator[Any], loc: Loc) -> list[Any]:
        items: list[Any] = []
        for event in events:
            if isinstance(event, yaml.SequenceEndEvent):
                return items
            items.append(self.node(events, event, (*loc, len(items))))
        return items

    def mapping(self, events: Iterator[Any], loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_event in events:
            if isinstance(key_event, yaml.MappingEndEvent):
                return result
            key = self.key(events, key_event)
            value_event = next(events)
            if key is None:
                self.node(events, value_event, (*loc, "?"))
                continue
            line = key_event.start_mark.line + 1
            if key in first_seen:
                self.problem(key_event, "duplicate_key", f"duplicate key '{key}' (first written on line {first_seen[key]})")
                self.node(events, value_event, (*loc, f"{key}#duplicate"))
                continue
            first_seen[key] = line
            self.doc.key_marks[(*loc, key)] = Mark(line, key_event.start_mark.column + 1)
            result[key] = self.node(events, value_event, (*loc, key))
        return result

    def key(self, events: Iterator[Any], event: Any) -> str | None:
        if isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                self.problem(event, "yaml_anchor", f"anchors (&{event.anchor}) are not allowed")
            if event.tag and event.tag != "!":
                self.problem(event, "yaml_tag", f"tags ({event.tag}) are not allowed")
            if event.value == "<<" and not event.style:
                self.problem(event, "yaml_merge_key", "merge keys (<<) are not allowed: write each key out in full")
                return None
            return str(event.value)
        if isinstance(event, yaml.AliasEvent):
            self.problem(event, "yaml_alias", f"aliases (*{event.anchor}) are not allowed")
            return None
        self.problem(event, "yaml_complex_key", "a key must be a plain name, not a list or mapping")
        self.node(events, event, ("?",))
        return None


def _skip_collection(events: Iterator[Any]) -> None:
    """Consume events up to the end of the collection just started, without recursion."""
    depth = 1
    for event in events:
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
            if depth == 0:
                return


def _code_point(character: Any) -> int:
    return character if isinstance(character, int) else ord(character)

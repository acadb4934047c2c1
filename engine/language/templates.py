"""`otherwise` and `message` texts with `{field}` and `{params.x}` filled in by our own code.

Never Python string formatting: `str.format` would let a text reach attributes and indexes
of the values it is given (`{data.__class__}`). A template is split once, when the workflow
is compiled, into literal text and names; rendering only looks names up.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.canonical import decimal_text, format_time
from engine.time.calendars import LONDON

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
NOT_SET = "(not set)"


@dataclass(frozen=True, slots=True)
class Template:
    """Literal parts and placeholders, alternating: ("literal", text) or ("field"|"param", name)."""

    text: str
    parts: tuple[tuple[str, str], ...]

    def render(self, read_field: Callable[[str], Any], params: Mapping[str, Any]) -> str:
        """The text with each placeholder replaced by the value's display form."""
        if len(self.parts) == 1 and self.parts[0][0] == "literal":
            return self.text
        out: list[str] = []
        for kind, value in self.parts:
            if kind == "literal":
                out.append(value)
            elif kind == "param":
                out.append(display(params.get(value)))
            else:
                out.append(display(read_field(value)))
        return "".join(out)


def compile_template(text: str) -> Template:
    """Split a text at its placeholders (the loader has checked every name exists)."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > position:
            parts.append(("literal", text[position : match.start()]))
        name = match.group(1).strip()
        if name.startswith("params."):
            parts.append(("param", name.removeprefix("params.")))
        else:
            parts.append(("field", name))
        position = match.end()
    if position < len(text) or not parts:
        parts.append(("literal", text[position:]))
    return Template(text, tuple(parts))


def display(value: Any) -> str:
    """A value as people read it: dates ISO, times in London, durations in words, lists joined."""
    if value is None:
        return NOT_SET
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") if value.tzinfo else format_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(display(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {display(item)}" for key, item in value.items())
    return str(value)

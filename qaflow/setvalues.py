"""`--set name=value`, `--clear name` and `--assign role=person` on the command line.

Each `--set` value is read by its field's declared type (`engine.read_field_text`,
DESIGN §3.2) and is always a value: `--set note=null` stores the word null. A field is
emptied only by `--clear name`, sent to the engine as null. Here we split the arguments and
refuse malformed ones (a name given twice, set and cleared at once).
"""

from __future__ import annotations

from typing import Any

from engine import Workflow, read_field_text
from qaflow.errors import UsageError


def parse_assignments(items: tuple[str, ...], what: str) -> dict[str, str]:
    """`role=person` pairs (for --assign); each name at most once."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{what} takes NAME=VALUE, got {item!r}")
        if name.strip() in result:
            raise UsageError(f"{what} names '{name.strip()}' twice")
        result[name.strip()] = value
    return result


def parse_sets(workflow: Workflow | None, items: tuple[str, ...], clears: tuple[str, ...] = ()) -> dict[str, Any]:
    """Event data from `--set` arguments, each value read by its field's type, and `--clear`
    names, each sent as null (unset)."""
    raw = parse_assignments(items, "--set")
    data: dict[str, Any] = {name: read_field_text(workflow, name, text) for name, text in raw.items()}
    for item in clears:
        name = item.strip()
        if not name or "=" in name:
            raise UsageError(f"--clear takes a field name, got {item!r}")
        if name in raw:
            raise UsageError(f"'{name}' is both set and cleared")
        data[name] = None
    return data

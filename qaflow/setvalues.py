"""`--set name=value` and `--assign role=person` on the command line.

Each `--set` value is read by its field's declared type (`engine.read_field_text`,
DESIGN §3.2); here we only split the arguments and refuse malformed ones.
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


def parse_sets(workflow: Workflow | None, items: tuple[str, ...]) -> dict[str, Any]:
    """Event data from `--set` arguments, each value read by its field's type."""
    raw = parse_assignments(items, "--set")
    return {name: read_field_text(workflow, name, text) for name, text in raw.items()}

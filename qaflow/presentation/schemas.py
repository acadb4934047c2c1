"""The JSON Schema (draft 2020-12) of every `--json` output, generated from `shapes`.

`python -m qaflow.presentation.schemas DIR` (`make cli-json`) writes them to DIR as
`<command>.schema.json`; tests/cli/test_cli_json_schemas.py fails when the committed
docs/cli-json/ differs from what this generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from qaflow.presentation import shapes

SCHEMA_ID = "https://qaflow.example/cli-json/{name}.schema.json"

# file name -> (title, the shape of the whole output)
OUTPUTS: dict[str, tuple[str, Any]] = {
    "validate": ("qaflow validate --json", list[shapes.IssueJson]),
    "start": ("qaflow start --json", shapes.StartJson),
    "fire": ("qaflow fire --json", shapes.FireJson),
    "show": ("qaflow show --json", shapes.ShowJson),
    "history": ("qaflow history --json", list[shapes.HistoryItemJson]),
    "list": ("qaflow list --json", list[shapes.ListRowJson]),
    "available": ("qaflow available --json", list[shapes.AvailableJson]),
    "explain": ("qaflow explain --json", shapes.ExplainJson),
    "verify": ("qaflow verify --json", shapes.VerifyJson),
    "outbox": ("qaflow outbox --json", list[shapes.OutboxJson]),
}


class _Generator(GenerateJsonSchema):
    """pydantic's generator with the published files' conventions: no generated titles on
    every property, and `"type": [T, "null"]` for a plain type or null."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        inner = self.generate_inner(schema["schema"])
        if set(inner) == {"type"} and isinstance(inner["type"], str):
            return {"type": [inner["type"], "null"]}
        return {"anyOf": [inner, {"type": "null"}]}


def output_schema(name: str) -> dict[str, Any]:
    """The schema of output `name` (a key of `OUTPUTS`)."""
    title, shape = OUTPUTS[name]
    generated = TypeAdapter(shape).json_schema(schema_generator=_Generator, mode="serialization")
    shared = generated.pop("$defs", {})
    for shape in [generated, *shared.values()]:
        _tidy(shape)
    head = {"$schema": _Generator.schema_dialect, "$id": SCHEMA_ID.format(name=name), "title": title}
    return {**head, **generated, **({"$defs": shared} if shared else {})}


def _tidy(shape: dict[str, Any]) -> None:
    """Drop the class name pydantic gives each shape as its title (the file's title names
    the command), and unwrap docstring lines into one-line descriptions."""
    shape.pop("title", None)
    if "description" in shape:
        shape["description"] = " ".join(shape["description"].split())


def schema_text(name: str) -> str:
    """The file's text: keys in the order of the shapes, two-space indent, a final newline."""
    return json.dumps(output_schema(name), indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write every output's schema into `folder`; returns the files written."""
    written = []
    for name in OUTPUTS:
        path = folder / f"{name}.schema.json"
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/cli-json")):
        print(path)

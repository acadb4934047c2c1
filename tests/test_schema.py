"""The committed JSON Schema is what the model says (regenerate with `make schema`)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.language.definition import workflow_json_schema

COMMITTED = Path(__file__).resolve().parent.parent / "workflows" / "schema" / "workflow.schema.json"


def test_committed_schema_matches_the_model() -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == workflow_json_schema(), "workflows/schema/workflow.schema.json is stale: run `make schema`"


def test_schema_names_every_top_level_key() -> None:
    keys = set(workflow_json_schema()["properties"])
    assert {
        "format",
        "workflow",
        "version",
        "title",
        "description",
        "calendar",
        "params",
        "roles",
        "separate",
        "scales",
        "types",
        "fields",
        "start",
        "initial",
        "states",
        "transitions",
        "deadlines",
        "computed",
    } == keys
    assert set(workflow_json_schema()["required"]) == {"workflow", "version", "initial", "states"}

"""Every `--json` output matches its published schema in docs/cli-json/ (DESIGN §6), and the
published schemas are what qaflow/presentation/shapes.py generates (`make cli-json`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from qaflow.cli import cli
from qaflow.presentation.schemas import OUTPUTS, schema_text
from tests.cli_support import start_args

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "cli-json"

Run = Callable[..., Any]


@pytest.fixture
def run(db_url: str) -> Run:
    url = db_url

    def invoke(*args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(cli, ["--workflows", str(ROOT / "workflows"), "--db", url, *args])
        assert result.exit_code == code, result.output + result.stderr
        return json.loads(result.stdout) if code == 0 else None

    return invoke


def check(name: str, value: Any) -> None:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)


START = (*start_args(), "--json")


def test_every_json_output_matches_its_schema(run: Run, tmp_path: Path) -> None:
    started = run(*START)
    check("start", started)
    instance = started["id"]
    check("available", run("available", instance, "--as", "qa-lead-1", "--role", "qa_lead", "--json"))
    check("explain", run("explain", instance, "allocate", "--as", "sw-12", "--role", "qa_lead", "--json"))
    check(
        "explain",
        run(
            "explain",
            instance,
            "allocate",
            "--as",
            "qa-lead-1",
            "--role",
            "qa_lead",
            "--set",
            "auditor_trained=true",
            "--assign",
            "auditor=aud-7",
            "--json",
        ),
    )
    fired = run(
        "fire",
        instance,
        "allocate",
        "--as",
        "qa-lead-1",
        "--role",
        "qa_lead",
        "--set",
        "auditor_trained=true",
        "--assign",
        "auditor=aud-7",
        "--json",
    )
    check("fire", fired)
    assert fired["notifications"], "allocation notifies the auditor"
    run("fire", instance, "arrange_meeting", "--as", "sw-12", "--role", "auditor", "--json", code=1)  # a refusal, for --refusals
    check("show", run("show", instance, "--json"))
    check("history", run("history", instance, "--json"))
    with_refusals = run("history", instance, "--refusals", "--json")
    check("history", with_refusals)
    assert any(row.get("refused") for row in with_refusals)
    check("list", run("list", "--json"))
    check("outbox", run("outbox", "--json"))
    check("verify", run("verify", "--json"))
    check("verify", run("verify", "--checkpoint", str(tmp_path / "cp.json"), "--json"))
    check("verify", run("verify", "--against", str(tmp_path / "cp.json"), "--json"))


def test_validate_json_matches_its_schema(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("workflow: broken\nversion: 0\ninitial: a\nstates:\n  a: {final: true}\nextra: 1\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--json", str(broken), str(ROOT / "workflows")])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    check("validate", rows)
    assert {row["code"] for row in rows} == {"bad_value", "unknown_key"}


def test_schemas_are_valid_and_listed() -> None:
    listed = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))
        assert path.name in listed


def test_committed_schemas_are_the_generated_ones() -> None:
    committed = {path.name for path in SCHEMAS.glob("*.schema.json")}
    assert committed == {f"{name}.schema.json" for name in OUTPUTS}, "a schema file without a shape, or a shape without a file"
    for name in OUTPUTS:
        text = (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
        assert text == schema_text(name), f"docs/cli-json/{name}.schema.json is stale: run `make cli-json`"


ROW = {
    "seq": 1,
    "at": "2026-03-02T09:55:15.000250Z",
    "recorded_at": "2026-03-02T09:55:15.000250Z",
    "actor": "qa-lead-1",
    "role": "qa_lead",
    "trigger": "@start",
    "from": None,
    "to": "selected",
    "changes": {"ref": "B-1"},
    "assigned": None,
    "comment": None,
    "hash": "0" * 64,
}
REFUSAL = {"at": "2026-03-02T09:55:15Z", "refused": True, "actor": "sw-12", "trigger": None, "kind": "refused", "message": "no"}


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ([{**ROW, "extra": 1}], "a history row is closed"),
        ([{key: value for key, value in ROW.items() if key != "comment"}], "every key is required, null or not"),
        ([{**ROW, "at": "2026-03-02T09:55:15+00:00"}], "times are UTC ending in Z"),
        ([{**ROW, "hash": "ABC"}], "a hash is 64 lower-case hex digits"),
        ([{**ROW, "seq": 0}], "rows count from 1"),
        ([{**ROW, "assigned": {"auditor": 7}}], "assignees are ids"),
        ([{**REFUSAL, "refused": False}], "a refusal says refused: true"),
        ([{**REFUSAL, "seq": 3}], "a refusal has no seq"),
    ],
)
def test_the_generated_history_schema_is_strict(bad: Any, why: str) -> None:
    check("history", [ROW, REFUSAL])
    with pytest.raises(jsonschema.ValidationError):
        check("history", bad)


def test_the_generated_schemas_keep_their_constraints() -> None:
    issue = {"path": "a.yaml", "line": 1, "col": 1, "severity": "error", "code": "bad_value", "message": "m"}
    check("validate", [issue])
    for bad in ({**issue, "severity": "fatal"}, {**issue, "code": "Bad-Value"}, {**issue, "line": 0}):
        with pytest.raises(jsonschema.ValidationError):
            check("validate", [bad])
    with pytest.raises(jsonschema.ValidationError):
        check("start", {"id": ""})

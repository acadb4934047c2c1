"""Every `--json` output matches its published schema in docs/cli-json/ (DESIGN §6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from qaflow.cli import cli
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

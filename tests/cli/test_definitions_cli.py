"""`qaflow validate`, `schema` and `diagram` through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from qaflow.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_shipped_workflows_validate_without_warnings() -> None:
    code, out, err = run("validate", str(ROOT / "workflows"))
    assert code == 0, out + err
    assert out == ""
    assert "0 error(s), 0 warning(s)" in err


def test_errors_are_plain_lines_and_exit_1(write_workflow: Callable[[str, str], Path]) -> None:
    path = write_workflow("broken", "workflow: broken\nversion: 1\ninitial: a\nstates:\n  a: {final: true}\nstaets: 1\n")
    code, out, _ = run("validate", str(path))
    assert code == 1
    assert out.splitlines() == [f"{path}:6:1: error [unknown_key] unknown key 'staets'; did you mean 'states'?"]
    assert "\x1b[" not in out  # no colour when not on a terminal


def test_json_output(write_workflow: Callable[[str, str], Path]) -> None:
    path = write_workflow("broken", "workflow: broken\nversion: 0\ninitial: a\nstates:\n  a: {final: true}\n")
    code, out, _ = run("validate", "--json", str(path))
    assert code == 1
    rows = json.loads(out)
    assert rows == [
        {
            "path": str(path),
            "line": 2,
            "col": 10,
            "severity": "error",
            "code": "bad_value",
            "message": "'version': expected greater than or equal to 1",
        }
    ]


def test_a_missing_path_is_a_usage_error() -> None:
    code, _, err = run("validate", "no/such/dir")
    assert code == 2
    assert "does not exist" in err


def test_schema_is_json() -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert json.loads(out)["title"] == "qaflow workflow (format 1)"


def test_diagram_of_a_shipped_workflow() -> None:
    code, out, _ = run("--workflows", str(ROOT / "workflows"), "diagram", "case_file_audit")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert lines[1] == "    [*] --> selected"
    assert "    closed --> [*]" in lines


def test_diagram_of_an_unknown_workflow_exits_3() -> None:
    code, _, err = run("--workflows", str(ROOT / "workflows"), "diagram", "nope")
    assert code == 3
    assert err.startswith("Error: no workflow 'nope'")


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qaflow", "validate", str(ROOT / "workflows")], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr

"""`qaflow validate`, `schema` and `diagram` through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
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


def test_diagram_takes_an_id_never_a_path_without_its_yaml_suffix() -> None:
    # `../case_file_audit` would be the workflows folder's parent: an id is checked as an id
    code, _, err = run("--workflows", str(ROOT / "workflows" / "examples"), "diagram", "../case_file_audit")
    assert code == 3
    assert "a workflow id is lower_snake_case" in err
    code, out, _ = run("diagram", str(ROOT / "workflows" / "case_file_audit.yaml"))  # a file, named as a file
    assert code == 0 and out.startswith("stateDiagram-v2\n")


def test_diagram_of_an_unknown_workflow_exits_3() -> None:
    code, _, err = run("--workflows", str(ROOT / "workflows"), "diagram", "nope")
    assert code == 3
    assert err.startswith("Error: no workflow 'nope'")


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qaflow", "validate", str(ROOT / "workflows")], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the workflows folder: --workflows, else ./workflows, else the installed catalogue -----


def shipped_files() -> dict[str, bytes]:
    """The repository's workflows/ folder as `qaflow init` copies it: everything but the package's Python."""
    folder = ROOT / "workflows"
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".py", ".pyc"}
    }


def copied_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current folder with no workflows/ in it, and no QAFLOW_WORKFLOWS."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QAFLOW_WORKFLOWS", raising=False)
    return tmp_path


def test_validate_without_a_folder_uses_the_installed_catalogue(elsewhere: Path) -> None:
    code, out, err = run("validate")
    assert (code, out) == (0, "")
    assert err == f"1 file(s) checked in {ROOT / 'workflows'} (the installed catalogue): 0 error(s), 0 warning(s)\n"


def test_validate_prefers_a_workflows_folder_in_the_current_folder(elsewhere: Path) -> None:
    (elsewhere / "workflows").mkdir()  # empty: the catalogue would be one file
    code, _, err = run("validate")
    assert code == 0
    assert err == "0 file(s) checked in workflows (found in the current folder): 0 error(s), 0 warning(s)\n"


def test_validate_names_the_folder_given(elsewhere: Path) -> None:
    (elsewhere / "mine").mkdir()
    result = CliRunner().invoke(cli, ["validate"], env={"QAFLOW_WORKFLOWS": "mine"})
    assert (result.exit_code, result.stderr) == (0, "0 file(s) checked in mine: 0 error(s), 0 warning(s)\n")
    code, _, err = run("--workflows", str(ROOT / "workflows"), "validate")
    assert (code, err) == (0, f"1 file(s) checked in {ROOT / 'workflows'}: 0 error(s), 0 warning(s)\n")


def test_diagram_and_deploy_read_the_installed_catalogue_by_default(elsewhere: Path) -> None:
    code, out, _ = run("diagram", "case_file_audit")
    assert code == 0
    assert out.startswith("stateDiagram-v2\n")
    url = f"sqlite:///{elsewhere / 'q.db'}"
    assert run("--db", url, "db", "upgrade")[0] == 0
    code, out, _ = run("--db", url, "deploy")
    assert code == 0
    assert out.startswith("case_file_audit version 1 ")


# --- qaflow init --------------------------------------------------------------------------


def test_init_copies_the_catalogue_into_workflows_and_the_copy_validates(elsewhere: Path) -> None:
    code, out, err = run("init")
    assert code == 0, err
    expected = shipped_files()
    assert out.splitlines() == [f"workflows/{name}" for name in sorted(expected)]
    assert err == f"{len(expected)} file(s) written to workflows; check them with: qaflow validate workflows\n"
    assert copied_files(elsewhere / "workflows") == expected
    assert (elsewhere / "workflows" / "examples" / "case_file_audit_walkthrough.sh").stat().st_mode & 0o111
    code, _, err = run("validate")
    assert (code, err) == (0, "1 file(s) checked in workflows (found in the current folder): 0 error(s), 0 warning(s)\n")


def test_init_creates_the_folders_named(elsewhere: Path) -> None:
    code, out, _ = run("init", "council/qa")
    assert code == 0
    assert copied_files(elsewhere / "council" / "qa") == shipped_files()
    assert "council/qa/case_file_audit.yaml" in out.splitlines()


def test_init_into_a_folder_with_other_files_keeps_them(elsewhere: Path) -> None:
    (elsewhere / "qa").mkdir()
    (elsewhere / "qa" / "notes.txt").write_text("ours\n", encoding="utf-8")
    assert run("init", "qa")[0] == 0
    assert (elsewhere / "qa" / "notes.txt").read_text(encoding="utf-8") == "ours\n"


def test_init_refuses_to_overwrite_a_file_and_copies_nothing(elsewhere: Path) -> None:
    schema = elsewhere / "workflows" / "schema" / "workflow.schema.json"
    schema.parent.mkdir(parents=True)
    schema.write_text("{}", encoding="utf-8")
    code, out, err = run("init")
    assert (code, out) == (1, "")
    assert err == "Error: workflows/schema/workflow.schema.json already exists; qaflow init overwrites nothing, so nothing was copied\n"
    assert copied_files(elsewhere / "workflows") == {"schema/workflow.schema.json": b"{}"}


def test_init_refuses_a_file_where_a_folder_goes(elsewhere: Path) -> None:
    (elsewhere / "workflows").mkdir()
    (elsewhere / "workflows" / "examples").write_text("not a folder", encoding="utf-8")
    code, _, err = run("init")
    assert code == 1
    assert err.startswith("Error: workflows/examples already exists (and 1 more); ")
    assert copied_files(elsewhere / "workflows") == {"examples": b"not a folder"}


def test_init_twice_refuses_the_second_time(elsewhere: Path) -> None:
    assert run("init")[0] == 0
    code, out, err = run("init")
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1
    assert copied_files(elsewhere / "workflows") == shipped_files()

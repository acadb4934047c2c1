"""The command line's inputs checked where they enter (DESIGN §4.10, §6; QUALITY R5).

`--role` must be a role the workflow declares (the file's for `start`, the instance's
deployed version for `fire`, `available` and `explain`): anything else is exit 2 with "did you
mean", and nothing is started or changed. `--set` text is always a value (`null` is a word);
`--clear NAME` empties a field. An idempotency key that is empty or too long is exit 2. On
SQLite and PostgreSQL, in process (CliRunner).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qaflow.cli import cli

WORKFLOW = """
workflow: intake
version: 1
roles:
  worker: Raises the item
  qa_lead: Signs it off
fields:
  ref: {type: string, required: true}
  note: {type: text}
  score: {type: integer}
  tags: {type: list, items: {type: string}}
start:
  by: [worker]
  writes: [note, score, tags]
initial: open
states:
  open:
  done:
    final: true
transitions:
  - trigger: annotate
    from: open
    by: [worker]
    writes: [ref, note, score, tags]
  - trigger: sign_off
    from: open
    to: done
    by: [qa_lead]
"""

WORKER = ("--as", "wk-1", "--role", "worker")
QA_LEAD = ("--as", "qa-1", "--role", "qa_lead")


class Run:
    def __init__(self, url: str, workflows: Path) -> None:
        self.prefix = ["--workflows", str(workflows), "--db", url]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, [*self.prefix, *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"qaflow {' '.join(args)[:200]} raised {result.exception!r}") from result.exception
        assert "Traceback" not in result.stderr
        return result.exit_code, result.stdout, result.stderr

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, f"exit {code}: {err}"
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def error(self, code: int, *args: str) -> str:
        """The one error line of a command that must exit with `code`."""
        got, out, err = self(*args)
        assert got == code, f"exit {got}: {err}"
        assert out == "" and len(err.splitlines()) == 1 and err.startswith("Error: "), err
        return err.strip()

    def start(self, *sets: str) -> str:
        return self.ok("start", "intake", *WORKER, "--set", "ref=R-1", *sets).strip()

    def instances(self) -> list[Any]:
        return list(self.json("list", "--limit", "0"))


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Run:
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "intake.yaml").write_text(WORKFLOW, encoding="utf-8")
    return Run(db_url, folder)


# --- --role ---------------------------------------------------------------------------------------


def test_start_refuses_a_role_the_workflow_does_not_declare(run: Run) -> None:
    line = run.error(2, "start", "intake", "--as", "wk-1", "--role", "wroker", "--set", "ref=R-1")
    assert "--role 'wroker': intake declares no such role; did you mean 'worker'?" in line
    line = run.error(2, "start", "intake", "--as", "wk-1", "--role", "worker", "--role", "zzz", "--set", "ref=R-1")
    assert "its roles are qa_lead, worker" in line
    assert run.instances() == []


@pytest.mark.parametrize("command", ["fire", "available", "explain"])
def test_fire_available_and_explain_refuse_a_role_the_instance_does_not_declare(run: Run, command: str) -> None:
    instance = run.start()
    trigger = [] if command == "available" else ["sign_off"]
    line = run.error(2, command, instance, *trigger, "--as", "qa-1", "--role", "qa_led")
    assert "did you mean 'qa_lead'?" in line
    long_role = "r" * 5000
    assert len(run.error(2, command, instance, *trigger, "--as", "qa-1", "--role", long_role)) < 300  # not echoed in full
    assert run.json("show", instance)["state"] == "open"
    assert run.json("history", instance, "--refusals") == run.json("history", instance)  # nothing was attempted


def test_system_claimed_on_the_command_line_is_refused_and_logged_by_the_engine(run: Run) -> None:
    instance = run.start()
    line = run.error(1, "fire", instance, "sign_off", "--as", "qa-1", "--role", "system")
    assert "system" in line
    refusals = [row for row in run.json("history", instance, "--refusals") if row.get("refused")]
    assert len(refusals) == 1 and refusals[0]["kind"] == "refused"


# --- --set and --clear ------------------------------------------------------------------------------


def test_set_null_keeps_the_word_null_in_text_fields(run: Run) -> None:
    instance = run.start("--set", "note=null")
    assert run.json("show", instance)["data"]["note"] == "null"
    run.ok("fire", instance, "annotate", *WORKER, "--set", "ref=NULL")
    assert run.json("show", instance)["data"]["ref"] == "NULL"


def test_clear_empties_a_field(run: Run) -> None:
    instance = run.start("--set", "note=Seen at home", "--set", "score=3", "--set", "tags=[a, b]")
    run.ok("fire", instance, "annotate", *WORKER, "--clear", "note", "--clear", "score", "--clear", "tags")
    data = run.json("show", instance)["data"]
    assert data.get("note") is None and data.get("score") is None and not data.get("tags")
    assert run.json("history", instance)[-1]["changes"] == {"note": None, "score": None, "tags": None}


def test_clear_of_a_required_field_is_refused(run: Run) -> None:
    instance = run.start()
    assert "'ref' is required" in run.error(1, "fire", instance, "annotate", *WORKER, "--clear", "ref")


@pytest.mark.parametrize("sets", [["--set", "score=null"], ["--set", "tags=null"], ["--set", "score="]], ids=["int", "list", "empty"])
def test_null_or_nothing_in_a_field_of_another_type_is_refused_naming_it(run: Run, sets: list[str]) -> None:
    instance = run.start("--set", "score=3", "--set", "tags=[a]")
    name = sets[1].split("=")[0]
    assert f"'{name}'" in run.error(1, "fire", instance, "annotate", *WORKER, *sets)
    assert run.json("show", instance)["data"]["score"] == 3


def test_set_and_clear_of_one_field_is_a_usage_error(run: Run) -> None:
    instance = run.start()
    assert "'note' is both set and cleared" in run.error(2, "fire", instance, "annotate", *WORKER, "--set", "note=x", "--clear", "note")
    assert "--clear takes a field name" in run.error(2, "fire", instance, "annotate", *WORKER, "--clear", "note=x")


# --- --key and --as ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "k" * 201], ids=["empty", "too-long"])
def test_an_idempotency_key_that_is_empty_or_too_long_is_a_usage_error(run: Run, key: str) -> None:
    assert "idempotency key" in run.error(2, "start", "intake", *WORKER, "--set", "ref=R-1", "--key", key)
    instance = run.start()
    assert "idempotency key" in run.error(2, "fire", instance, "sign_off", *QA_LEAD, "--key", key)
    assert len(run.instances()) == 1 and run.json("show", instance)["state"] == "open"

"""`qaflow start`, `fire`, `show`, `history`, `list`, `available`, `explain` and `verify` on SQLite.

Through the command line, in process (CliRunner), each test on a fresh database in its
tmp_path, upgraded by `qaflow db upgrade`: the output shapes of DESIGN §6, the exit codes,
`--set` read by each field's type, and the refusals of R5 — one line naming the role, both
roles, the field or the check, no traceback, and nothing changed but one security-log row.
A few runs of `python -m qaflow` prove that no traceback reaches a real, terminal-less run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from click.testing import CliRunner

from qaflow.cli import cli
from tests.cli_support import CASE, QA_LEAD, start_args

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
NOW = "2026-11-16T10:00:00Z"  # a Monday; allocation makes the audit due on 2026-12-14
DUE_ON = "2026-12-14"
UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
TABLES = ("instances", "history", "history_payloads", "state_entries", "timers", "deadlines", "outbox", "idempotency_keys", "security_log")
SHOW_KEYS = {"id", "workflow", "version", "state", "data", "assignees", "deadlines", "parent", "children", "lock_version"}
HISTORY_KEYS = {"seq", "at", "recorded_at", "actor", "role", "trigger", "from", "to", "changes", "assigned", "comment", "hash"}

AUDITOR = ("--as", "aud-7", "--role", "auditor")
PRACTITIONER = ("--as", "sw-12", "--role", "practitioner")
TEAM_MANAGER = ("--as", "tm-3", "--role", "team_manager")


class Cli:
    """`qaflow --workflows <repo>/workflows --db sqlite:///<tmp>/q.db ...`, in process.

    Commands run at the fixed time NOW (`--now ... --allow-clock-override`) unless
    `clock=False`, so dates such as the due date are known.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")

    def __call__(self, *args: str, clock: bool = True) -> tuple[int, str, str]:
        prefix = ["--workflows", str(WORKFLOWS), "--db", self.url]
        if clock:
            prefix += ["--now", NOW, "--allow-clock-override"]
        result = CliRunner().invoke(cli, [*prefix, *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"qaflow {' '.join(args)[:200]} raised {result.exception!r}") from result.exception
        assert "\x1b[" not in result.stdout and "\x1b[" not in result.stderr  # no colour or markup when not on a terminal
        return result.exit_code, result.stdout, result.stderr

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, f"exit {code}: {err}"
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def start(self, **data: str) -> str:
        return self.ok(*start_args(**data)).strip()

    def query(self, sql: str) -> list[Any]:
        engine = sqlalchemy.create_engine(self.url, poolclass=sqlalchemy.pool.NullPool)
        try:
            with engine.connect() as con:
                return [tuple(row) for row in con.exec_driver_sql(sql)]
        finally:
            engine.dispose()

    def execute(self, *statements: str) -> None:
        """Run SQL as an administrator would, behind qaflow's back (each statement committed)."""
        engine = sqlalchemy.create_engine(self.url, poolclass=sqlalchemy.pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as con:
                for statement in statements:
                    con.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def counts(self) -> dict[str, int]:
        return {table: self.query(f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}

    def keys(self) -> set[tuple[str, str]]:
        return set(self.query("SELECT scope, key FROM idempotency_keys"))

    def snapshot(self, instance: str) -> tuple[Any, Any, dict[str, int], set[tuple[str, str]]]:
        """What a refusal must leave alone: the instance, its history, the tables' rows, the keys."""
        return self.json("show", instance), self.json("history", instance), self.counts(), self.keys()


@pytest.fixture(autouse=True)
def _no_history_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QAFLOW_HISTORY_KEY", raising=False)


@pytest.fixture
def run(db_url: str) -> Cli:
    """A `run(*args)` helper on a fresh database of each backend, upgraded by `qaflow db upgrade`."""
    cli_ = Cli(db_url)
    code, out, err = cli_("db", "upgrade", clock=False)
    assert code == 0, err
    assert out.startswith("database at the latest schema")
    return cli_


def without_security_log(counts: dict[str, int]) -> dict[str, int]:
    return {table: n for table, n in counts.items() if table != "security_log"}


def one_error_line(err: str) -> str:
    """The single line a refusal or error writes to stderr."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: ")
    return lines[0]


# --- driving an audit ----------------------------------------------------------------------

FINDINGS: dict[str, Any] = {
    "domains": {
        name: {"grade": "inadequate", "evidence": f"Evidence for {name.replace('_', ' ')} from the record."}
        for name in ("voice_of_child", "assessment", "planning", "pace_and_impact", "multi_agency", "management_oversight", "recording")
    },
    "overall_grade": "inadequate",
    "overall_rationale": "The plan is not reviewed and the child's wishes are not recorded.",
    "strengths": ["Visits are regular and the child is seen alone"],
    "actions": [
        {
            "description": "Review the child protection plan with the child's views recorded",
            "owner": "tm-3",
            "due": "2027-01-29",
            "success_measure": "The plan records the child's wishes and is reviewed at the next conference",
        }
    ],
}


def steps(findings_file: Path) -> list[tuple[str, list[str]]]:
    """(state reached, the fire arguments after INSTANCE) from `selected` to `awaiting_moderation`."""
    return [
        ("allocated", ["allocate", *QA_LEAD, "--set", "auditor_trained=true", "--assign", "auditor=aud-7"]),
        (
            "meeting_arranged",
            ["arrange_meeting", *AUDITOR, "--set", "practitioner_notified_on=2026-11-16", "--set", "meeting_date=2026-12-01"],
        ),
        ("in_review", ["start_review", *AUDITOR]),
        (
            "discussion_held",
            ["record_discussion", *AUDITOR, "--set", "meeting_held=true", "--set", "attendees=[sw-12, aud-7]"],
        ),
        ("findings_drafted", ["draft_findings", *AUDITOR, "--data-file", str(findings_file)]),
        ("findings_shared", ["share_findings", *AUDITOR]),
        ("response_received", ["respond", *PRACTITIONER, "--set", "practitioner_response=agree"]),
        ("awaiting_oversight", ["complete", *AUDITOR, "--set", "audit_document_ref=DOC-88412"]),
        (
            "awaiting_moderation",
            ["record_oversight", *TEAM_MANAGER, "--set", "oversight_note_ref=MO-551", "--set", "oversight_note=Monthly supervision check."],
        ),
    ]


def drive(run: Cli, instance: str, state: str, tmp_path: Path) -> None:
    """Fire the audit's steps until the instance is in `state`."""
    findings_file = tmp_path / "findings.json"
    findings_file.write_text(json.dumps(FINDINGS), encoding="utf-8")
    if state == "selected":
        return
    for reached, args in steps(findings_file):
        assert f" -> {reached}; history row " in run.ok("fire", instance, *args)
        if reached == state:
            return
    raise AssertionError(f"no step reaches {state!r}")


# --- start, show, history, list, available, explain: output shapes (DESIGN §6) ---------------


def test_db_upgrade_twice_is_fine(run: Cli) -> None:
    code, out, _ = run("db", "upgrade", clock=False)
    assert code == 0 and out.strip() == f"database at the latest schema: {run.url}"


def test_start_prints_only_the_id(run: Cli) -> None:
    out = run.ok(*start_args())
    assert out.endswith("\n") and len(out.splitlines()) == 1
    instance = out.strip()
    assert instance and not instance.isdigit() and " " not in instance
    assert run.json("show", instance)["id"] == instance


def test_start_json_is_an_object_with_only_the_id(run: Cli) -> None:
    started = run.json(*start_args())
    assert list(started) == ["id"] and isinstance(started["id"], str)


def test_ids_are_not_sequential_integers_and_sort_in_creation_order(run: Cli) -> None:
    ids = [run.start() for _ in range(3)] + [run.start(child_ref=f"CF-{n}") for n in range(3)]  # all at NOW
    for later in ("2026-11-16T10:00:00.001Z", "2026-11-17T08:00:00Z"):
        code, out, _ = run("--now", later, "--allow-clock-override", *start_args(), clock=False)
        assert code == 0
        ids.append(out.strip())
    assert len(set(ids)) == len(ids)
    assert not any(each.isdigit() for each in ids)
    assert sorted(ids) == ids
    assert [row["id"] for row in run.json("list")] == ids  # oldest first


def test_show_json_has_the_documented_keys(run: Cli) -> None:
    instance = run.start()
    shown = run.json("show", instance)
    assert set(shown) - {"computed"} == SHOW_KEYS
    assert shown["id"] == instance and shown["workflow"] == "case_file_audit" and shown["version"] == 1
    assert shown["state"] == "selected" and shown["lock_version"] == 1
    assert shown["assignees"] == {"practitioner": "sw-12", "team_manager": "tm-3"}
    assert shown["parent"] is None and shown["children"] == [] and isinstance(shown["deadlines"], list)
    assert {k: shown["data"][k] for k in CASE} == CASE
    assert shown["computed"]["is_inadequate"] is False


def test_show_as_people_read_it(run: Cli) -> None:
    instance = run.start()
    lines = run.ok("show", instance, "--as", "qa-lead-1").splitlines()
    assert lines[0] == f"{instance}  case_file_audit v1  state selected  lock_version 1"
    assert '  child_ref = "CF-2041"' in lines


def test_history_json_rows_have_the_documented_keys_and_utc_times(run: Cli, tmp_path: Path) -> None:
    instance = run.start()
    drive(run, instance, "in_review", tmp_path)
    rows = run.json("history", instance)
    assert [row["seq"] for row in rows] == [1, 2, 3, 4]
    assert [row["trigger"] for row in rows] == ["@start", "allocate", "arrange_meeting", "start_review"]
    for row in rows:
        assert set(row) == HISTORY_KEYS
        assert UTC_TIME.fullmatch(row["at"]), row["at"]
        assert re.fullmatch(r"[0-9a-f]{64}", row["hash"])
    assert rows[0]["at"] == "2026-11-16T10:00:00.000000Z"
    assert (rows[0]["from"], rows[0]["to"], rows[0]["actor"], rows[0]["role"]) == (None, "selected", "qa-lead-1", "qa_lead")
    assert (rows[1]["from"], rows[1]["to"], rows[1]["changes"]) == ("selected", "allocated", {"due_on": DUE_ON})
    assert rows[2]["role"] == "auditor" and rows[2]["comment"] is None


def test_times_given_with_an_offset_are_shown_in_utc(run: Cli) -> None:
    code, out, err = run("--now", "2026-07-01T10:30:00+01:00", "--allow-clock-override", *start_args(), clock=False)
    assert code == 0, err
    assert run.json("history", out.strip())[0]["at"] == "2026-07-01T09:30:00.000000Z"
    assert run.json("list")[0]["updated_at"] == "2026-07-01T09:30:00.000000Z"


def test_history_keeps_the_comment(run: Cli) -> None:
    instance = run.start()
    run.ok("fire", instance, "withdraw", *QA_LEAD, "--set", "withdrawal_reason=case_transferred", "--comment", "Moved to the East team.")
    rows = run.json("history", instance)
    assert rows[-1]["comment"] == "Moved to the East team."
    assert "withdraw: selected -> withdrawn" in run.ok("history", instance).splitlines()[-1]


def test_list_json_is_an_array_of_objects_with_id(run: Cli) -> None:
    assert run.json("list") == []
    first, second, third = run.start(), run.start(), run.start()
    run.ok("fire", second, "withdraw", *QA_LEAD, "--set", "withdrawal_reason=case_closed")
    listed = run.json("list")
    assert isinstance(listed, list) and all(isinstance(row, dict) for row in listed)
    assert [row["id"] for row in listed] == [first, second, third]
    assert [row["id"] for row in run.json("list", "--state", "withdrawn")] == [second]
    assert [row["id"] for row in run.json("list", "--limit", "1")] == [first]
    assert [row["id"] for row in run.json("list", "--after", first)] == [second, third]
    assert run.json("list", "--workflow", "nope") == []
    assert len(run.ok("list").splitlines()) == 3


def test_available_json_is_an_array(run: Cli) -> None:
    instance = run.start()
    found = run.json("available", instance, *QA_LEAD)
    assert isinstance(found, list)
    assert {row["trigger"] for row in found} == {"allocate", "withdraw"}
    assert run.json("available", instance, *PRACTITIONER) == []
    assert run.json("available", instance, "--as", "qa-lead-1", "--role", "system") == []


def test_explain_exits_0_allowed_or_not_and_changes_nothing(run: Cli) -> None:
    instance = run.start()
    before = run.snapshot(instance)
    refused = run.json("explain", instance, "allocate", *PRACTITIONER)
    assert isinstance(refused, dict) and refused["allowed"] is False and refused["reasons"] + refused["candidates"]
    allowed = run.json("explain", instance, "allocate", *QA_LEAD, "--set", "auditor_trained=true", "--assign", "auditor=aud-7")
    assert allowed["allowed"] is True and allowed["to"] == "allocated" and allowed["changes"] == {"due_on": DUE_ON}
    code, out, _ = run("explain", instance, "allocate", *QA_LEAD, "--set", "auditor_trained=true", "--assign", "auditor=aud-7")
    assert code == 0 and out.strip() == "'allocate' is allowed as qa_lead: transition 1 goes to 'allocated'; changes due_on"
    code, out, _ = run("explain", instance, "allocate", *QA_LEAD)
    assert code == 0 and out.startswith("'allocate' is not allowed: ") and "'auditor_trained' must be set" in out
    code, out, _ = run("explain", instance, "no_such_trigger", *QA_LEAD)
    assert code == 0 and "no trigger 'no_such_trigger'" in out
    assert run.snapshot(instance) == before  # explain logs nothing, not even a refusal


# --- refusals (R5): one line, nothing changed, one security-log row -----------------------

ALLOCATE_OK = ["--set", "auditor_trained=true", "--assign", "auditor=aud-7"]

REFUSALS = [
    pytest.param(
        "selected",
        ["allocate", *PRACTITIONER, *ALLOCATE_OK],
        ["'allocate' is for qa_lead", "'sw-12'"],
        id="wrong_role",
    ),
    pytest.param(
        "selected",
        ["allocate", *QA_LEAD, "--set", "auditor_trained=true", "--assign", "auditor=sw-12"],
        ["separation of duties", "'auditor' and 'practitioner'"],
        id="separation_practitioner_as_auditor",
    ),
    pytest.param(
        "awaiting_moderation",
        ["allocate_moderator", *QA_LEAD, "--assign", "moderator=aud-7"],
        ["separation of duties", "'moderator'", "'auditor'"],
        id="separation_auditor_as_moderator",
    ),
    pytest.param(
        "awaiting_moderation+moderator",
        ["record_moderation_outcome", *AUDITOR, "--set", "moderation_outcome=agree", "--set", "final_grade=inadequate"],
        ["moderator"],
        id="auditor_acting_as_moderator",
    ),
    pytest.param(
        "selected",
        ["allocate", *QA_LEAD, *ALLOCATE_OK, "--set", "team=South"],
        ["may not write 'team'"],
        id="field_not_writable",
    ),
    pytest.param(
        "selected",
        ["allocate", *QA_LEAD, "--assign", "auditor=aud-7"],
        ["'auditor_trained' must be set"],
        id="missing_needed_field",
    ),
    pytest.param(
        "selected",
        ["allocate", *QA_LEAD, "--set", "auditor_trained=false", "--assign", "auditor=aud-7"],
        ["Only a trained auditor can be allocated an audit."],
        id="failed_check",
    ),
    pytest.param(
        "allocated",
        ["arrange_meeting", *AUDITOR, "--set", "practitioner_notified_on=2026-11-16", "--set", "meeting_date=2026-12-15"],
        [f"The meeting must be on or before the audit's due date ({DUE_ON})."],
        id="failed_check_with_a_value",
    ),
    pytest.param(
        "selected",
        ["allocate", *QA_LEAD, "--set", "auditor_trained=maybe", "--assign", "auditor=aud-7"],
        ["'auditor_trained'", "boolean"],
        id="wrong_type",
    ),
    pytest.param("selected", ["allocate", "--as", "qa-lead-1", "--role", "system", *ALLOCATE_OK], ["'system'"], id="system_claimed"),
    pytest.param("allocated", ["allocate", *QA_LEAD, *ALLOCATE_OK], ["can't happen in 'allocated'"], id="wrong_state"),
    pytest.param("selected", ["no_such_trigger", *QA_LEAD], ["no trigger 'no_such_trigger'"], id="unknown_trigger"),
    pytest.param("selected", ["withdraw", *QA_LEAD, "--set", "no_such_field=1"], ["no field 'no_such_field'"], id="unknown_field"),
    pytest.param(
        "selected",
        ["withdraw", *QA_LEAD, "--set", "withdrawal_reason=case_closed", "--comment", "c" * 20_001],
        ["a comment may be at most 20000 characters"],
        id="comment_too_long",
    ),
]


@pytest.mark.parametrize(("state", "args", "named"), REFUSALS)
def test_a_refusal_is_one_line_and_changes_nothing(run: Cli, tmp_path: Path, state: str, args: list[str], named: list[str]) -> None:
    instance = run.start()
    drive(run, instance, state.removesuffix("+moderator"), tmp_path)
    if state.endswith("+moderator"):
        run.ok("fire", instance, "allocate_moderator", *QA_LEAD, "--assign", "moderator=mod-2")
    assert_refused(run, instance, args, named)


def assert_refused(run: Cli, instance: str, args: list[str], named: list[str]) -> None:
    """`fire INSTANCE *args` is refused in one line naming `named`; only the security log grows."""
    shown, history, counts, keys = run.snapshot(instance)
    code, out, err = run("fire", instance, *args, "--key", "attempt-1")
    assert (code, out) == (1, "")
    line = one_error_line(err)
    assert line.startswith(f"Error: '{args[0]}' on {instance} refused: ")
    for text in named:
        assert text in line, line
    assert run.json("show", instance) == shown
    assert run.json("history", instance) == history
    assert run.keys() == keys
    assert run.counts() == {**counts, "security_log": counts["security_log"] + 1}
    refusals = [row for row in run.json("history", instance, "--refusals") if row.get("refused")]
    assert refusals[-1]["trigger"] == args[0]


def test_an_auditor_who_has_acted_cannot_moderate_after_reallocation(run: Cli, tmp_path: Path) -> None:
    """DESIGN §3.7: people keep holding a role they acted in, for separation of duties."""
    instance = run.start()
    drive(run, instance, "findings_drafted", tmp_path)
    reallocate = ["reallocate", *QA_LEAD, "--set", "reallocation_reason=Long-term sick leave", "--set", "auditor_trained=true"]
    run.ok("fire", instance, *reallocate, "--assign", "auditor=aud-8")
    new_auditor = ("--as", "aud-8", "--role", "auditor")
    for args in (
        ["share_findings", *new_auditor],
        ["respond", *PRACTITIONER, "--set", "practitioner_response=agree"],
        ["complete", *new_auditor, "--set", "audit_document_ref=DOC-88412"],
        ["record_oversight", *TEAM_MANAGER, "--set", "oversight_note_ref=MO-551", "--set", "oversight_note=Supervision check."],
    ):
        run.ok("fire", instance, *args)
    assert run.json("show", instance)["assignees"]["auditor"] == "aud-8"
    args = ["allocate_moderator", *QA_LEAD, "--assign", "moderator=aud-7"]
    assert_refused(run, instance, args, ["'aud-7' holds 'auditor'", "'moderator' and 'auditor' are separate"])


def test_a_refused_start_creates_nothing(run: Cli) -> None:
    counts = run.counts()
    code, out, err = run(*start_args(case_status="closed"), "--key", "start-1")
    assert (code, out) == (1, "")
    assert one_error_line(err) == "Error: '@start' of case_file_audit refused: Only an open case can be selected for audit."
    code, _, err = run(*start_args(team="0123", selection_method="manual"))
    assert code == 1 and "A thematic or manual selection needs a reason." in one_error_line(err)
    after = run.counts()
    assert without_security_log(after) == without_security_log(counts)
    assert after["security_log"] == counts["security_log"] + 2
    assert run.json("list") == []


def test_a_refused_attempt_stores_no_key(run: Cli) -> None:
    instance = run.start()
    code, _, _ = run("fire", instance, "allocate", *QA_LEAD, "--assign", "auditor=aud-7", "--key", "k-1")
    assert code == 1
    fired = run.json("fire", instance, "allocate", *QA_LEAD, *ALLOCATE_OK, "--key", "k-1")  # another request: no conflict
    assert fired["to"] == "allocated"
    assert run(*start_args(case_status="closed"), "--key", "s-1")[0] == 1
    assert run.ok(*start_args(), "--key", "s-1").strip() != instance


def test_an_oversized_payload_is_refused_and_changes_nothing(run: Cli, tmp_path: Path) -> None:
    instance = run.start()
    big = tmp_path / "big.yaml"
    big.write_text("withdrawal_reason: other\nwithdrawal_note: " + "x" * 1_100_000 + "\n", encoding="utf-8")
    shown, history, counts, keys = run.snapshot(instance)
    code, out, err = run("fire", instance, "withdraw", *QA_LEAD, "--data-file", str(big))
    assert (code, out) == (1, "")
    assert "at most 1000000" in one_error_line(err)
    assert run.snapshot(instance) == (shown, history, {**counts, "security_log": counts["security_log"] + 1}, keys)


# --- exit codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["show", "nope"],
        ["history", "nope"],
        ["fire", "nope", "allocate", *QA_LEAD, "--set", "auditor_trained=true"],
        ["available", "nope", *QA_LEAD],
        ["explain", "nope", "allocate", *QA_LEAD],
        ["verify", "nope"],
    ],
    ids=lambda args: args[0],
)
def test_an_unknown_instance_exits_3(run: Cli, args: list[str]) -> None:
    counts = run.counts()
    code, out, err = run(*args)
    assert (code, out) == (3, "")
    assert one_error_line(err) == "Error: there is no instance 'nope'"
    assert without_security_log(run.counts()) == without_security_log(counts)


def test_an_unknown_workflow_for_start_exits_3(run: Cli) -> None:
    code, out, err = run("start", "no_such_workflow", *QA_LEAD, "--set", "child_ref=CF-1")
    assert (code, out) == (3, "")
    assert one_error_line(err).startswith("Error: no workflow 'no_such_workflow'")
    assert run.counts()["instances"] == 0


@pytest.mark.parametrize(
    "args",
    [
        ["start", "case_file_audit", *QA_LEAD, "--set", "child_ref"],
        ["start", "case_file_audit", *QA_LEAD, "--set", "=CF-1"],
        ["start", "case_file_audit", *QA_LEAD, "--assign", "practitioner"],
        ["fire", "{instance}", "withdraw", *QA_LEAD, "--set", "withdrawal_reason"],
        ["explain", "{instance}", "withdraw", *QA_LEAD, "--set", "withdrawal_reason"],
        ["fire", "{instance}", "allocate", *QA_LEAD, "--assign", "auditor=a", "--assign", "auditor=b"],
    ],
    ids=["start_set", "start_set_no_name", "start_assign", "fire_set", "explain_set", "assign_twice"],
)
def test_bad_set_syntax_exits_2(run: Cli, args: list[str]) -> None:
    instance = run.start()
    counts = run.counts()
    code, out, err = run(*[instance if arg == "{instance}" else arg for arg in args])
    assert (code, out) == (2, "")
    assert "NAME=VALUE" in one_error_line(err) or "twice" in err
    assert run.counts() == counts


@pytest.mark.parametrize(
    "args",
    [
        ["start", "case_file_audit", "--role", "qa_lead"],
        ["fire", "{instance}", "withdraw", "--role", "qa_lead"],
        ["available", "{instance}", "--role", "qa_lead"],
        ["explain", "{instance}", "withdraw", "--role", "qa_lead"],
        ["fire", "{instance}", "withdraw", "--as", "qa-lead-1"],
    ],
    ids=["start", "fire", "available", "explain", "fire_without_role"],
)
def test_missing_as_or_role_exits_2(run: Cli, args: list[str]) -> None:
    instance = run.start()
    counts = run.counts()
    code, out, err = run(*[instance if arg == "{instance}" else arg for arg in args])
    assert (code, out) == (2, "")
    assert "Traceback" not in err and "Missing option" in err
    assert run.counts() == counts


def test_now_without_allow_clock_override_exits_2(run: Cli) -> None:
    code, out, err = run("--now", NOW, *start_args(), clock=False)
    assert (code, out) == (2, "")
    assert "--allow-clock-override" in err and "Traceback" not in err
    assert run.counts()["instances"] == 0


def test_an_unreadable_now_is_a_usage_error(run: Cli) -> None:
    code, _, err = run("--now", "yesterday", "--allow-clock-override", "list", clock=False)
    assert "--now" in one_error_line(err)
    assert code == 2


def test_the_same_key_and_request_changes_nothing(run: Cli) -> None:
    first = run.ok(*start_args(), "--key", "start-1")
    assert run.ok(*start_args(), "--key", "start-1") == first  # the same id, no second instance
    instance = first.strip()
    assert run.counts()["instances"] == 1
    request = ["fire", instance, "allocate", *QA_LEAD, *ALLOCATE_OK, "--key", "fire-1", "--json"]
    fired = json.loads(run.ok(*request))
    history, counts = run.json("history", instance), run.counts()
    assert json.loads(run.ok(*request)) == {**fired, "replayed": True} and fired["replayed"] is False
    code, out, _ = run(*request[:-1])
    assert code == 0 and out.startswith(f"{instance} allocate as qa_lead: selected -> allocated; history row 2")
    assert run.json("history", instance) == history and len(history) == 2
    assert run.counts() == counts


def test_the_same_key_with_another_request_exits_4(run: Cli) -> None:
    instance = run.ok(*start_args(), "--key", "start-1").strip()
    run.ok("fire", instance, "allocate", *QA_LEAD, *ALLOCATE_OK, "--key", "fire-1")
    snapshot = run.snapshot(instance)
    code, out, err = run(
        "fire", instance, "allocate", *QA_LEAD, "--set", "auditor_trained=true", "--assign", "auditor=aud-8", "--key", "fire-1"
    )
    assert (code, out) == (4, "")
    assert "'fire-1'" in one_error_line(err)
    code, out, err = run(*start_args(team="South"), "--key", "start-1")
    assert (code, out) == (4, "")
    assert "'start-1'" in one_error_line(err)
    shown, history, counts, keys = run.snapshot(instance)
    assert (shown, history, keys) == (snapshot[0], snapshot[1], snapshot[3])
    assert without_security_log(counts) == without_security_log(snapshot[2])


def test_a_stale_lock_version_exits_4(run: Cli) -> None:
    instance = run.start()
    run.ok("fire", instance, "allocate", *QA_LEAD, *ALLOCATE_OK, "--lock-version", "1")
    shown, history, _, keys = run.snapshot(instance)
    assert shown["lock_version"] == 2
    code, out, err = run("fire", instance, "withdraw", *QA_LEAD, "--set", "withdrawal_reason=case_closed", "--lock-version", "1")
    assert (code, out) == (4, "")
    assert one_error_line(err) == f"Error: instance '{instance}' is at lock_version 2, not 1"
    assert (run.json("show", instance), run.json("history", instance), run.keys()) == (shown, history, keys)
    run.ok("fire", instance, "withdraw", *QA_LEAD, "--set", "withdrawal_reason=case_closed", "--lock-version", "2")
    assert run.json("show", instance)["lock_version"] == 3


def test_a_broken_chain_makes_verify_exit_1(run: Cli) -> None:
    instance = run.start()
    run.ok("fire", instance, "allocate", *QA_LEAD, *ALLOCATE_OK)
    assert run("verify")[0] == 0
    # the append-only triggers stop bugs, not administrators
    unprotect = "DROP TRIGGER history_no_update" if run.is_sqlite else "ALTER TABLE history DISABLE TRIGGER USER"
    run.execute(unprotect, f"UPDATE history SET actor = 'someone-else' WHERE instance_id = '{instance}' AND seq = 2")
    code, out, _ = run("verify")
    assert code == 1
    assert f"BROKEN {instance}: row 2:" in out


# --- --set read by the field's type -------------------------------------------------------


def test_a_string_field_keeps_leading_zeros(run: Cli) -> None:
    instance = run.start(child_ref="0123", team="0123")
    data = run.json("show", instance)["data"]
    assert (data["child_ref"], data["team"]) == ("0123", "0123")


def test_a_date_field_takes_an_iso_date_and_a_list_field_a_flow_list(run: Cli, tmp_path: Path) -> None:
    instance = run.start()
    drive(run, instance, "discussion_held", tmp_path)
    data = run.json("show", instance)["data"]
    assert (data["meeting_date"], data["practitioner_notified_on"]) == ("2026-12-01", "2026-11-16")
    assert data["attendees"] == ["sw-12", "aud-7"]
    assert data["lookback_from"] == "2026-05-16"  # six months before NOW, set by start_review


def test_a_text_field_keeps_a_flow_list_as_text(run: Cli) -> None:
    instance = run.start()
    run.ok("fire", instance, "withdraw", *QA_LEAD, "--set", "withdrawal_reason=other", "--set", "withdrawal_note=[a, b]")
    assert run.json("show", instance)["data"]["withdrawal_note"] == "[a, b]"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (start_args(extensions="x"), "extensions"),
        (start_args(last_audited_on="yesterday"), "last_audited_on"),
        (start_args(case_type="unknown"), "case_type"),
        (start_args(child_ref="lower-case"), "child_ref"),
    ],
    ids=["integer", "date", "values", "pattern"],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_field(run: Cli, args: list[str], field: str) -> None:
    code, out, err = run(*args)
    assert (code, out) == (1, "")
    assert f"'{field}'" in one_error_line(err)
    assert run.counts()["instances"] == 0


def test_an_integer_field_reads_digits_as_a_number(run: Cli) -> None:
    code, _, err = run(*start_args(extensions="3"))
    assert code == 1 and "may not write 'extensions'" in one_error_line(err)  # read as a number: refused as not writable, not as bad type


def test_data_file_problems_are_one_line(run: Cli, tmp_path: Path) -> None:
    instance = run.start()
    bad = tmp_path / "bad.yaml"
    bad.write_text("withdrawal_reason: [case_closed\n", encoding="utf-8")
    code, _, err = run("fire", instance, "withdraw", *QA_LEAD, "--data-file", str(bad))
    assert code == 2 and str(bad) in one_error_line(err)
    bad.write_text("- case_closed\n", encoding="utf-8")
    code, _, err = run("fire", instance, "withdraw", *QA_LEAD, "--data-file", str(bad))
    assert code == 2 and "mapping" in one_error_line(err)
    code, _, err = run("fire", instance, "withdraw", *QA_LEAD, "--data-file", str(tmp_path / "missing.yaml"))
    assert code == 2 and "does not exist" in err and "Traceback" not in err


# --- bugs found ---------------------------------------------------------------------------


def test_a_data_file_that_is_not_utf8_is_one_line(run: Cli, tmp_path: Path) -> None:
    instance = run.start()
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("withdrawal_note: caf\xe9\n".encode("latin-1"))
    code, _, err = run("fire", instance, "withdraw", *QA_LEAD, "--data-file", str(bad))
    assert code in (1, 2)
    one_error_line(err)


@pytest.mark.parametrize("command", ["start", "fire", "available", "explain"])
def test_an_empty_actor_is_one_line(run: Cli, command: str) -> None:
    instance = run.start()
    args = {
        "start": [*start_args()[:2], "--as", "", "--role", "qa_lead", *start_args()[6:]],
        "fire": ["fire", instance, "withdraw", "--as", "", "--role", "qa_lead", "--set", "withdrawal_reason=case_closed"],
        "available": ["available", instance, "--as", "", "--role", "qa_lead"],
        "explain": ["explain", instance, "withdraw", "--as", "", "--role", "qa_lead"],
    }[command]
    code, _, err = run(*args)
    assert code in (1, 2)
    one_error_line(err)


def test_a_blank_actor_is_refused_by_fire(run: Cli) -> None:
    instance = run.start()
    code, _, err = run("fire", instance, "withdraw", "--as", " ", "--role", "qa_lead", "--set", "withdrawal_reason=case_closed")
    assert len(run.json("history", instance)) == 1
    assert code in (1, 2)
    one_error_line(err)


def test_a_huge_limit_is_one_line(run: Cli) -> None:
    run.start()
    code, _, err = run("list", "--limit", "99999999999999999999")
    assert code in (0, 2), err
    if code == 2:
        one_error_line(err)


def test_an_error_naming_input_with_a_newline_is_one_line(run: Cli) -> None:
    code, _, err = run("show", "no\ninstance")
    assert code == 3
    one_error_line(err)


def test_explain_agrees_with_fire_on_a_large_note(run: Cli, tmp_path: Path) -> None:
    instance = run.start()
    note = tmp_path / "note.yaml"
    note.write_text("withdrawal_reason: other\nwithdrawal_note: " + "x" * 600_000 + "\n", encoding="utf-8")
    verdict = run.json("explain", instance, "withdraw", *QA_LEAD, "--data-file", str(note))["allowed"]
    code, _, err = run("fire", instance, "withdraw", *QA_LEAD, "--data-file", str(note))
    # the history payload keeps the data as sent and as changed: 1.2 MB, over the 1 MB kept
    assert (verdict, code) == (False, 1), err
    assert "history payload" in err


# --- a real, terminal-less process -------------------------------------------------------


def python_m_qaflow(run: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QAFLOW_")}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "qaflow", "--workflows", str(WORKFLOWS), "--db", run.url, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=env,
        check=False,
    )


def test_python_m_qaflow_refusal_is_one_line_without_a_traceback(run: Cli) -> None:
    instance = run.start()
    done = python_m_qaflow(run, "fire", instance, "allocate", *PRACTITIONER, *ALLOCATE_OK)
    assert (done.returncode, done.stdout) == (1, "")
    assert "'allocate' is for qa_lead" in one_error_line(done.stderr)
    assert "\x1b[" not in done.stderr


def test_python_m_qaflow_unknown_instance_exits_3(run: Cli) -> None:
    done = python_m_qaflow(run, "show", "nope", "--json")
    assert (done.returncode, done.stdout) == (3, "")
    assert one_error_line(done.stderr) == "Error: there is no instance 'nope'"


def test_python_m_qaflow_json_has_no_markup(run: Cli) -> None:
    instance = run.start()
    done = python_m_qaflow(run, "show", instance, "--json")
    assert done.returncode == 0 and done.stderr == ""
    assert "\x1b[" not in done.stdout
    assert json.loads(done.stdout)["id"] == instance


# --- the access log ----------------------------------------------------------------------


def test_every_read_leaves_one_access_log_row_naming_the_reader(run: Cli) -> None:
    instance = run.start()
    before = len(run.query("SELECT id FROM access_log"))
    run.ok("show", instance, "--as", "inspector-4")
    run.ok("history", instance, "--as", "inspector-4", "--json")
    run.ok("history", instance, "--refusals")  # no --as: the operating-system user
    rows = run.query("SELECT reader, instance_id, action FROM access_log ORDER BY id")
    assert len(rows) == before + 3
    assert rows[-3:-1] == [("inspector-4", instance, "show"), ("inspector-4", instance, "history")]
    reader, read_instance, action = rows[-1]
    assert reader.startswith("os:") and len(reader) > 3 and (read_instance, action) == (instance, "history")
    run.ok("list")  # not a read of an instance's content: no row
    run.ok("verify")
    assert len(run.query("SELECT id FROM access_log")) == before + 3


# --- listing with filters ----------------------------------------------------------------


def test_list_filters_by_assignee_and_computed_values(run: Cli) -> None:
    first = run.start()
    second = run.ok(*start_args()[:-4], "--assign", "practitioner=sw-99", "--assign", "team_manager=tm-3").strip()
    run.ok("fire", first, "allocate", *QA_LEAD, *ALLOCATE_OK)
    ids = [row["id"] for row in run.json("list", "--assignee", "sw-99")]
    assert ids == [second]
    assert [row["id"] for row in run.json("list", "--assignee", "tm-3")] == [first, second]
    assert [row["id"] for row in run.json("list", "--assignee", "tm-3", "--limit", "1")] == [first]
    assert [row["id"] for row in run.json("list", "--assignee", "tm-3", "--after", first)] == [second]
    assert run.json("list", "--assignee", "nobody") == []
    # computed values as text: booleans true/false
    assert [row["id"] for row in run.json("list", "--where", "is_inadequate=false")] == [first, second]
    assert run.json("list", "--where", "is_inadequate=true") == []
    assert run.json("list", "--where", "no_such_value=1") == []
    code, _, err = run("list", "--where", "is_inadequate")
    assert code == 2 and "NAME=VALUE" in one_error_line(err)

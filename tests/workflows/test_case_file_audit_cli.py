"""workflows/case_file_audit.yaml run end to end through the command line, on SQLite.

The routes of tests/workflows/test_case_file_audit_runs.py, as an operator would type them
(`qaflow start`, `fire`, `show`, `history`, `verify`, in process through CliRunner, with the
clock moved on by `--now ... --allow-clock-override`): an Inadequate audit straight to
moderation and `closed`; a Good audit the practitioner disputes, through the moderation
draw (not selected, and selected) to `closed`; and a withdrawal. After every step: the
state `show --json` gives, the number of history rows, and `verify` of the instance.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qaflow.cli import cli
from tests.cli_support import QA_LEAD, start_args

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday

AUDITOR = ("--as", "aud-7", "--role", "auditor")
PRACTITIONER = ("--as", "sw-12", "--role", "practitioner")
TEAM_MANAGER = ("--as", "tm-3", "--role", "team_manager")
MODERATOR = ("--as", "mod-2", "--role", "moderator")
DOMAINS = ("voice_of_child", "assessment", "planning", "pace_and_impact", "multi_agency", "management_oversight", "recording")

INADEQUATE_FINDINGS = """\
# The auditor's findings, as a QA lead would write them in a file for --data-file.
domains:
  voice_of_child: {grade: inadequate, evidence: "The child's wishes are not recorded in the plan or the visits."}
  assessment: {grade: requires_improvement, evidence: "The assessment is out of date since the move in January."}
  planning: {grade: inadequate, evidence: The plan has not been reviewed since the conference.}
  pace_and_impact: {grade: inadequate, evidence: Drift of four months between the review and the core group.}
  multi_agency: {grade: requires_improvement, evidence: School attends core groups; health does not.}
  management_oversight: {grade: inadequate, evidence: No recorded supervision for three months.}
  recording: {grade: requires_improvement, evidence: Case notes are late but accurate.}
overall_grade: inadequate
overall_rationale: The plan is not reviewed and the child's wishes are not recorded.
strengths:
  - Visits are regular and the child is seen alone
areas_for_development:
  - Record the child's wishes and feelings in every visit
actions:
  - description: Review the child protection plan with the child's views recorded
    owner: tm-3
    due: 2026-04-30
    success_measure: The plan records the child's wishes and is reviewed at the next conference
"""


def flow_domains(grade: str) -> str:
    """All seven judgements as one YAML flow mapping, for `--set domains=...`."""
    judgements = (f'{name}: {{grade: {grade}, evidence: "Evidence for {name.replace("_", " ")}, from the record."}}' for name in DOMAINS)
    return "{" + ", ".join(judgements) + "}"


class Audit:
    """One audit on a fresh SQLite database, driven through the command line."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.tmp_path = tmp_path
        self.url = url
        self.clock = START
        self.rows = 0
        self.run("db", "upgrade")
        out = self.run(*start_args())
        self.id = out.strip()
        self.rows = 1
        self.check("selected")

    def invoke(self, *args: str) -> tuple[int, str, str]:
        now = self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        result = CliRunner().invoke(
            cli, ["--workflows", str(ROOT / "workflows"), "--db", self.url, "--now", now, "--allow-clock-override", *args]
        )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"qaflow {' '.join(args)} raised {result.exception!r}") from result.exception
        return result.exit_code, result.stdout, result.stderr

    def run(self, *args: str) -> str:
        code, out, err = self.invoke(*args)
        assert code == 0, f"qaflow {' '.join(args)}: exit {code}: {err}"
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    def today(self) -> str:
        return self.clock.date().isoformat()

    def show(self) -> dict[str, Any]:
        shown: dict[str, Any] = self.json("show", self.id, "--as", "qa-lead-1")
        return shown

    def check(self, state: str) -> None:
        """The instance is in `state`, with `self.rows` history rows, and its chain verifies."""
        assert self.show()["state"] == state
        history = self.json("history", self.id, "--as", "qa-lead-1")
        assert [row["seq"] for row in history] == list(range(1, self.rows + 1))
        code, out, _ = self.invoke("verify", self.id)
        assert (code, out) == (0, "1 instance(s) checked: 0 broken, 0 redacted\n")

    def fire(self, trigger: str, who: tuple[str, ...], *args: str, to: str, days: int = 1) -> dict[str, Any]:
        """Fire `trigger` a few days on; it is taken and the instance ends up in `to`."""
        self.clock += dt.timedelta(days=days)
        result: dict[str, Any] = self.json("fire", self.id, trigger, *who, *args)
        self.rows += 1
        assert (result["trigger"], result["seq"], result["state"]) == (trigger, self.rows, to)
        self.check(to)
        return result

    def refused(self, trigger: str, who: tuple[str, ...], *args: str) -> str:
        """Fire `trigger` and expect a refusal: one line, and nothing moves."""
        before = self.show()
        code, out, err = self.invoke("fire", self.id, trigger, *who, *args)
        assert (code, out) == (1, "")
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert self.show() == before
        self.check(before["state"])
        return err.strip()

    def through_findings(self, grade: str) -> None:
        """Selection to shared findings: allocation, the meeting, the review and the findings."""
        result = self.fire("allocate", QA_LEAD, "--set", "auditor_trained=true", "--assign", "auditor=aud-7", to="allocated")
        assert result["changes"] == {"due_on": "2026-03-31"}  # allocated on 3 March, 28 days
        assert result["notifications"][0]["recipients"] == ["aud-7"]
        self.fire(
            "arrange_meeting",
            AUDITOR,
            "--set",
            f"practitioner_notified_on={(self.clock + dt.timedelta(days=1)).date().isoformat()}",
            "--set",
            "meeting_date=2026-03-12",
            to="meeting_arranged",
        )
        self.fire("start_review", AUDITOR, to="in_review", days=7)
        assert self.show()["data"]["lookback_from"] == "2025-09-11"
        self.fire(
            "record_discussion",
            AUDITOR,
            "--set",
            "meeting_held=true",
            "--set",
            "discussion_note=Reflective discussion held in person.",
            "--set",
            "attendees=[sw-12, aud-7]",
            to="discussion_held",
        )
        if grade == "inadequate":
            findings = self.tmp_path / "findings.yaml"
            findings.write_text(INADEQUATE_FINDINGS, encoding="utf-8")
            self.fire("draft_findings", AUDITOR, "--data-file", str(findings), to="findings_drafted", days=3)
        else:
            self.fire(
                "draft_findings",
                AUDITOR,
                "--set",
                f"domains={flow_domains(grade)}",
                "--set",
                f"overall_grade={grade}",
                "--set",
                "overall_rationale=Consistent, purposeful work; the child's plan is progressing.",
                "--set",
                "strengths=[Visits are regular and the child is seen alone, 'Good work with school: attendance up']",
                to="findings_drafted",
                days=3,
            )
        data = self.show()["data"]
        assert data["domains"]["voice_of_child"]["grade"] == data["overall_grade"] == grade
        assert set(data["domains"]) == set(DOMAINS)
        self.fire("share_findings", AUDITOR, to="findings_shared")


def test_inadequate_audit_goes_straight_to_moderation_and_closes(tmp_path: Path, db_url: str) -> None:
    audit = Audit(tmp_path, db_url)
    audit.through_findings("inadequate")
    assert audit.show()["data"]["actions"][0]["due"] == "2026-04-30"
    audit.fire("respond", PRACTITIONER, "--set", "practitioner_response=agree", to="response_received", days=2)
    audit.fire("complete", AUDITOR, "--set", "audit_document_ref=DOC-88412", to="awaiting_oversight")
    result = audit.fire(
        "record_oversight",
        TEAM_MANAGER,
        "--set",
        "oversight_note_ref=MO-551",
        "--set",
        "oversight_note=Monthly supervision check of the actions.",
        to="awaiting_moderation",
    )
    assert result["changes"]["moderation_basis"] == "inadequate"
    assert result["notifications"][0]["urgent"] is True and result["notifications"][0]["roles"] == ["service_manager"]
    result = audit.fire("allocate_moderator", QA_LEAD, "--assign", "moderator=mod-2", to="awaiting_moderation")
    assert result["to"] is None and result["assigned"] == {"moderator": "mod-2"}
    assert "final grade is the auditor's grade (inadequate)" in audit.refused(
        "record_moderation_outcome", MODERATOR, "--set", "moderation_outcome=agree", "--set", "final_grade=good"
    )
    audit.fire(
        "record_moderation_outcome",
        MODERATOR,
        "--set",
        "moderation_outcome=agree",
        "--set",
        "final_grade=inadequate",
        to="closed",
        days=5,
    )
    shown = audit.show()
    assert shown["data"]["moderated"] is True and shown["data"]["final_grade"] == "inadequate"
    assert shown["computed"]["is_inadequate"] is True and shown["computed"]["regraded"] is False
    assert shown["assignees"] == {"auditor": "aud-7", "moderator": "mod-2", "practitioner": "sw-12", "team_manager": "tm-3"}
    assert audit.rows == 12
    urgent = [message for message in audit.json("outbox") if message["instance_id"] == audit.id and message["urgent"]]
    assert [message["roles"] for message in urgent] == [["service_manager"]]
    assert audit.invoke("verify")[0] == 0


@pytest.mark.parametrize("selected", [False, True], ids=["not_selected", "selected"])
def test_good_audit_goes_through_the_moderation_draw(tmp_path: Path, db_url: str, selected: bool) -> None:
    audit = Audit(tmp_path, db_url)
    audit.through_findings("good")
    assert audit.refused("respond", PRACTITIONER, "--set", "practitioner_response=disagree").endswith(
        "Please add a comment when you agree with comments or disagree."
    )
    result = audit.fire(
        "respond",
        PRACTITIONER,
        "--set",
        "practitioner_response=disagree",
        "--set",
        "practitioner_comment=Planning was better than graded.",
        to="response_received",
    )
    assert result["changes"]["dispute_flagged"] is True
    audit.fire(
        "complete",
        AUDITOR,
        "--set",
        "audit_document_ref=DOC-88413",
        "--set",
        "auditor_response=Grades stand; the dispute goes to moderation.",
        to="awaiting_oversight",
    )
    audit.refused("record_oversight", TEAM_MANAGER, "--set", "oversight_note_ref=MO-552")  # needs the note too
    audit.fire(
        "record_oversight",
        TEAM_MANAGER,
        "--set",
        "oversight_note_ref=MO-552",
        "--set",
        "oversight_note=Actions to be reviewed in supervision.",
        to="awaiting_moderation_draw",
    )
    assert audit.show()["computed"]["must_moderate"] is True
    if selected:
        audit.fire("moderation_selected", QA_LEAD, "--set", "moderation_basis=dispute", to="awaiting_moderation", days=20)
        audit.fire("allocate_moderator", QA_LEAD, "--assign", "moderator=mod-2", to="awaiting_moderation")
        audit.fire(
            "record_moderation_outcome",
            MODERATOR,
            "--set",
            "moderation_outcome=disagree",
            "--set",
            "final_grade=requires_improvement",
            "--set",
            "moderation_note=Planning is not yet good: the plan lacks timescales.",
            to="closed",
        )
        expected_rows, final_grade = 13, "requires_improvement"
    else:
        result = audit.fire("moderation_not_selected", QA_LEAD, to="closed", days=20)
        assert result["role"] == "qa_lead" and result["changes"] == {"final_grade": "good"}
        expected_rows, final_grade = 11, "good"
    shown = audit.show()
    assert (shown["state"], shown["data"]["final_grade"], shown["data"]["overall_grade"]) == ("closed", final_grade, "good")
    assert shown["computed"]["regraded"] is selected
    assert audit.rows == expected_rows
    refusals = [row for row in audit.json("history", audit.id, "--refusals") if row.get("refused")]
    assert [row["trigger"] for row in refusals] == ["respond", "record_oversight"]  # in the security log, never history rows
    assert audit.invoke("verify")[0] == 0


def test_withdrawal_after_an_extension_and_a_safeguarding_concern(tmp_path: Path, db_url: str) -> None:
    audit = Audit(tmp_path, db_url)
    audit.fire("allocate", QA_LEAD, "--set", "auditor_trained=true", "--assign", "auditor=aud-7", to="allocated")
    result = audit.fire("extend_deadline", TEAM_MANAGER, "--set", "extension_reason=Auditor on leave for a week.", to="allocated")
    assert result["changes"] == {"extensions": 1, "due_on": "2026-04-07"}
    assert "a further one needs the QA lead" in audit.refused("extend_deadline", TEAM_MANAGER, "--set", "extension_reason=Still on leave.")
    concern = audit.fire("safeguarding_concern", AUDITOR, "--set", "safeguarding_note=Referred to MASH on the day.", to="allocated")
    assert concern["to"] is None and concern["changes"] == {"safeguarding_concerns": 1}
    result = audit.fire(
        "withdraw",
        QA_LEAD,
        "--set",
        "withdrawal_reason=case_closed",
        "--comment",
        "Case closed by the service on 10 March.",
        to="withdrawn",
    )
    assert result["changes"] == {"withdrawal_reason": "case_closed", "case_status": "closed"}
    history = audit.json("history", audit.id)
    assert [row["trigger"] for row in history] == ["@start", "allocate", "extend_deadline", "safeguarding_concern", "withdraw"]
    assert history[-1]["comment"] == "Case closed by the service on 10 March."
    assert history[2]["changes"] == {"extensions": 1, "due_on": "2026-04-07"}
    assert audit.rows == 5
    assert "a final state" in audit.refused("allocate", QA_LEAD, "--set", "auditor_trained=true", "--assign", "auditor=aud-8")
    assert audit.invoke("verify")[0] == 0

"""workflows/case_file_audit.yaml run end to end on the in-memory engine, with realistic data.

Three routes from selection: an Inadequate audit straight to moderation and closed; a Good
audit the practitioner disputes, through the moderation draw (selected, and not selected);
and a withdrawal. Each ends in its final state with the history it should have and a chain
that verifies.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from engine.errors import TransitionRefusedError
from engine.language.loader import load_workflow
from engine.results import Actor, FireResult
from engine.runtime.engine import Engine
from engine.store.memory import MemoryStore
from engine.time.clock import FixedClock

WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "case_file_audit.yaml"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday

QA_LEAD = Actor("qa-lead-1", frozenset({"qa_lead"}))
AUDITOR = Actor("aud-7")  # roles assigned on the instance: nothing to claim
PRACTITIONER = Actor("sw-12")
TEAM_MANAGER = Actor("tm-3")
MODERATOR = Actor("mod-2")
DOMAINS = ("voice_of_child", "assessment", "planning", "pace_and_impact", "multi_agency", "management_oversight", "recording")


class Audit:
    """One audit instance and the clock it runs on."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.clock = FixedClock(START)
        self.engine = Engine(self.store, clock=self.clock)
        self.engine.deploy(load_workflow(WORKFLOW))
        view = self.engine.start(
            "case_file_audit",
            QA_LEAD,
            data={"child_ref": "CF-2041", "case_type": "cp", "team": "North", "case_status": "open", "selection_method": "random"},
            assign={"practitioner": PRACTITIONER.id, "team_manager": TEAM_MANAGER.id},
        )
        self.id = view.id

    def fire(self, trigger: str, actor: Actor, days: int = 1, **kwargs: Any) -> FireResult:
        self.clock.advance(dt.timedelta(days=days))
        return self.engine.fire(self.id, trigger, actor, **kwargs)

    def today(self) -> str:
        return self.clock.now().date().isoformat()

    def state(self) -> str:
        return self.engine.show(self.id).state


def findings(grade: str) -> dict[str, Any]:
    return {
        "domains": {name: {"grade": grade, "evidence": f"Evidence for {name.replace('_', ' ')} from the record."} for name in DOMAINS},
        "overall_grade": grade,
        "overall_rationale": "The plan is not reviewed and the child's wishes are not recorded."
        if grade == "inadequate"
        else "Consistent work.",
        "strengths": ["Visits are regular and the child is seen alone"],
    }


def through_findings(audit: Audit, grade: str, actions: list[dict[str, Any]]) -> None:
    """Selection to shared findings: allocation, the meeting, the review and the findings."""
    result = audit.fire("allocate", QA_LEAD, data={"auditor_trained": True}, assign={"auditor": AUDITOR.id})
    assert result.changes == {"due_on": "2026-03-31"}  # allocated on 3 March, 28 days
    assert result.notifications[0].recipients == (AUDITOR.id,)
    audit.fire("arrange_meeting", AUDITOR, data={"practitioner_notified_on": audit.today(), "meeting_date": "2026-03-12"})
    audit.fire("start_review", AUDITOR, days=7)
    assert audit.engine.show(audit.id).data["lookback_from"] == dt.date(2025, 9, 11)
    audit.fire(
        "record_discussion",
        AUDITOR,
        data={"meeting_held": True, "discussion_note": "Reflective discussion held in person.", "attendees": [PRACTITIONER.id, AUDITOR.id]},
    )
    audit.fire("draft_findings", AUDITOR, days=3, data={**findings(grade), "actions": actions})
    audit.fire("share_findings", AUDITOR)
    assert audit.state() == "findings_shared"


ACTIONS = [
    {
        "description": "Review the child protection plan with the child's views recorded",
        "owner": TEAM_MANAGER.id,
        "due": "2026-04-30",
        "success_measure": "The plan records the child's wishes and is reviewed at the next conference",
    }
]


def test_inadequate_audit_goes_straight_to_moderation_and_closes() -> None:
    audit = Audit()
    through_findings(audit, "inadequate", ACTIONS)
    audit.fire("respond", PRACTITIONER, days=2, data={"practitioner_response": "agree"})
    audit.fire("complete", AUDITOR, data={"audit_document_ref": "DOC-88412"})
    assert audit.state() == "awaiting_oversight"
    result = audit.fire(
        "record_oversight", TEAM_MANAGER, data={"oversight_note_ref": "MO-551", "oversight_note": "Monthly supervision check."}
    )
    assert (result.to_state, result.changes) == (
        "awaiting_moderation",
        {"oversight_note_ref": "MO-551", "oversight_note": "Monthly supervision check.", "moderation_basis": "inadequate"},
    )
    assert result.notifications[0].urgent
    audit.fire("allocate_moderator", QA_LEAD, assign={"moderator": MODERATOR.id})
    result = audit.fire("record_moderation_outcome", MODERATOR, days=5, data={"moderation_outcome": "agree", "final_grade": "inadequate"})
    assert result.state == "closed"
    view = audit.engine.show(audit.id)
    assert view.data["moderated"] is True and view.computed["is_inadequate"] is True and view.computed["regraded"] is False
    history = audit.engine.history(audit.id)
    assert len(history) == 12 and [entry.seq for entry in history] == list(range(1, 13))
    assert audit.engine.verify().ok


@pytest.mark.parametrize("selected", [False, True])
def test_good_audit_goes_through_the_moderation_draw(selected: bool) -> None:
    audit = Audit()
    through_findings(audit, "good", [])
    with pytest.raises(TransitionRefusedError) as refused:
        audit.fire("respond", PRACTITIONER, data={"practitioner_response": "disagree"})
    assert refused.value.all_reasons[0].message == "Please add a comment when you agree with comments or disagree."
    result = audit.fire(
        "respond", PRACTITIONER, data={"practitioner_response": "disagree", "practitioner_comment": "Planning was better than graded."}
    )
    assert result.changes["dispute_flagged"] is True
    audit.fire(
        "complete", AUDITOR, data={"audit_document_ref": "DOC-88413", "auditor_response": "Grades stand; the dispute goes to moderation."}
    )
    audit.fire(
        "record_oversight", TEAM_MANAGER, data={"oversight_note_ref": "MO-552", "oversight_note": "Actions to be reviewed in supervision."}
    )
    assert audit.state() == "awaiting_moderation_draw"
    assert audit.engine.show(audit.id).computed["must_moderate"] is True
    if selected:
        audit.fire("moderation_selected", audit.engine.system_actor(on_behalf_of=QA_LEAD.id), days=20, data={"moderation_basis": "dispute"})
        audit.fire("allocate_moderator", QA_LEAD, assign={"moderator": MODERATOR.id})
        audit.fire(
            "record_moderation_outcome",
            MODERATOR,
            data={"moderation_outcome": "disagree", "final_grade": "requires_improvement", "moderation_note": "Planning is not yet good."},
        )
        expected_rows, final_grade = 13, "requires_improvement"
    else:
        result = audit.fire("moderation_not_selected", audit.engine.system_actor(on_behalf_of=QA_LEAD.id), days=20)
        assert result.role == "system" and result.changes == {"final_grade": "good"}
        expected_rows, final_grade = 11, "good"
    view = audit.engine.show(audit.id)
    assert (view.state, view.data["final_grade"]) == ("closed", final_grade)
    assert view.computed["regraded"] is selected
    assert len(audit.engine.history(audit.id)) == expected_rows
    assert audit.engine.verify().ok


def test_withdrawal_after_an_extension_and_a_safeguarding_concern() -> None:
    audit = Audit()
    audit.fire("allocate", QA_LEAD, data={"auditor_trained": True}, assign={"auditor": AUDITOR.id})
    result = audit.fire("extend_deadline", TEAM_MANAGER, data={"extension_reason": "Auditor on leave for a week."})
    assert result.changes == {"extensions": 1, "due_on": "2026-04-07"}
    assert [pending.kind for pending in result.pending_effects] == ["extend"]  # deadlines arrive with the time issue
    with pytest.raises(TransitionRefusedError) as refused:
        audit.fire("extend_deadline", TEAM_MANAGER, data={"extension_reason": "Still on leave."})
    assert "further one needs the QA lead" in str(refused.value)
    concern = audit.fire("safeguarding_concern", AUDITOR, data={"safeguarding_note": "Referred to MASH on the day."})
    assert concern.to_state is None and concern.changes == {"safeguarding_concerns": 1}
    result = audit.fire("withdraw", QA_LEAD, data={"withdrawal_reason": "case_closed"})
    assert (result.state, result.changes) == ("withdrawn", {"withdrawal_reason": "case_closed", "case_status": "closed"})
    history = audit.engine.history(audit.id)
    assert [entry.trigger for entry in history] == ["@start", "allocate", "extend_deadline", "safeguarding_concern", "withdraw"]
    assert history[3].data == {"safeguarding_note": "Referred to MASH on the day."}  # cleared, but the history keeps it
    assert audit.engine.verify().ok
    assert len(audit.store.security_log) == 1

"""Property tests of the runtime: random event sequences on workflows/case_file_audit.yaml.

Random triggers (some unknown), actors (assigned people, directory roles, strangers, people
claiming `system`, the engine itself), data (plausible values, wrong types, unknown fields)
and assignments (including ones that breach separation of duties). Whatever happens:

- every event is either accepted or refused with `TransitionRefusedError`, nothing else;
- `explain` agrees with `fire` on whether the event is allowed (the fast path and the full
  judgement never disagree);
- a refused event changes nothing the store keeps, and adds one security-log entry;
- only declared states are ever reached, history `seq` runs 1..n with no gap, and `verify`
  passes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import TransitionRefusedError
from engine.language import graph
from engine.language.loader import load_workflow
from engine.language.workflow import Workflow
from engine.results import Actor
from engine.runtime.engine import Engine
from engine.store.memory import MemoryStore
from engine.time.clock import FixedClock

WORKFLOW: Workflow = load_workflow(Path(__file__).resolve().parents[2] / "workflows" / "case_file_audit.yaml")
SPEC = WORKFLOW.spec
TRIGGERS = [*sorted({t.trigger for t in SPEC.transitions}), "no_such_trigger"]
FIELDS_BY_TRIGGER: dict[str, list[str]] = {}
for _transition in SPEC.transitions:
    FIELDS_BY_TRIGGER.setdefault(_transition.trigger, [])
    FIELDS_BY_TRIGGER[_transition.trigger] += [
        f for f in (*_transition.needs, *_transition.writes) if f not in FIELDS_BY_TRIGGER[_transition.trigger]
    ]

DOMAIN_NAMES = ("voice_of_child", "assessment", "planning", "pace_and_impact", "multi_agency", "management_oversight", "recording")
ACTION = {"description": "Update the plan", "owner": "tm-1", "due": "2026-05-01", "success_measure": "Plan reviewed"}
VALUES: dict[str, list[Any]] = {
    "auditor_trained": [True, False],
    "reallocation_reason": ["Auditor absent"],
    "practitioner_notified_on": ["2026-03-02", "2026-03-09", "2031-01-01"],
    "meeting_date": ["2026-03-12", "2026-03-25", "2026-02-01"],
    "lookback_from": ["2025-01-01", "2025-12-01"],
    "lookback_reason": ["Long history"],
    "meeting_held": [True, False],
    "discussion_note": ["Held by phone"],
    "attendees": [["sw-1", "au-1"]],
    "domains": [{name: {"grade": grade, "evidence": "Seen"} for name in DOMAIN_NAMES} for grade in ("good", "inadequate")],
    "overall_grade": ["good", "requires_improvement", "inadequate"],
    "overall_rationale": ["Because"],
    "strengths": [["Child seen alone"], []],
    "areas_for_development": [["Planning"]],
    "actions": [[], [ACTION], [{"description": "No owner"}]],
    "revision_reason": ["Practitioner's comments"],
    "practitioner_response": ["agree", "agree_with_comments", "disagree"],
    "practitioner_comment": ["Fair"],
    "auditor_response": ["Grades stand"],
    "audit_document_ref": ["DOC-1"],
    "oversight_note_ref": ["MO-1"],
    "oversight_note": ["Supervision"],
    "moderation_basis": ["random", "dispute"],
    "moderation_outcome": ["agree", "disagree"],
    "moderation_note": ["Looked again"],
    "final_grade": ["good", "inadequate"],
    "extension_reason": ["Leave"],
    "withdrawal_reason": ["case_closed", "other", "child_moved"],
    "withdrawal_note": ["Moved area"],
    "safeguarding_note": ["Referred"],
}
JUNK: list[dict[str, Any]] = [
    {"no_such_field": 1},
    {"meeting_date": 5},
    {"overall_grade": "excellent"},
    {"child_ref": None},
    {"extensions": 1.5},
]
PEOPLE = ["qa-1", "au-1", "au-2", "sw-1", "tm-1", "mod-1", "sm-1", "stranger"]
DIRECTORY = ["qa_lead", "qa_admin", "service_manager", "auditor", "moderator", "system"]
ASSIGNABLE = ["auditor", "moderator", "practitioner", "team_manager"]


def fresh() -> tuple[Engine, MemoryStore, FixedClock, str]:
    store = MemoryStore()
    clock = FixedClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    engine = Engine(store, clock=clock)
    engine.deploy(WORKFLOW)
    view = engine.start(
        "case_file_audit",
        Actor("qa-1", frozenset({"qa_lead"})),
        data={"child_ref": "CF-1", "case_type": "cin", "team": "North", "case_status": "open", "selection_method": "random"},
        assign={"practitioner": "sw-1", "team_manager": "tm-1"},
    )
    return engine, store, clock, view.id


@st.composite
def events(draw: st.DrawFn, engine: Engine, instance: str) -> tuple[str, Actor, dict[str, Any] | None, dict[str, str] | None]:
    """An event, usually one the instance's state has a transition for, by someone who may
    well hold its role, with most of its fields; sometimes anything at all."""
    view = engine.show(instance)
    here = [t for t in SPEC.transitions if view.state in graph.sources(SPEC, t)]
    # Mostly transitions that move on (withdrawing ends the run early), so runs get deep.
    onward = [t for t in here if t.trigger != "withdraw" and t.to not in (None, view.state)] or here
    assigns: list[str] = ASSIGNABLE
    if onward and draw(st.integers(0, 4)) > 0:
        transition = draw(st.sampled_from(onward if draw(st.integers(0, 9)) else here))
        trigger, role = transition.trigger, draw(st.sampled_from(transition.by))
        assigns = transition.assigns or ASSIGNABLE
    else:
        trigger, role = draw(st.sampled_from(TRIGGERS)), draw(st.sampled_from(DIRECTORY))
    pick = draw(st.integers(0, 5))
    if role == "system" and pick:
        actor: Actor = engine.system_actor(on_behalf_of="qa-1")
    elif role in view.assignees and pick:
        actor = Actor(view.assignees[role])
    elif pick:
        actor = Actor(draw(st.sampled_from(PEOPLE)), frozenset({role} - {"system"}))
    else:
        actor = Actor(draw(st.sampled_from(PEOPLE)), frozenset(draw(st.lists(st.sampled_from(DIRECTORY), max_size=2))))
    fields = FIELDS_BY_TRIGGER.get(trigger, [])
    chosen = draw(st.lists(st.sampled_from(fields), unique=True)) if fields and not draw(st.integers(0, 3)) else fields
    data: dict[str, Any] | None = {name: draw(st.sampled_from(VALUES[name])) for name in chosen} or None
    if draw(st.integers(0, 7)) == 0:
        data = {**(data or {}), **draw(st.sampled_from(JUNK))}
    assign = None
    if trigger in ("allocate", "reallocate", "allocate_moderator") or draw(st.integers(0, 9)) == 0:
        assign = {draw(st.sampled_from(assigns)): draw(st.sampled_from(PEOPLE))}
    return trigger, actor, data, assign


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_events_keep_every_invariant(data: st.DataObject) -> None:
    engine, store, clock, instance = fresh()
    states = set(SPEC.states)
    accepted = 0
    for _ in range(data.draw(st.integers(10, 40), label="events")):
        trigger, actor, payload, assign = data.draw(events(engine, instance))
        clock.advance(dt.timedelta(days=data.draw(st.integers(0, 6))))
        explained = engine.explain(instance, trigger, actor, data=payload, assign=assign)
        before, log = store.snapshot(), len(store.security_log)
        try:
            result = engine.fire(instance, trigger, actor, data=payload, assign=assign)
        except TransitionRefusedError as exc:
            assert not explained.allowed, f"explain allowed {trigger} but fire refused it: {exc}"
            assert exc.all_reasons, "a refusal always has a reason"
            assert store.snapshot() == before
            assert len(store.security_log) == log + 1
            continue
        accepted += 1
        assert explained.allowed, f"fire took {trigger} but explain said: {explained.summary()}"
        assert (explained.to_state, explained.role) == (result.to_state, result.role)
        assert result.state in states
    history = engine.history(instance)
    assert [entry.seq for entry in history] == list(range(1, accepted + 2))
    assert all(entry.to_state is None or entry.to_state in states for entry in history)
    assert engine.show(instance).state in states
    assert engine.verify().ok

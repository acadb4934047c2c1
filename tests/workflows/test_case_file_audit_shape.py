"""The shape of workflows/case_file_audit.yaml, checked fast and without the loader.

These tests read the file with `yaml.safe_load` and the pydantic model only, so they keep
working while the loader and lint change; `qaflow validate` remains the full check. They
look at structure (states, roles, triggers, ways out), never at run-time behaviour.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Set
from pathlib import Path

import pytest
import yaml

from engine.language.definition import (
    CancelChildrenEffect,
    Effect,
    FireParentEffect,
    NotifyEffect,
    SpawnEffect,
    TransitionSpec,
    WorkflowSpec,
)

WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "case_file_audit.yaml"

EXPECTED_STATES = {
    "selected",
    "allocated",
    "meeting_arranged",
    "in_review",
    "discussion_held",
    "findings_drafted",
    "findings_shared",
    "response_received",
    "awaiting_oversight",
    "awaiting_moderation_draw",
    "awaiting_moderation",
    "closed",
    "withdrawn",
}
EXPECTED_ROLES = {"qa_lead", "qa_admin", "auditor", "practitioner", "team_manager", "service_manager", "moderator"}


@pytest.fixture(scope="module")
def text() -> str:
    return WORKFLOW.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def spec(text: str) -> WorkflowSpec:
    return WorkflowSpec.model_validate(yaml.safe_load(text))


def sources(spec: WorkflowSpec, transition: TransitionSpec) -> list[str]:
    if "*" in transition.from_:
        return [name for name, state in spec.states.items() if not state.final]
    return list(transition.from_)


def targets(spec: WorkflowSpec, transition: TransitionSpec, source: str) -> set[str]:
    """Where a transition goes from `source` (`@previous`: any state that can enter `source`)."""
    if transition.to is None:
        return set()
    if transition.to == "@previous":
        return {before for t in spec.transitions if t.to == source for before in sources(spec, t)}
    return {transition.to}


def reachable(spec: WorkflowSpec, start: str, stop_at: Set[str] = frozenset()) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        state = queue.popleft()
        if state in stop_at:
            continue
        for transition in spec.transitions:
            if state in sources(spec, transition):
                for target in targets(spec, transition, state) - seen:
                    seen.add(target)
                    queue.append(target)
    return seen


def handled_from(spec: WorkflowSpec, trigger: str) -> set[str]:
    """States in which `system` can fire `trigger`."""
    return {
        source
        for transition in spec.transitions
        if transition.trigger == trigger and "system" in transition.by
        for source in sources(spec, transition)
    }


def effects(spec: WorkflowSpec) -> Iterator[Effect]:
    for transition in spec.transitions:
        yield from transition.do
    for state in spec.states.values():
        yield from state.on_enter


def test_header(text: str, spec: WorkflowSpec) -> None:
    assert text.splitlines()[0] == "# yaml-language-server: $schema=schema/workflow.schema.json"
    assert spec.workflow == WORKFLOW.stem
    assert spec.version >= 1
    assert spec.title and spec.description


def test_states(spec: WorkflowSpec) -> None:
    assert set(spec.states) == EXPECTED_STATES
    assert spec.initial == "selected"
    assert {name for name, state in spec.states.items() if state.final} == {"closed", "withdrawn"}


def test_transitions_name_declared_states(spec: WorkflowSpec) -> None:
    for transition in spec.transitions:
        for source in sources(spec, transition):
            assert source in spec.states, f"{transition.trigger}: unknown source {source!r}"
            assert not spec.states[source].final, f"{transition.trigger} leaves final state {source!r}"
        assert transition.to in (None, "@previous", *spec.states), f"{transition.trigger}: unknown target {transition.to!r}"


def test_roles(spec: WorkflowSpec) -> None:
    assert set(spec.roles) >= EXPECTED_ROLES
    declared = set(spec.roles) | {"system"}
    for transition in spec.transitions:
        assert transition.by, f"{transition.trigger} says nobody may fire it"
        assert set(transition.by) <= declared, transition.trigger
        assert set(transition.assigns) <= set(spec.roles), transition.trigger
    assert set(spec.start.by) <= declared
    for effect in effects(spec):
        if isinstance(effect, NotifyEffect):
            assert set(effect.notify.to) <= set(spec.roles)
    for pair in spec.separate:
        assert set(pair) <= set(spec.roles)


def test_separation_of_duties(spec: WorkflowSpec) -> None:
    pairs = {frozenset(pair) for pair in spec.separate}
    for pair in (("auditor", "practitioner"), ("auditor", "team_manager"), ("moderator", "auditor")):
        assert frozenset(pair) in pairs


def test_assignments(spec: WorkflowSpec) -> None:
    assert set(spec.start.assigns) == {"practitioner", "team_manager"}
    allocate = [t for t in spec.transitions if t.trigger == "allocate"]
    assert allocate and allocate[0].assigns == ["auditor"] and allocate[0].by == ["qa_lead"]


def test_timer_triggers_are_handled_in_their_state(spec: WorkflowSpec) -> None:
    for name, state in spec.states.items():
        for timer in state.timers:
            assert name in handled_from(spec, timer.fire), f"timer {timer.fire!r} of {name!r} is not handled there"


def test_deadline_triggers_are_handled_wherever_pending(spec: WorkflowSpec) -> None:
    finals = {name for name, state in spec.states.items() if state.final}
    for name, deadline in spec.deadlines.items():
        arm = deadline.from_.entered or spec.initial
        pending = reachable(spec, arm, set(deadline.until)) - set(deadline.until) - finals
        assert pending, f"deadline {name!r} is never pending"
        fired = [r.fire for r in deadline.reminders] + [e.fire for e in deadline.escalations]
        fired += [deadline.on_breach] if deadline.on_breach else []
        for trigger in fired:
            missing = pending - handled_from(spec, trigger)
            assert not missing, f"{name}: {trigger!r} is not handled in {sorted(missing)}"


def test_every_state_reachable_and_every_open_state_has_a_way_out(spec: WorkflowSpec) -> None:
    assert reachable(spec, spec.initial) == set(spec.states)
    for name, state in spec.states.items():
        if state.final:
            continue
        exits = {
            target for transition in spec.transitions if name in sources(spec, transition) for target in targets(spec, transition, name)
        }
        assert exits - {name}, f"{name!r} has no way out"


def test_inadequate_goes_straight_to_moderation_and_tells_the_head_of_service(spec: WorkflowSpec) -> None:
    oversight = [t for t in spec.transitions if t.trigger == "record_oversight"]
    assert {t.to for t in oversight} == {"awaiting_moderation", "awaiting_moderation_draw"}
    inadequate = next(t for t in oversight if t.to == "awaiting_moderation")
    notified = {role for e in inadequate.do if isinstance(e, NotifyEffect) for role in e.notify.to}
    assert "service_manager" in notified


def test_children_are_not_wired_yet(spec: WorkflowSpec) -> None:
    # The children issue adds spawned audit_action and moderation instances.
    for effect in effects(spec):
        assert not isinstance(effect, (SpawnEffect, FireParentEffect, CancelChildrenEffect))

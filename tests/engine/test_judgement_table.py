"""One judgement: the ordered table of checks in engine.runtime.candidate (STYLE "qaflow as built").

The fast path ("the first reason or none") and the full list of reasons are two walks of the
same table, so they can't disagree; these tests pin what the table is: its order, which
checks each rule's table keeps, and that a refusal lists its reasons in that order.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from engine.errors import TransitionRefusedError
from engine.language.loader import load_workflow, load_workflow_text
from engine.results import Actor
from engine.runtime import candidate
from engine.runtime.candidate import FIRE_CHECKS, START_CHECKS, Judging, checks_for, first_reason, reasons_against
from engine.runtime.context import WorkingData, no_entries
from engine.runtime.engine import Engine
from engine.runtime.eventdata import EMPTY_REQUEST, check_request
from engine.runtime.judgement import evaluate_fire
from engine.runtime.machine import CompiledWorkflow, compile_workflow
from engine.runtime.roles import held_role
from engine.store.memory import MemoryStore
from engine.store.records import InstanceRecord
from engine.time.calendars import Calendar
from engine.time.clock import FixedClock

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = [*sorted((ROOT / "workflows").glob("*.yaml")), ROOT / "benchmarks" / "bench_workflow.yaml"]
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def test_the_table_is_in_the_documented_order() -> None:
    assert [check.__name__ for check in FIRE_CHECKS] == [
        "previous_known",
        "role_held",
        "separation_kept",
        "writes_allowed",
        "assignments_match",
        "needs_set",
        "checks_hold",
    ]
    # a start has no @previous, and adds the required fields after the people
    assert [check.__name__ for check in START_CHECKS] == [
        "role_held",
        "separation_kept",
        "required_given",
        "writes_allowed",
        "assignments_match",
        "needs_set",
        "checks_hold",
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=[path.stem for path in WORKFLOWS])
def test_each_rule_keeps_the_checks_that_can_apply_in_table_order(path: Path) -> None:
    cw = compile_workflow(load_workflow(path))
    for rules in cw.candidates.values():
        for rule in rules:
            table = checks_for(cw, rule, FIRE_CHECKS)
            assert list(table) == [check for check in FIRE_CHECKS if check in table]  # a subsequence, in order
            assert (candidate.previous_known in table) == rule.previous
            assert (candidate.checks_hold in table) == bool(rule.checks)
            assert (candidate.separation_kept in table) == bool(cw.conflicts)
            for always in (candidate.role_held, candidate.writes_allowed, candidate.assignments_match, candidate.needs_set):
                assert always in table
            assert checks_for(cw, rule, FIRE_CHECKS) is table  # worked out once per rule


BENCH = ROOT / "benchmarks" / "bench_workflow.yaml"
CLERK = Actor("cl-1", frozenset({"clerk"}))
REVIEWER = Actor("rv-1")
STRANGER = Actor("st-1", frozenset({"approver"}))


def _started() -> tuple[Engine, str]:
    engine = Engine(MemoryStore(), clock=FixedClock(NOW))
    engine.deploy(load_workflow(BENCH))
    view = engine.start("bench_workflow", CLERK, data={"ref": "BENCH-1"}, assign={"reviewer": REVIEWER.id})
    return engine, view.id


def test_a_refusal_lists_every_reason_in_table_order() -> None:
    engine, instance_id = _started()
    # `submit` is for clerks and needs a summary; this actor is no clerk, writes a field
    # submit may not write, assigns a role it does not assign, and sends no summary
    with pytest.raises(TransitionRefusedError) as refused:
        engine.fire(instance_id, "submit", STRANGER, data={"score": 3}, assign={"reviewer": "rv-2"})
    codes = refused.value.codes
    assert codes == ("role_not_held", "not_writable", "not_assignable", "missing_field"), codes


def test_the_fast_path_is_the_first_reason_of_the_full_judgement() -> None:
    engine, instance_id = _started()
    with engine.store.unit_of_work(read_only=True) as uow:
        record = uow.instances.get(instance_id)
        assert record is not None
        cw, calendar = engine.definitions.compiled_for(uow, record.workflow, record.version, record.definition_hash)
    rule = cw.candidates[("submit", record.state)][0]
    table = checks_for(cw, rule, FIRE_CHECKS)
    cases = [
        (CLERK, {"summary": "Quarterly check of the file"}, None),  # allowed
        (CLERK, {"summary": "no"}, "check_failed"),
        (CLERK, None, "missing_field"),
        (STRANGER, {"summary": "Quarterly check of the file"}, "role_not_held"),
        (REVIEWER, {"summary": "Quarterly check of the file"}, "role_not_held"),
    ]
    for actor, data, first_code in cases:
        judging = _judging(cw, record, actor, data, calendar)
        judging.consider(rule, held_role(cw, rule.by, actor, False, record.assignees), rule.to, rule.all_needs or (), rule.to)
        first = first_reason(judging, table)
        every = tuple(reasons_against(judging, table))
        if first_code is None:
            assert first is None and every == ()
            step = evaluate_fire(cw, record, "submit", actor, data=data, assign=None, comment=None, now=NOW, calendar=calendar)
            assert step.to_state == "submitted"
            continue
        assert first is not None and first.code == first_code and first == every[0]
        with pytest.raises(TransitionRefusedError) as refused:
            evaluate_fire(cw, record, "submit", actor, data=data, assign=None, comment=None, now=NOW, calendar=calendar)
        (report,) = refused.value.candidates
        assert report.reasons == every  # the engine's refusal is this very walk


def _judging(cw: CompiledWorkflow, record: InstanceRecord, actor: Actor, data: dict[str, Any] | None, calendar: Calendar) -> Judging:
    request = EMPTY_REQUEST if data is None else check_request(cw, data, None, None, record.data)
    work = WorkingData(record.data, cw.revivers)
    for name, (typed, json_value) in request.writes.items():
        work.put(name, typed, json_value)
    return Judging(
        cw,
        record.id,
        record.state,
        actor,
        False,
        request,
        work,
        record.assignees,
        record.assignees,
        record.holders,
        NOW,
        calendar,
        no_entries,
    )


PREVIOUS = """
workflow: back_and_forth
version: 1
roles:
  clerk: Does everything
fields:
  ref: {type: string, required: true}
start:
  by: [clerk]
initial: open
states:
  open:
  parked:
  done: {final: true}
transitions:
  - trigger: park
    from: open
    to: parked
    by: [clerk]
  - trigger: back
    from: [open, parked]
    to: "@previous"
    by: [clerk]
  - trigger: finish
    from: [open, parked]
    to: done
    by: [clerk]
"""


def test_available_is_judged_by_the_same_table_as_fire() -> None:
    # `back` from the first state has nowhere to go: fire refuses it (no_previous), so
    # available must not offer it; once parked, both agree that it can be taken
    engine = Engine(MemoryStore(), clock=FixedClock(NOW))
    engine.deploy(load_workflow_text("back_and_forth.yaml", PREVIOUS))
    view = engine.start("back_and_forth", CLERK, data={"ref": "R-1"})
    assert [option.trigger for option in engine.available(view.id, CLERK)] == ["park", "finish"]
    with pytest.raises(TransitionRefusedError) as refused:
        engine.fire(view.id, "back", CLERK)
    assert refused.value.codes == ("no_previous",)
    engine.fire(view.id, "park", CLERK)
    assert [option.trigger for option in engine.available(view.id, CLERK)] == ["back", "finish"]
    assert engine.fire(view.id, "back", CLERK).to_state == "open"
    assert [option.trigger for option in engine.available(view.id, STRANGER)] == []

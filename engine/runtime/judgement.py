"""Judging one event against a compiled workflow: which candidate is taken, and what happens.

`evaluate_fire` and `evaluate_start` read an instance (or nothing, for a start) and the
request, and either raise `TransitionRefusedError` with every reason, or return a `Step`:
the new state, data and assignees and the step records the runtime then stores. Nothing
here touches a store except through the `entries_of` callable (for `entered_at` /
`times_entered`), so `explain` runs the very same code.

Order (DESIGN §3.2, §3.3, §4.2): event-level checks first (`system` claimed, the trigger in
this state, the shape and types of the data), then each candidate in file order by the one
table of checks in `engine.runtime.candidate`; the first candidate with no reason is taken.
Its effects run in order (`do`, then the target's `on_enter`), and the machine moves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.errors import CandidateReport, Reason, TransitionRefusedError
from engine.results import Actor, AvailableTrigger, SystemActor
from engine.runtime.candidate import FIRE_CHECKS, PEOPLE_CHECKS, START_CHECKS, Judging, checks_for, first_reason, reasons_against
from engine.runtime.context import WorkingData, no_entries
from engine.runtime.effects import run_effects
from engine.runtime.eventdata import EMPTY_REQUEST, check_request
from engine.runtime.machine import START, CompiledWorkflow, Rule
from engine.runtime.roles import held_role, unknown_field_reason
from engine.runtime.step import Step, StepRecord
from engine.store.records import InstanceRecord, StateEntry
from engine.time.calendars import Calendar

_SYSTEM_CLAIMED = Reason("system_claimed", "'system' is held only by the engine; a person can't claim it", role="system")


def evaluate_fire(
    cw: CompiledWorkflow,
    record: InstanceRecord,
    trigger: str,
    actor: Actor,
    *,
    data: Any,
    assign: Any,
    comment: Any,
    now: dt.datetime,
    calendar: Calendar,
    entries_of: Callable[[str], list[StateEntry]] = no_entries,
    explain: bool = False,
) -> Step:
    """Judge an event on the instance `record`. Raises TransitionRefusedError.

    `data`, `assign` and `comment` are as the caller sent them, not trusted. With `explain`,
    every candidate is judged and reported, not only those up to the one taken.
    """
    is_system = isinstance(actor, SystemActor)
    if not is_system and "system" in actor.roles:
        raise TransitionRefusedError.of_event(trigger, record.id, cw.id, _SYSTEM_CLAIMED)
    rules = cw.candidates.get((trigger, record.state))
    if rules is None:
        raise TransitionRefusedError.of_event(trigger, record.id, cw.id, _no_such_event(cw, trigger, record.state))
    if data is None and assign is None and comment is None:
        request = EMPTY_REQUEST
    else:
        request = check_request(cw, data, assign, comment, record.data)
        if request.reasons:
            raise TransitionRefusedError.of_event(trigger, record.id, cw.id, *request.reasons)
    work = WorkingData(record.data, cw.revivers)
    for name, (typed, json_value) in request.writes.items():
        work.put(name, typed, json_value)
    judging = Judging(
        cw,
        record.id,  # instance_id
        record.state,  # state
        actor,
        is_system,
        request,
        work,
        record.assignees,  # assignees_before
        {**record.assignees, **request.assign} if request.assign else record.assignees,  # assignees
        record.holders,  # holders
        now,
        calendar,
        entries_of,
    )
    chosen: tuple[Rule, str | None, str | None] | None = None  # rule, role, target
    reports: list[CandidateReport] = []
    for rule in rules:
        target = record.entered_from if rule.previous else rule.to
        role = held_role(cw, rule.by, actor, is_system, record.assignees)
        needs = rule.all_needs if rule.all_needs is not None else cw.needs_for(rule, target)
        judging.consider(rule, role, target, needs, target if rule.to is not None else record.state)
        checks = checks_for(cw, rule, FIRE_CHECKS)
        if not explain and first_reason(judging, checks) is None:
            chosen = (rule, role, target)
            break
        reasons = tuple(reasons_against(judging, checks))
        if reasons:
            reports.append(CandidateReport(rule.index + 1, rule.to, False, reasons, considered=chosen is None))
        elif chosen is None:
            chosen = (rule, role, target)
            reports.append(CandidateReport(rule.index + 1, rule.to, True))
        else:
            reports.append(CandidateReport(rule.index + 1, rule.to, True, considered=False))
    if chosen is None:
        raise TransitionRefusedError(trigger, record.id, (), tuple(reports), cw.id)
    rule, chosen_role, target = chosen
    entered = rule.to is not None
    if rule.all_effects is not None:
        effects = rule.all_effects
    else:  # @previous: the target's on_enter is only known now
        effects = rule.effects + cw.states[target].on_enter if target is not None else rule.effects
    records: list[StepRecord] = []
    if effects:
        run_effects(
            cw,
            effects,
            work,
            judging.context(),
            trigger=trigger,
            instance_id=record.id,
            entered_state=target if entered else None,
            records=records,
        )
    source = record.state
    state = cw.move(source, trigger, target if entered else None)
    if state != (target if entered else source):
        raise AssertionError(f"the machine went to {state}, the runtime expected {target}")
    # A self-loop is a new entry that keeps the earlier "entered from" (DESIGN §3.6).
    entered_from = record.entered_from if not entered or state == source else source
    role = chosen_role or ""
    holders = record.holders
    if not is_system and actor.id not in holders.get(role, ()):
        holders = _add_holder(holders, role, actor.id)
    return Step(
        rule=rule,
        role=role,
        from_state=source,
        to_state=state if entered else None,
        state=state,
        entered_from=entered_from,
        data=work.json(),
        changes=work.changes(),
        written=request.written,
        assignees=judging.assignees,
        assigned=request.assign,
        holders=holders,
        comment=request.comment,
        records=records,
        candidates=tuple(reports),
    )


def evaluate_start(
    cw: CompiledWorkflow, actor: Actor, *, data: Any, assign: Any, comment: Any, now: dt.datetime, calendar: Calendar
) -> Step:
    """Judge a start of `cw`. Raises TransitionRefusedError."""
    trigger = START
    is_system = isinstance(actor, SystemActor)
    if not is_system and "system" in actor.roles:
        raise TransitionRefusedError.of_event(trigger, None, cw.id, _SYSTEM_CLAIMED)
    rule = cw.start
    if not rule.by:
        raise TransitionRefusedError.of_event(
            trigger, None, cw.id, Reason("start_not_allowed", f"'{cw.id}' is only ever started by its parent workflow")
        )
    request = check_request(cw, data, assign, comment, {})
    if request.reasons:
        raise TransitionRefusedError.of_event(trigger, None, cw.id, *request.reasons)
    work = WorkingData({}, cw.revivers)
    for name, (typed, json_value) in cw.defaults.items():
        work.put(name, typed, json_value)
    for name, (typed, json_value) in request.writes.items():
        work.put(name, typed, json_value)
    judging = Judging(
        cw,
        None,  # instance_id: none yet
        cw.initial,  # state
        actor,
        is_system,
        request,
        work,
        {},  # assignees_before: nobody
        dict(request.assign),  # assignees
        {},  # holders: nobody has acted yet
        now,
        calendar,
        no_entries,
    )
    # Nobody holds an assignable role before the instance exists, so `start.by` is met by
    # directory roles (or `system`) only.
    role = held_role(cw, rule.by, actor, is_system, {})
    judging.consider(rule, role, cw.initial, cw.needs_for(rule, cw.initial), cw.initial)
    reasons = tuple(reasons_against(judging, checks_for(cw, rule, START_CHECKS)))
    if reasons:
        raise TransitionRefusedError(trigger, None, (), (CandidateReport(0, cw.initial, False, reasons),), cw.id)
    records: list[StepRecord] = []
    run_effects(
        cw,
        cw.states[cw.initial].on_enter,
        work,
        judging.context(),
        trigger=trigger,
        instance_id=None,
        entered_state=cw.initial,
        records=records,
    )
    return Step(
        rule=rule,
        role=role or "",
        from_state=None,
        to_state=cw.initial,
        state=cw.initial,
        entered_from=None,
        data=work.json(),
        changes=work.changes(),
        written=request.written,
        assignees=judging.assignees,
        assigned=request.assign,
        holders={} if is_system or role is None else {role: (actor.id,)},
        comment=request.comment,
        records=records,
        candidates=(CandidateReport(0, cw.initial, True),),
    )


def evaluate_available(
    cw: CompiledWorkflow,
    record: InstanceRecord,
    actor: Actor,
    *,
    now: dt.datetime,
    calendar: Calendar,
    entries_of: Callable[[str], list[StateEntry]] = no_entries,
) -> list[AvailableTrigger]:
    """The triggers the actor may send in the instance's state, as far as can be judged
    before the event's data is known: by the same table as `evaluate_fire`, its checks of
    people (`PEOPLE_CHECKS`: `@previous` known, the role held, separation kept). Checks and
    `needs` depend on the data, so they are listed, not judged (`explain` judges them)."""
    is_system = isinstance(actor, SystemActor)
    judging = Judging(
        cw,
        record.id,
        record.state,
        actor,
        is_system,
        EMPTY_REQUEST,
        WorkingData(record.data, cw.revivers),
        record.assignees,  # assignees_before
        record.assignees,  # assignees: the event assigns nobody yet
        record.holders,
        now,
        calendar,
        entries_of,
    )
    found: list[AvailableTrigger] = []
    for trigger in cw.trigger_order:
        held: list[tuple[Rule, str]] = []
        for rule in cw.candidates.get((trigger, record.state), ()):
            role = held_role(cw, rule.by, actor, is_system, record.assignees)
            target = record.entered_from if rule.previous else rule.to
            judging.consider(rule, role, target, (), None)
            if role is not None and first_reason(judging, checks_for(cw, rule, PEOPLE_CHECKS)) is None:
                held.append((rule, role))
        if held:
            first_rule, first_role = held[0]
            found.append(
                AvailableTrigger(
                    trigger=trigger,
                    role=first_role,
                    transitions=tuple(rule.index + 1 for rule, _ in held),
                    targets=tuple(rule.to for rule, _ in held),
                    needs=_union(rule.needs for rule, _ in held),
                    writes=_union(sorted(rule.writable - set(rule.needs)) for rule, _ in held),
                    assigns=_union(rule.assigns for rule, _ in held),
                    description=first_rule.description,
                )
            )
    return found


# --- the parts ------------------------------------------------------------------------


def _no_such_event(cw: CompiledWorkflow, trigger: str, state: str) -> Reason:
    if trigger not in cw.triggers:
        return unknown_field_reason("unknown_trigger", "trigger", trigger, cw.triggers, f"'{cw.id}' has no trigger")
    if cw.states[state].final:
        return Reason("invalid_state", f"the instance is in '{state}', a final state: nothing more can happen")
    valid = ", ".join(f"'{source}'" for source in cw.sources_by_trigger[trigger])
    return Reason("invalid_state", f"'{trigger}' can't happen in '{state}'; it can happen in {valid}")


def _add_holder(holders: Mapping[str, tuple[str, ...]], role: str, person: str) -> Mapping[str, tuple[str, ...]]:
    """A person keeps holding a role for separation once they have acted in it (DESIGN §3.7)."""
    return {**holders, role: tuple(sorted((*holders.get(role, ()), person)))}


def _union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """The names of every group, once each, in the order first met."""
    seen: list[str] = []
    for group in groups:
        seen.extend(name for name in group if name not in seen)
    return tuple(seen)

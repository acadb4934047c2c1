"""Judging one event against a compiled workflow: who, what data, which checks, what happens.

`evaluate_fire` and `evaluate_start` read an instance (or nothing, for a start) and the
request, and either raise `TransitionRefusedError` with every reason, or return a `Step`:
the new state, data, assignees and the step records (notifications, pending effects) that
the runtime then stores. Nothing here touches a store except through the `entries_of`
callable (for `entered_at` / `times_entered`), so `explain` runs the very same code.

Order (DESIGN §3.2, §3.3, §3.7, §4.2): event-level checks (`system` claimed, trigger and
state, the shape and types of the data); then per candidate in file order: the role, the
separation of duties, which fields it may write, the assignments, `needs` of the transition
and of the target state on the merged data, and the checks; the first candidate with no
reason is taken. Then its effects run in order (`do`, then the target's `on_enter`), and
the machine moves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from engine.errors import CandidateReport, Reason, TransitionRefusedError
from engine.expressions import ExpressionRuntimeError
from engine.expressions.values import is_set
from engine.results import Actor, Notification, PendingEffect, SystemActor
from engine.runtime.context import EventContext, WorkingData
from engine.runtime.effects import refuse, run_effects
from engine.runtime.eventdata import NOTHING, Prepared, prepare
from engine.runtime.machine import START, CompiledCheck, CompiledWorkflow, Rule
from engine.runtime.roles import held_role, role_refusal, separation_reasons, unknown_field_reason
from engine.store.records import InstanceRecord, StateEntry
from engine.time.calendars import Calendar


def no_entries(instance_id: str) -> list[StateEntry]:
    """For a start, and wherever no store is at hand: no state entries yet."""
    return []


@dataclass(slots=True)
class Step:
    """An accepted event, worked out and not yet stored."""

    rule: Rule
    role: str
    from_state: str | None
    to_state: str | None
    state: str
    entered: bool
    entered_from: str | None
    data: Mapping[str, Any]
    changes: dict[str, Any]
    written: dict[str, Any]
    assignees: Mapping[str, str]
    assigned: dict[str, str]
    holders: Mapping[str, tuple[str, ...]]
    comment: str | None
    notifications: Sequence[Notification]
    pending: Sequence[PendingEffect]
    candidates: tuple[CandidateReport, ...] = ()


_SIZED_TYPES = frozenset((str, list, dict))
_SYSTEM_CLAIMED = Reason("system_claimed", "'system' is held only by the engine; a person can't claim it", role="system")


def evaluate_fire(
    cw: CompiledWorkflow,
    record: InstanceRecord,
    trigger: str,
    actor: Actor,
    data: Any,
    assign: Any,
    comment: Any,
    now: dt.datetime,
    calendar: Calendar,
    entries_of: Callable[[str], list[StateEntry]] = no_entries,
    *,
    explain: bool = False,
) -> Step:
    """Judge an event on the instance `record`. Raises TransitionRefusedError.

    `data`, `assign` and `comment` are as the caller sent them, not trusted. With `explain`,
    every candidate is judged and reported, not only those up to the one taken.
    """
    is_system = isinstance(actor, SystemActor)
    if not is_system and "system" in actor.roles:
        refuse(trigger, record.id, cw.id, [_SYSTEM_CLAIMED])
    rules = cw.candidates.get((trigger, record.state))
    if rules is None:
        refuse(trigger, record.id, cw.id, [_no_such_event(cw, trigger, record.state)])
    if data is None and assign is None and comment is None:
        prepared = NOTHING
    else:
        prepared = prepare(cw, data, assign, comment, record.data)
        if prepared.reasons:
            refuse(trigger, record.id, cw.id, prepared.reasons)
    work = WorkingData(record.data, cw.revivers)
    for name, (typed, json_value) in prepared.writes.items():
        work.put(name, typed, json_value)
    writes, assign, conflicts = prepared.writes, prepared.assign, cw.conflicts
    assignees = {**record.assignees, **assign} if assign else record.assignees
    ctx: EventContext | None = None
    chosen: Rule | None = None
    chosen_role = ""
    target: str | None = None
    reports: list[CandidateReport] = []
    for rule in rules:
        rule_target = record.entered_from if rule.previous else rule.to
        by = rule.by
        if len(by) == 1 and by[0] in actor.roles and by[0] not in cw.assignable:
            role: str | None = by[0]  # the usual case, a directory role, without a call
        else:
            role = held_role(cw, by, actor, is_system, record.assignees)
        if rule.checks and ctx is None:
            ctx = _context(cw, work, actor, assignees, record, now, calendar, entries_of)
        needs = rule.all_needs if rule.all_needs is not None else cw.needs_for(rule, rule_target)
        if not explain and role is not None:
            # Whether the candidate passes, without building any reason: the common case,
            # kept cheap. It must agree exactly with the full judgement below (separation,
            # writes, assignments, needs, checks); the tests compare the two.
            passes = not (rule.previous and rule_target is None)
            if passes and conflicts:
                # a quick look before building reasons: does the actor hold a role separate
                # from this one (assigned, or acted in it)? Nearly always not.
                breach = bool(assign)
                for other in conflicts.get(role, ()):
                    if assignees.get(other) == actor.id or actor.id in record.holders.get(other, ()):
                        breach = True
                        break
                if breach:
                    passes = not separation_reasons(cw, actor, role, is_system, assignees, record.holders, assign)
            if passes and writes and not rule.writable.issuperset(writes):
                passes = False
            if passes and (rule.assigns or assign) and set(rule.assigns) != assign.keys():
                passes = False
            if passes:
                current = work.current()
                for name in needs:
                    value = current.get(name)
                    if value is None or (type(value) in _SIZED_TYPES and not value):  # is_set, inline
                        passes = False
                        break
            if passes and rule.checks:
                passes = _checks_pass(rule.checks, ctx)
            if passes:
                chosen, chosen_role, target = rule, role, rule_target
                break
        # The full judgement, with every reason: for refusals and `explain` only.
        reasons: list[Reason] = []
        if rule.previous and rule_target is None:
            reasons.append(Reason("no_previous", f"'{record.state}' was not entered from another state, so there is no @previous"))
        if role is None:
            reasons.append(role_refusal(cw, rule, actor, record.assignees))
        elif cw.conflicts:
            reasons.extend(separation_reasons(cw, actor, role, is_system, assignees, record.holders, prepared.assign))
        _judge_data(rule, needs, rule_target if rule.to is not None else record.state, prepared, work, ctx, reasons, cw.params)
        if reasons:
            reports.append(CandidateReport(rule.index + 1, rule.to, False, tuple(reasons), considered=chosen is None))
        elif chosen is None:
            chosen, chosen_role, target = rule, role or "", rule_target
            reports.append(CandidateReport(rule.index + 1, rule.to, True))
        else:
            reports.append(CandidateReport(rule.index + 1, rule.to, True, considered=False))
    if chosen is None:
        raise TransitionRefusedError(trigger, record.id, (), tuple(reports), cw.id)
    entered = chosen.to is not None
    if chosen.all_effects is not None:
        effects = chosen.all_effects
    else:  # @previous: the target's on_enter is only known now
        effects = chosen.effects + cw.states[target].on_enter if target is not None else chosen.effects
    notifications: Sequence[Notification] = ()
    pending: Sequence[PendingEffect] = ()
    if effects:
        notes: list[Notification] = []
        pend: list[PendingEffect] = []
        notifications, pending = notes, pend
        if ctx is None:
            ctx = _context(cw, work, actor, assignees, record, now, calendar, entries_of)
        run_effects(cw, effects, work, ctx, trigger, record.id, target if entered else None, notes, pend)
    source = record.state
    state = cw.move(source, trigger, target if entered else None)
    if state != (target if entered else source):
        raise AssertionError(f"the machine went to {state}, the runtime expected {target}")
    # A self-loop is a new entry that keeps the earlier "entered from" (DESIGN §3.6).
    entered_from = record.entered_from if not entered or state == source else source
    holders = record.holders
    if not is_system and actor.id not in holders.get(chosen_role, ()):
        holders = _add_holder(holders, chosen_role, actor.id)
    return Step(
        chosen,
        chosen_role,
        source,
        state if entered else None,
        state,
        entered,
        entered_from,
        work.json(),
        work.changes(),
        prepared.written,
        assignees,
        prepared.assign,
        holders,
        prepared.comment,
        notifications,
        pending,
        tuple(reports) if reports else (),
    )


def evaluate_start(cw: CompiledWorkflow, actor: Actor, data: Any, assign: Any, comment: Any, now: dt.datetime, calendar: Calendar) -> Step:
    """Judge a start of `cw`. Raises TransitionRefusedError."""
    trigger = START
    is_system = isinstance(actor, SystemActor)
    if not is_system and "system" in actor.roles:
        refuse(trigger, None, cw.id, [_SYSTEM_CLAIMED])
    rule = cw.start
    if not rule.by:
        refuse(trigger, None, cw.id, [Reason("start_not_allowed", f"'{cw.id}' is only ever started by its parent workflow")])
    prepared = prepare(cw, data, assign, comment, {})
    if prepared.reasons:
        refuse(trigger, None, cw.id, prepared.reasons)
    work = WorkingData({}, cw.revivers)
    for name, (typed, json_value) in cw.defaults.items():
        work.put(name, typed, json_value)
    for name, (typed, json_value) in prepared.writes.items():
        work.put(name, typed, json_value)
    assignees = dict(prepared.assign)
    ctx = EventContext(work, cw.params, actor.id, actor.roles, assignees, cw.initial, now, calendar, cw.computed_map, list)
    reasons: list[Reason] = []
    # Nobody holds an assignable role before the instance exists, so `start.by` is met by
    # directory roles (or `system`) only.
    role = held_role(cw, rule.by, actor, is_system, {})
    if role is None:
        reasons.append(role_refusal(cw, rule, actor, {}))
    elif cw.conflicts:
        reasons.extend(separation_reasons(cw, actor, role, is_system, assignees, {}, prepared.assign))
    reasons.extend(
        Reason("missing_field", f"'{name}' is required and must be given when the instance starts", field=name)
        for name in cw.required_order
        if name not in rule.needs and not is_set(work.raw(name))
    )
    _judge_data(rule, cw.needs_for(rule, cw.initial), cw.initial, prepared, work, ctx, reasons, cw.params)
    if reasons:
        raise TransitionRefusedError(trigger, None, (), (CandidateReport(0, cw.initial, False, tuple(reasons)),), cw.id)
    notifications: list[Notification] = []
    pending: list[PendingEffect] = []
    run_effects(cw, cw.states[cw.initial].on_enter, work, ctx, trigger, None, cw.initial, notifications, pending)
    return Step(
        rule,
        role or "",
        None,
        cw.initial,
        cw.initial,
        True,
        None,
        work.json(),
        work.changes(),
        prepared.written,
        assignees,
        prepared.assign,
        {} if is_system or role is None else {role: (actor.id,)},
        prepared.comment,
        notifications,
        pending,
        (CandidateReport(0, cw.initial, True),),
    )


# --- the parts ------------------------------------------------------------------------


def _no_such_event(cw: CompiledWorkflow, trigger: str, state: str) -> Reason:
    if trigger not in cw.triggers:
        return unknown_field_reason("unknown_trigger", "trigger", trigger, cw.triggers, f"'{cw.id}' has no trigger")
    if cw.states[state].final:
        return Reason("invalid_state", f"the instance is in '{state}', a final state: nothing more can happen")
    valid = ", ".join(f"'{source}'" for source in cw.sources_by_trigger[trigger])
    return Reason("invalid_state", f"'{trigger}' can't happen in '{state}'; it can happen in {valid}")


def _checks_pass(checks: tuple[CompiledCheck, ...], ctx: EventContext | None) -> bool:
    """Whether every check holds; one that can't be evaluated fails (the full judgement says why)."""
    try:
        for check in checks:
            if not check.expression.evaluate(ctx):  # type: ignore[arg-type] # made whenever a rule has checks
                return False
    except ExpressionRuntimeError:
        return False
    return True


def _judge_data(
    rule: Rule,
    needs: tuple[str, ...],
    target: str | None,
    prepared: Prepared,
    work: WorkingData,
    ctx: EventContext | None,
    reasons: list[Reason],
    params: Mapping[str, Any],
) -> None:
    """Writes, assignments, needs and checks of one candidate, appended to `reasons`."""
    for name in prepared.writes:
        if name not in rule.writable:
            reasons.append(Reason("not_writable", f"this event may not write '{name}'", field=name))
    if rule.assigns or prepared.assign:
        for role in rule.assigns:
            if role not in prepared.assign:
                reasons.append(Reason("missing_assignment", f"name the person to assign as '{role}'", role=role))
        for role in prepared.assign:
            if role not in rule.assigns:
                reasons.append(Reason("not_assignable", f"this event does not assign '{role}'", role=role))
    missing = False
    data = work.current()
    for name in needs:
        value = data.get(name)
        # is_set, inline: not None, not '', not an empty list or map (False and 0 are set)
        if value is None or (type(value) in _SIZED_TYPES and not value):
            where = f" (needed in '{target}')" if name not in rule.needs else ""
            reasons.append(Reason("missing_field", f"'{name}' must be set{where}", field=name))
            missing = True
    if missing or ctx is None:
        return  # checks presuppose what the event needs; judging them without it only adds noise
    for check in rule.checks:
        try:
            passed = check.expression.evaluate(ctx)
        except ExpressionRuntimeError as exc:
            reasons.append(Reason("expression_failed", f"a check could not be evaluated: {exc}", check=check.position))
            continue
        if not passed:
            reasons.append(Reason("check_failed", check.otherwise.render(work.get, params), check=check.position))


def _add_holder(holders: Mapping[str, tuple[str, ...]], role: str, person: str) -> Mapping[str, tuple[str, ...]]:
    """A person keeps holding a role for separation once they have acted in it (DESIGN §3.7)."""
    return {**holders, role: tuple(sorted((*holders.get(role, ()), person)))}


def _context(
    cw: CompiledWorkflow,
    work: WorkingData,
    actor: Actor,
    assignees: Mapping[str, str],
    record: InstanceRecord,
    now: dt.datetime,
    calendar: Calendar,
    entries_of: Callable[[str], list[StateEntry]],
) -> EventContext:
    """What the event's expressions read; built only when a check or an effect needs it."""
    return EventContext(
        work, cw.params, actor.id, actor.roles, assignees, record.state, now, calendar, cw.computed_map, partial(entries_of, record.id)
    )

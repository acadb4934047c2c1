"""The rules of one candidate transition, as one ordered table of checks.

An event names a trigger; in the instance's state that trigger has one or more candidate
transitions (DESIGN §3.3), each judged by the checks below, in this order (DESIGN §3.2,
§3.3, §3.7): `@previous` has somewhere to go, the actor holds one of `by`, separation of
duties is kept, the event writes only what the transition allows, it assigns exactly the
roles the transition assigns, what the transition and its target state need is set, and the
transition's checks hold. A start adds one more: every `required` field is given.

Each check returns the reasons it finds (an empty tuple, cheaply, when it passes).
`reasons_against` chains them lazily, so there is one judgement and two ways to ask it: the
fast path takes the first reason or none (`first_reason`), a refusal or `explain` takes them
all. A new rule (a timer's, a parent's role) is one more function in the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from engine.errors import Reason
from engine.expressions import ExpressionRuntimeError
from engine.results import Actor
from engine.runtime.context import EventContext, WorkingData
from engine.runtime.eventdata import CheckedRequest
from engine.runtime.machine import CompiledWorkflow, Rule
from engine.runtime.roles import holds, role_refusal, separation_reasons
from engine.store.records import StateEntry
from engine.time.calendars import Calendar


@dataclass(slots=True)
class Judging:
    """One event while its candidates are judged: what is known about the event, and the
    candidate being judged now (set by `consider`, one after another).

    `assignees_before` are the instance's assignees as they were (nobody at a start);
    `assignees` include what the event assigns. For the candidate: `rule`, the `role` the
    actor would act in (None when they hold none of `by`), its `target`, what must be set
    (`needs`: its own and its target's) and `needed_in`, the state whose `needs` a missing
    field comes from. The expression context is built on first use: most events have no
    check to evaluate.

    Made once per event, in two places (a fire, a start), with its fields in order: a call
    with thirteen keyword arguments costs 2.6 times a positional one on CPython 3.11
    (0.66 µs against 0.25 µs), and this is on every event's path (P1).
    """

    cw: CompiledWorkflow
    instance_id: str | None
    state: str
    actor: Actor
    is_system: bool
    request: CheckedRequest
    work: WorkingData
    assignees_before: Mapping[str, str]
    assignees: Mapping[str, str]
    holders: Mapping[str, tuple[str, ...]]
    now: dt.datetime
    calendar: Calendar
    entries_of: Callable[[str], list[StateEntry]]
    rule: Rule = field(init=False)
    role: str | None = field(init=False)
    target: str | None = field(init=False)
    needs: tuple[str, ...] = field(init=False)
    needed_in: str | None = field(init=False)
    _unset: list[str] | None = field(default=None, init=False, repr=False)
    _context: EventContext | None = field(default=None, init=False, repr=False)

    def consider(self, rule: Rule, role: str | None, target: str | None, needs: tuple[str, ...], needed_in: str | None) -> None:
        """Judge `rule` next (see the class docstring for the parts)."""
        self.rule, self.role, self.target, self.needs, self.needed_in = rule, role, target, needs, needed_in
        self._unset = None

    def unset_needs(self) -> list[str]:
        """The candidate's needed fields not set on the data after the event, worked out once."""
        if self._unset is None:
            data = self.work.current()
            unset = []
            for name in self.needs:
                value = data.get(name)
                # is_set, inline: not None, not '', not an empty list or map (False and 0 are set)
                if value is None or (type(value) in _SIZED_TYPES and not value):
                    unset.append(name)
            self._unset = unset
        return self._unset

    def context(self) -> EventContext:
        """What the event's expressions read (built once, when first needed)."""
        if self._context is None:
            cw = self.cw
            self._context = EventContext(
                self.work,
                cw.params,
                self.actor.id,
                self.actor.roles,
                self.assignees,
                self.state,
                self.now,
                self.calendar,
                cw.computed_map,
                partial(self.entries_of, self.instance_id) if self.instance_id is not None else list,
            )
        return self._context


Check = Callable[[Judging], Sequence[Reason]]

_SIZED_TYPES = frozenset((str, list, dict))
_PASS: tuple[Reason, ...] = ()


def _is_unset(value: Any) -> bool:
    # is_set, inline: not None, not '', not an empty list or map (False and 0 are set)
    return value is None or (type(value) in _SIZED_TYPES and not value)


def previous_known(j: Judging) -> Sequence[Reason]:
    """`to: "@previous"` needs a state the current one was entered from."""
    if j.rule.previous and j.target is None:
        return (Reason("no_previous", f"'{j.state}' was not entered from another state, so there is no @previous"),)
    return _PASS


def role_held(j: Judging) -> Sequence[Reason]:
    """The actor holds one of the transition's `by` on this instance (DESIGN §3.7)."""
    if j.role is not None:
        return _PASS
    return (role_refusal(j.cw, j.rule, j.actor, j.assignees_before),)


def separation_kept(j: Judging) -> Sequence[Reason]:
    """No one acting or assigned would hold two roles that `separate` keeps apart."""
    conflicts = j.cw.conflicts
    role = j.role
    if role is None or not conflicts:
        return _PASS
    assigned = j.request.assign
    if not assigned:
        # The usual case, decided without building reasons: does the actor hold (assigned,
        # or has acted in) a role separate from this one? Nearly always not.
        actor_id, assignees, holders = j.actor.id, j.assignees, j.holders
        for other in conflicts.get(role, ()):
            if holds(actor_id, other, assignees, holders):
                break
        else:
            return _PASS
    return separation_reasons(j.cw, j.actor, role, is_system=j.is_system, assignees_after=j.assignees, holders=j.holders, assigned=assigned)


def required_given(j: Judging) -> Sequence[Reason]:
    """At a start, every `required` field is given (those the start `needs` are judged there)."""
    needs, work = j.rule.needs, j.work
    return [
        Reason("missing_field", f"'{name}' is required and must be given when the instance starts", field=name)
        for name in j.cw.required_order
        if name not in needs and _is_unset(work.raw(name))
    ]


def writes_allowed(j: Judging) -> Sequence[Reason]:
    """The event writes only the transition's `needs` and `writes` (DESIGN §3.2)."""
    writes, writable = j.request.writes, j.rule.writable
    if not writes or writable.issuperset(writes):
        return _PASS
    return [Reason("not_writable", f"this event may not write '{name}'", field=name) for name in writes if name not in writable]


def assignments_match(j: Judging) -> Sequence[Reason]:
    """The event names a person for each role the transition assigns, and for no other."""
    wanted, given = j.rule.assigns, j.request.assign
    if not wanted and not given:
        return _PASS
    reasons = [Reason("missing_assignment", f"name the person to assign as '{role}'", role=role) for role in wanted if role not in given]
    reasons += [Reason("not_assignable", f"this event does not assign '{role}'", role=role) for role in given if role not in wanted]
    return reasons


def needs_set(j: Judging) -> Sequence[Reason]:
    """What the transition and its target state need is set on the data after the event."""
    missing = j.unset_needs()
    if not missing:
        return _PASS
    own = j.rule.needs
    return [
        Reason("missing_field", f"'{name}' must be set" + ("" if name in own else f" (needed in '{j.needed_in}')"), field=name)
        for name in missing
    ]


def checks_hold(j: Judging) -> Sequence[Reason]:
    """The transition's checks hold. They presuppose what the event needs, so with a needed
    field unset they are not judged (reasons about them would only add noise)."""
    checks = j.rule.checks
    if not checks:
        return _PASS
    if j.unset_needs():
        return _PASS
    ctx = j.context()
    reasons: list[Reason] = []
    for check in checks:
        try:
            passed = check.expression.evaluate(ctx)
        except ExpressionRuntimeError as exc:  # a FunctionError is the host failing, not a reason: it propagates
            reasons.append(Reason("expression_failed", f"a check could not be evaluated: {exc}", check=check.position))
            continue
        if not passed:
            reasons.append(Reason("check_failed", check.otherwise.render(j.work.get, j.cw.params), check=check.position))
    return reasons


# The judgement of a candidate, in order. Reasons come out in this order too.
FIRE_CHECKS: tuple[Check, ...] = (previous_known, role_held, separation_kept, writes_allowed, assignments_match, needs_set, checks_hold)
START_CHECKS: tuple[Check, ...] = (role_held, separation_kept, required_given, writes_allowed, assignments_match, needs_set, checks_hold)
# What can be judged before the event's data is known (`available`): the first three.
PEOPLE_CHECKS: tuple[Check, ...] = FIRE_CHECKS[:3]


def _can_apply(check: Check, cw: CompiledWorkflow, rule: Rule) -> bool:
    """Whether `check` can ever find a reason against `rule`: a check that can't (no
    `@previous`, no `separate`, no checks) is left out of the rule's table, so the usual
    event walks only what matters to it."""
    if check is previous_known:
        return rule.previous
    if check is separation_kept:
        return bool(cw.conflicts)
    if check is checks_hold:
        return bool(rule.checks)
    return True


def checks_for(cw: CompiledWorkflow, rule: Rule, table: tuple[Check, ...]) -> tuple[Check, ...]:
    """The checks of `table` that can apply to `rule`, in order (worked out once per rule and
    table, then found in `cw.check_tables`)."""
    key = (id(rule), id(table))
    found: tuple[Check, ...] | None = cw.check_tables.get(key)
    if found is None:
        found = cw.check_tables[key] = tuple(check for check in table if _can_apply(check, cw, rule))
    return found


def reasons_against(j: Judging, checks: tuple[Check, ...]) -> Iterator[Reason]:
    """Every reason the candidate can't be taken, lazily, in the order of `checks`."""
    for check in checks:
        yield from check(j)


def first_reason(j: Judging, checks: tuple[Check, ...]) -> Reason | None:
    """The first reason the candidate can't be taken, or None: it can. The same checks as
    `reasons_against`, walked without a generator: this runs on every event."""
    for check in checks:
        found = check(j)
        if found:
            return found[0]
    return None

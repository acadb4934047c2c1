"""A loaded `Workflow` compiled for running: candidates per (trigger, state), and its Machine.

This module is the only one that imports `transitions` (DESIGN §4.1). Per loaded workflow
(each engine compiles its own, DESIGN §4.10) it builds one flat `transitions.Machine`:
`auto_transitions=False` (no `to_<state>` shortcuts around the YAML graph),
`send_event=True`, `queued=False` (the machine is shared by every instance of the version,
and cascades are our runtime's job), callables only, and no model: each event runs with
`Event.trigger` on a throw-away carrier holding the instance's state, so nothing is ever
built per instance.

The runtime decides which candidate is taken (roles, needs, checks: everything that needs
the instance's data), then asks the machine to move: transitions checks the source, runs
the conditions and computes the state change. Its states carry no callbacks (a workflow's
`on_enter` effects are the runtime's, run before the move so that a failing effect refuses
the event), so they are `_QuietState`s that skip dispatching transitions' empty
enter/exit callback lists. Where one (trigger, source) can lead to more than one
state (several candidates, or `@previous`), each machine transition carries a condition
that accepts only the destination the runtime chose. `"*"` is expanded to the non-final
states here (transitions' `*` would include final ones); `@previous` becomes one machine
transition per state it could return to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from transitions import Machine, State

from engine.canonical import json_text, nfc, to_json_value
from engine.errors import Loc
from engine.expressions import CompiledExpression
from engine.expressions import types as T
from engine.history.chain import RowDefinition
from engine.language import graph
from engine.language.definition import (
    CancelChildrenEffect,
    ClearEffect,
    Effect,
    ExtendEffect,
    FireParentEffect,
    Guarded,
    NotifyEffect,
    SetEffect,
    SpawnEffect,
)
from engine.language.fieldtypes import FieldType, Reviver, reviver_for
from engine.language.templates import Template, compile_template
from engine.language.workflow import Workflow

START = "@start"  # the trigger recorded for the start event; no workflow trigger can look like it
MACHINE_STATE = "_state"  # the carrier attribute transitions reads; triggers can't start with "_"


@dataclass(frozen=True, slots=True)
class CompiledCheck:
    expression: CompiledExpression
    otherwise: Template
    position: int  # 0-based among the rule's checks; the `when` shorthand comes last


@dataclass(frozen=True, slots=True)
class SetOp:
    """One `set` entry: a literal (already typed and in JSON form) or an expression."""

    field: str
    field_type: FieldType
    expression: CompiledExpression | None
    typed: Any = None
    json: Any = None


@dataclass(frozen=True, slots=True)
class NotifyOp:
    roles: tuple[str, ...]
    template: str | None
    message: Template | None
    urgent: bool


@dataclass(frozen=True, slots=True)
class CompiledEffect:
    """One effect. `kind` is its key; spawn, cancel_children, fire_parent and extend are not
    run: the runtime records each as a pending step record (`PendingEffect`)."""

    kind: str
    loc: Loc
    when: CompiledExpression | None
    sets: tuple[SetOp, ...] = ()
    clears: tuple[str, ...] = ()
    notify: NotifyOp | None = None


@dataclass(frozen=True, slots=True)
class StateInfo:
    name: str
    final: bool
    needs: tuple[str, ...]
    on_enter: tuple[CompiledEffect, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """`start` or one transition: who, what data, which checks, which effects.

    `index` is the transition's 0-based position in the file (-1 for start); `to` is a
    state, `@previous`, or None for an internal event.
    """

    index: int
    trigger: str
    to: str | None
    previous: bool  # to is "@previous"
    by: tuple[str, ...]
    needs: tuple[str, ...]
    writable: frozenset[str]
    assigns: tuple[str, ...]
    checks: tuple[CompiledCheck, ...]
    effects: tuple[CompiledEffect, ...]
    description: str | None
    # Worked out per source state (a rule is copied for each state it leaves from): the
    # transition's needs then the target's, and its `do` then the target's `on_enter`.
    # None for `@previous`, whose target is only known at run time.
    all_needs: tuple[str, ...] | None = None
    all_effects: tuple[CompiledEffect, ...] | None = None


class _QuietState(State):
    """A state with no enter/exit callbacks to dispatch.

    A workflow's `on_enter` effects are ours: they run while the event is judged, before the
    machine moves, so that a failing effect refuses the event. No callback is ever registered
    on a state, so dispatching transitions' empty callback lists (and their debug logging)
    on every exit and entry would be work for nothing. The move itself (source check,
    conditions, `set_state`, final-state handling) stays transitions'.
    """

    def enter(self, event_data: Any) -> None:
        return None

    def exit(self, event_data: Any) -> None:
        return None


class _Carrier:
    """The throw-away object an event runs on: the current state and the chosen destination."""

    __slots__ = ("_state", "target")

    def __init__(self, state: str, target: str | None) -> None:
        self._state = state
        self.target = target


def _heading_to(dest: str | None) -> Callable[..., bool | None]:
    """A condition accepting only the destination the runtime chose (event_data.model.target)."""
    return lambda event: bool(event.model.target == dest)


class CompiledWorkflow:
    """Everything the runtime needs about one workflow version, computed once."""

    def __init__(self, workflow: Workflow) -> None:
        spec = workflow.spec
        self.workflow = workflow
        self.id = nfc(workflow.id)
        self.version = workflow.version
        self.hash = workflow.hash
        self.key = (self.id, self.version, self.hash)
        self.initial = spec.initial
        self.params = workflow.params
        self.field_types: dict[str, FieldType] = workflow.field_types
        self.revivers: dict[str, Reviver] = {
            name: reviver for name, field_type in workflow.field_types.items() if (reviver := reviver_for(field_type.type)) is not None
        }
        # per field, the fastest way to validate a written value and turn it into JSON form
        self.validators: dict[str, Callable[[Any], Any]] = {}
        for name, field_type in workflow.field_types.items():
            self.validators[name] = _first_validation(self.validators, name, field_type)
        self.encoders: dict[str, Callable[[Any], Any]] = {name: _encoder(ft) for name, ft in workflow.field_types.items()}
        self.map_fields = frozenset(name for name, ft in workflow.field_types.items() if ft.spec.type == "map")
        self.required_order = tuple(name for name, field in spec.fields.items() if field.required)
        self.required = frozenset(self.required_order)
        self.defaults = self._defaults()
        self.computed_map: dict[str, CompiledExpression] = {name: workflow.expressions[("computed", name)] for name in spec.computed}
        self._needs: dict[tuple[int, str | None], tuple[str, ...]] = {}
        self.states = {
            name: StateInfo(
                name,
                state.final,
                tuple(state.needs),
                tuple(self._effect(("states", name, "on_enter", position), effect) for position, effect in enumerate(state.on_enter)),
            )
            for name, state in spec.states.items()
        }
        self.assignable = frozenset(spec.start.assigns).union(*(t.assigns for t in spec.transitions))
        self.conflicts = _conflicts(spec.separate)
        self.start = self._rule(-1, START, spec.start, ("start",), spec.initial, extra_writes=self.required)
        self.candidates: dict[tuple[str, str], tuple[Rule, ...]] = {}
        # (id(rule), id(table)) -> the checks of that table that can apply to that rule,
        # worked out by engine.runtime.candidate on first use. Keyed by identity: the rules
        # live as long as this object, which holds them, and the tables are module
        # constants, so an id can't be reused while the entry exists.
        self.check_tables: dict[tuple[int, int], tuple[Callable[..., Any], ...]] = {}
        sources: dict[str, list[str]] = {}
        for index, transition in enumerate(spec.transitions):
            rule = self._rule(
                index, transition.trigger, transition, ("transitions", index), transition.to, description=transition.description
            )
            for source in graph.sources(spec, transition):
                placed = self._place(rule, source)
                self.candidates[(rule.trigger, source)] = (*self.candidates.get((rule.trigger, source), ()), placed)
                if source not in sources.setdefault(rule.trigger, []):
                    sources[rule.trigger].append(source)
        self.triggers = frozenset(sources)
        self.trigger_order = tuple(sources)  # first appearance in the file
        self.sources_by_trigger = {trigger: tuple(states) for trigger, states in sources.items()}
        # JSON text of every name a history row can carry, escaped once (engine.history.chain.build_row)
        names = [*spec.states, *spec.roles, "system", *sources, START]
        json_names: dict[str | None, str] = {None: "null", self.id: json_text(self.id)}
        json_names.update((name, json_text(name)) for name in names)
        self.row_definition = RowDefinition(self.id, self.version, self.hash, json_names)
        self._machine = self._build_machine()
        self._events = self._machine.events

    # --- running -------------------------------------------------------------------------

    def needs_for(self, rule: Rule, target: str | None) -> tuple[str, ...]:
        """The rule's `needs` and then the target state's, each once (memoised)."""
        key = (rule.index, target)
        needs = self._needs.get(key)
        if needs is None:
            extra = self.states[target].needs if target is not None else ()
            needs = self._needs[key] = rule.needs + tuple(name for name in extra if name not in rule.needs)
        return needs

    def move(self, state: str, trigger: str, target: str | None) -> str:
        """Run `trigger` from `state` towards `target` (None: an internal event) and return the
        state transitions arrived at."""
        carrier = _Carrier(state, target)
        if not self._events[trigger].trigger(carrier):
            raise AssertionError(f"the machine refused {trigger} from {state} to {target}, which the runtime had allowed")
        return carrier._state

    # --- building ------------------------------------------------------------------------

    def _place(self, rule: Rule, source: str) -> Rule:
        """The rule as taken from `source`, with its needs and effects worked out."""
        if rule.previous:
            return rule
        target = rule.to if rule.to is not None else source  # an internal event stays put
        effects = rule.effects + self.states[target].on_enter if rule.to is not None else rule.effects
        return dataclasses.replace(rule, all_needs=self.needs_for(rule, target), all_effects=effects)

    def _defaults(self) -> dict[str, tuple[Any, Any]]:
        """field -> (typed, JSON form) of its default (`=params.x` resolved)."""
        result: dict[str, tuple[Any, Any]] = {}
        for name, field in self.workflow.spec.fields.items():
            raw = field.default
            if raw is None:
                continue
            if isinstance(raw, str) and raw.startswith("="):
                raw = self.params.get(raw[1:].strip().removeprefix("params."))
                if raw is None:
                    continue
            typed = self.field_types[name].validate(raw)
            result[name] = (typed, to_json_value(typed))
        return result

    def _rule(
        self,
        index: int,
        trigger: str,
        guarded: Guarded,
        loc: Loc,
        to: str | None,
        *,
        extra_writes: Collection[str] = (),
        description: str | None = None,
    ) -> Rule:
        expressions = self.workflow.expressions
        checks = [
            CompiledCheck(expressions[(*loc, "checks", position, "when")], compile_template(check.otherwise), position)
            for position, check in enumerate(guarded.checks)
        ]
        if guarded.when is not None and guarded.otherwise is not None:
            checks.append(CompiledCheck(expressions[(*loc, "when")], compile_template(guarded.otherwise), len(checks)))
        do: list[Effect] = list(getattr(guarded, "do", ()))
        return Rule(
            index=index,
            trigger=trigger,
            to=to,
            previous=to == graph.PREVIOUS,
            by=tuple(guarded.by),
            needs=tuple(guarded.needs),
            writable=frozenset((*guarded.needs, *guarded.writes, *extra_writes)),
            assigns=tuple(guarded.assigns),
            checks=tuple(checks),
            effects=tuple(self._effect((*loc, "do", position), effect) for position, effect in enumerate(do)),
            description=description,
        )

    def _effect(self, loc: Loc, effect: Effect) -> CompiledEffect:
        when = self.workflow.expressions.get((*loc, "when")) if effect.when is not None else None
        if isinstance(effect, SetEffect):
            return CompiledEffect("set", loc, when, sets=tuple(self._set(loc, name, raw) for name, raw in effect.set.items()))
        if isinstance(effect, ClearEffect):
            return CompiledEffect("clear", loc, when, clears=tuple(effect.clear))
        if isinstance(effect, NotifyEffect):
            spec = effect.notify
            message = compile_template(spec.message) if spec.message is not None else None
            return CompiledEffect("notify", loc, when, notify=NotifyOp(tuple(spec.to), spec.template, message, spec.urgent))
        kinds: dict[type[Effect], str] = {
            SpawnEffect: "spawn",
            CancelChildrenEffect: "cancel_children",
            FireParentEffect: "fire_parent",
            ExtendEffect: "extend",
        }
        return CompiledEffect(kinds[type(effect)], loc, when)

    def _set(self, loc: Loc, name: str, raw: Any) -> SetOp:
        field_type = self.field_types[name]
        if isinstance(raw, str) and raw.startswith("="):
            return SetOp(name, field_type, self.workflow.expressions[(*loc, "set", name)])
        typed = field_type.validate(raw)
        return SetOp(name, field_type, None, typed, to_json_value(typed))

    def _build_machine(self) -> Machine:
        non_final = [name for name, state in self.states.items() if not state.final]
        machine = Machine(
            model=None,
            states=[_QuietState(name, final=state.final) for name, state in self.states.items()],
            initial=self.initial,
            auto_transitions=False,
            send_event=True,
            queued=False,
            model_attribute=MACHINE_STATE,
            name=f"{self.id}@{self.version}",
        )
        for (trigger, source), rules in self.candidates.items():
            dests: list[str | None] = []
            for rule in rules:
                for dest in non_final if rule.to == graph.PREVIOUS else [rule.to]:
                    if dest not in dests:
                        dests.append(dest)
            for dest in dests:
                conditions: list[str | Callable[..., bool | None]] | None = [_heading_to(dest)] if len(dests) > 1 else None
                machine.add_transition(trigger, source, dest, conditions=conditions)
        return machine


def _first_validation(validators: dict[str, Callable[[Any], Any]], name: str, field_type: FieldType) -> Callable[[Any], Any]:
    """A validator that builds the field's pydantic validator on its first call and puts it in
    its own place in `validators`, so every later event calls pydantic directly."""

    def first(value: Any) -> Any:
        validate = validators[name] = field_type.adapter.validate_python
        return validate(value)

    return first


def _encoder(field_type: FieldType) -> Callable[[Any], Any]:
    """typed -> JSON form for one field: cheap for the common primitive types."""
    kind = field_type.spec.type
    if kind in ("integer", "boolean"):
        return _same
    if kind == "date":
        return _isoformat
    if isinstance(field_type.type, (T.Primitive, T.ScaleType, T.EnumType)) and kind not in ("number", "datetime", "duration"):
        return nfc  # string, text, a scale or enumeration value
    return to_json_value


def _same(value: Any) -> Any:
    return value


def _isoformat(value: Any) -> Any:
    return value.isoformat()


def _conflicts(groups: list[list[str]]) -> dict[str, tuple[str, ...]]:
    """role -> the roles one person may not hold with it, sorted; `parent.<role>` waits for children."""
    pairs: dict[str, set[str]] = {}
    for group in groups:
        roles = [role for role in group if not role.startswith("parent.")]
        for role in roles:
            pairs.setdefault(role, set()).update(other for other in roles if other != role)
    return {role: tuple(sorted(others)) for role, others in pairs.items() if others}


def compile_workflow(workflow: Workflow) -> CompiledWorkflow:
    """The compiled form of a loaded workflow.

    Not cached here: the guards are bound to the functions of the registry the workflow was
    loaded with, which the definition's hash does not capture, so a cache keyed by the hash
    would hand one engine's guards to another. Each engine keeps what it compiled
    (engine.runtime.definitions), and compiling is a few milliseconds next to loading.
    """
    return CompiledWorkflow(workflow)

"""The semantic stage: names, graph, time and expressions checked; everything compiled.

Runs after the structural stage has produced a `WorkflowSpec`. Each `_check_*` method looks
at one part of the definition and reports problems into the document's issue list, so a QA
lead sees every mistake at once. Codes are stable and listed in docs/lint.md.

When nothing is wrong, the result is a `Workflow` with every expression compiled and every
duration parsed, keyed by where it was written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from engine.errors import DurationError, ExpressionError, Issue, Loc
from engine.expressions import RESERVED_NAMES, CompiledExpression, compile_expression
from engine.expressions import types as T
from engine.expressions.functions import FunctionRegistry
from engine.expressions.scope import Scope
from engine.language import graph
from engine.language.definition import (
    ClearEffect,
    DeadlineSpec,
    Effect,
    ExtendEffect,
    FieldSpec,
    FireParentEffect,
    Guarded,
    NotifyEffect,
    SetEffect,
    SpawnEffect,
    WorkflowSpec,
)
from engine.language.fieldtypes import FieldType, FieldTypeBuilder, Report, validation_message
from engine.language.workflow import Workflow
from engine.language.yamlsource import Mark, SourceDocument
from engine.suggest import did_you_mean
from engine.time.durations import Duration, parse_duration

NAME = re.compile(r"[a-z][a-z0-9_]*")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PARAM_TYPES = ("string", "text", "integer", "number", "boolean", "date", "duration")


class WorkflowChecker:
    """Checks one definition; `check()` returns the compiled Workflow or None."""

    def __init__(self, doc: SourceDocument, spec: WorkflowSpec, functions: FunctionRegistry, expected_id: str | None) -> None:
        self.doc = doc
        self.spec = spec
        self.functions = functions
        self.expected_id = expected_id
        self.used_fields: set[str] = set()
        self.used_params: set[str] = set()
        self.used_roles: set[str] = set()
        self.expressions: dict[Loc, CompiledExpression] = {}
        self.durations: dict[Loc, Duration] = {}
        self.field_types: dict[str, FieldType] = {}
        self.params: dict[str, Any] = {}
        self.param_types: dict[str, T.Type] = {}
        self.finals = graph.final_states(spec)

    # --- reporting ---------------------------------------------------------------------

    def error(self, loc: Loc, code: str, message: str, *, key: bool = False) -> None:
        self.doc.add(loc, code, message, key=key)

    def warning(self, loc: Loc, code: str, message: str) -> None:
        self.doc.add(loc, code, message, key=True, severity="warning")

    def unknown(self, loc: Loc, code: str, kind: str, name: str, choices: Iterable[str], *, key: bool = False) -> None:
        self.error(loc, code, f"unknown {kind} '{name}'{did_you_mean(name, choices)}", key=key)

    # --- the stages ----------------------------------------------------------------------

    def check(self) -> Workflow | None:
        self._check_header()
        self._check_names()
        self._check_params()
        self._check_fields()
        self.scope = self._scope()
        self._check_roles()
        self._check_states()
        self._check_start()
        self._check_transitions()
        self._check_graph()
        self._check_deadlines()
        self._check_computed()
        self._check_unused()
        if any(issue.is_error for issue in self.doc.issues):
            return None
        return Workflow(
            spec=self.spec,
            path=self.doc.path,
            source=self.doc.text,
            scope=self.scope,
            field_types=self.field_types,
            params=self.params,
            expressions=self.expressions,
            durations=self.durations,
            warnings=tuple(issue for issue in self.doc.issues if not issue.is_error),
        )

    def _check_header(self) -> None:
        if self.expected_id is not None and self.spec.workflow != self.expected_id:
            self.error(
                ("workflow",),
                "workflow_id_mismatch",
                f"the workflow id '{self.spec.workflow}' must match the file name '{self.expected_id}.yaml'",
            )
        if self.spec.initial not in self.spec.states:
            self.unknown(("initial",), "unknown_state", "state", self.spec.initial, self.spec.states)
        elif self.spec.states[self.spec.initial].final:
            self.error(("initial",), "initial_final", f"the initial state '{self.spec.initial}' is final, so nothing could ever happen")

    def _check_names(self) -> None:
        sections: list[tuple[str, Iterable[str]]] = [
            ("states", self.spec.states),
            ("roles", self.spec.roles),
            ("fields", self.spec.fields),
            ("params", self.spec.params),
            ("scales", self.spec.scales),
            ("types", self.spec.types),
            ("deadlines", self.spec.deadlines),
            ("computed", self.spec.computed),
        ]
        for section, names in sections:
            for name in names:
                if not NAME.fullmatch(name):
                    message = f"'{name}' must be lower_snake_case: a small letter, then small letters, digits or _"
                    self.error((section, name), "bad_name", message, key=True)
        if "system" in self.spec.roles:
            self.error(
                ("roles", "system"), "reserved_role", "'system' is built in (timers, deadlines, cascades) and can't be declared", key=True
            )
        for name in self.spec.fields:
            if name in RESERVED_NAMES or name in self.functions.names():
                self.error(("fields", name), "reserved_name", f"'{name}' is reserved in expressions; choose another field name", key=True)
        for index, transition in enumerate(self.spec.transitions):
            if not NAME.fullmatch(transition.trigger):
                self.error(("transitions", index, "trigger"), "bad_name", f"trigger '{transition.trigger}' must be lower_snake_case")
        for name, values in self.spec.scales.items():
            if not values:
                self.error(("scales", name), "empty_scale", f"scale '{name}' needs at least one value, best first")
            seen: set[str] = set()
            for position, value in enumerate(values):
                if value in seen:
                    self.error(("scales", name, position), "duplicate_scale_value", f"'{value}' appears twice in scale '{name}'")
                seen.add(value)
            if name in self.spec.types or name in (
                "string",
                "text",
                "integer",
                "number",
                "boolean",
                "date",
                "datetime",
                "duration",
                "list",
                "map",
                "object",
            ):
                self.error(("scales", name), "duplicate_type_name", f"scale '{name}' has the name of a type", key=True)

    def _check_params(self) -> None:
        for name, param in self.spec.params.items():
            loc: Loc = ("params", name)
            value = param.value
            declared = param.type
            if declared is None:
                declared = _infer_param_type(value)
            if declared is None:
                self.error(
                    (*loc,), "bad_param", f"param '{name}' must be a text, number, true/false or duration, got {type(value).__name__}"
                )
                continue
            if declared not in PARAM_TYPES and declared not in self.spec.scales:
                self.unknown(
                    (*loc, "type") if param.type else loc, "unknown_type", "param type", declared, [*PARAM_TYPES, *self.spec.scales]
                )
                continue
            builder = FieldTypeBuilder(self.spec.scales, self.spec.types, self._reporter())
            field_type = builder.build(FieldSpec(type=declared), loc)
            if field_type is None:
                continue
            value_loc = (*loc, "value") if (*loc, "value") in self.doc.value_marks else loc
            try:
                self.params[name] = field_type.validate(value)
            except ValidationError as exc:
                self.error(value_loc, "bad_param", f"param '{name}': {validation_message(exc)}")
                continue
            self.param_types[name] = field_type.type

    def _reporter(self) -> Report:
        return lambda loc, code, message: self.error(loc, code, message)

    def _check_fields(self) -> None:
        builder = FieldTypeBuilder(self.spec.scales, self.spec.types, self._reporter())
        for type_name, members in self.spec.types.items():
            for key, member in members.items():
                builder.build(member, ("types", type_name, key))
        for name, spec in self.spec.fields.items():
            loc: Loc = ("fields", name)
            field_type = builder.build(spec, loc)
            if field_type is None:
                continue
            self.field_types[name] = field_type
            if spec.default is not None:
                self._check_default(loc, spec.default, field_type)

    def _check_default(self, loc: Loc, default: Any, field_type: FieldType) -> None:
        default_loc = (*loc, "default")
        if isinstance(default, str) and default.startswith("="):
            reference = default[1:].strip()
            name = reference.removeprefix("params.")
            if not reference.startswith("params.") or name not in self.spec.params:
                self.unknown(default_loc, "bad_default", "param for a default", reference, [f"params.{p}" for p in self.spec.params])
                return
            self.used_params.add(name)
            default = self.params.get(name)
            if default is None:
                return
        try:
            field_type.validate(default)
        except ValidationError as exc:
            self.error(default_loc, "bad_default", f"the default does not fit the field: {validation_message(exc)}")

    def _scope(self, item: T.Type | None = None) -> Scope:
        # A declaration that failed to build is reported where it is declared; it still
        # exists (typed `any`), so its uses don't each add a misleading "unknown name".
        fields = {name: T.ANY for name in self.spec.fields} | {name: ft.type for name, ft in self.field_types.items()}
        params = {name: T.ANY for name in self.spec.params} | self.param_types
        return Scope(
            fields=fields,
            params=params,
            roles=frozenset(self.spec.roles),
            states=frozenset(self.spec.states),
            deadlines=frozenset(self.spec.deadlines),
            functions=self.functions,
            item=item,
        )

    def _check_roles(self) -> None:
        for index, group in enumerate(self.spec.separate):
            if len(group) < 2:
                self.error(("separate", index), "bad_separate", "a `separate` group needs at least two roles")
            for position, role in enumerate(group):
                self._role(
                    (("separate", index, position)), role.removeprefix("parent."), allow_system=False, parent=role.startswith("parent.")
                )

    def _role(self, loc: Loc, role: str, *, allow_system: bool, parent: bool = False) -> None:
        if parent:
            return  # a parent's roles are declared in another file, which this stage does not read
        if role == "system":
            if not allow_system:
                self.error(loc, "reserved_role", "'system' can't be used here: only the engine holds it")
            return
        if role not in self.spec.roles:
            self.unknown(loc, "unknown_role", "role", role, self.spec.roles)
            return
        self.used_roles.add(role)

    def _field(self, loc: Loc, name: str, *, key: bool = False) -> None:
        if name not in self.spec.fields:
            self.unknown(loc, "unknown_field", "field", name, self.spec.fields, key=key)
            return
        self.used_fields.add(name)

    def _state(self, loc: Loc, name: str) -> bool:
        if name not in self.spec.states:
            self.unknown(loc, "unknown_state", "state", name, self.spec.states)
            return False
        return True

    def _check_states(self) -> None:
        for name, state in self.spec.states.items():
            loc: Loc = ("states", name)
            for position, field_name in enumerate(state.needs):
                self._field((*loc, "needs", position), field_name)
            for position, timer in enumerate(state.timers):
                self._check_timer((*loc, "timers", position), name, timer.after, timer.at, timer.fire)
            for position, effect in enumerate(state.on_enter):
                self._check_effect((*loc, "on_enter", position), effect)

    def _check_timer(self, loc: Loc, state: str, after: str | None, at: str | None, fire: str) -> None:
        if self.spec.states[state].final:
            self.error(loc, "timer_on_final", f"state '{state}' is final: its timers could never fire")
        if (after is None) == (at is None):
            self.error(loc, "bad_timer", "a timer needs exactly one of `after:` (a duration) or `at:` (a date field)")
        elif after is not None:
            self._duration((*loc, "after"), after)
        elif at is not None:
            self._moment((*loc, "at"), at)
        if not graph.handles(self.spec, fire, [state], by_system=True):
            self.error((*loc, "fire"), "unhandled_trigger", f"no transition from '{state}' with `by: system` handles '{fire}'")

    def _moment(self, loc: Loc, value: str) -> None:
        if value.startswith("="):
            self._expression(loc, value, None, moment=True)
            return
        self._field(loc, value)
        field_type = self.field_types.get(value)
        if field_type is not None and field_type.type not in (T.DATE, T.DATETIME):
            self.error(loc, "type_mismatch", f"`at` needs a date or datetime field; '{value}' is {field_type.type.describe()}")

    def _duration(self, loc: Loc, value: str) -> None:
        if value.startswith("="):
            self._expression(loc, value, T.DURATION)
            return
        if value.startswith("params."):
            name = value.removeprefix("params.")
            if name not in self.spec.params:
                self.unknown(loc, "unknown_param", "param", name, self.spec.params)
                return
            self.used_params.add(name)
            if self.param_types.get(name, T.DURATION) != T.DURATION:
                self.error(loc, "type_mismatch", f"param '{name}' is not a duration")
                return
            if isinstance(self.params.get(name), Duration):
                self.durations[loc] = self.params[name]
            return
        try:
            self.durations[loc] = parse_duration(value)
        except DurationError as exc:
            mark = self.doc.mark_in_string(loc, exc.offset)
            self.doc.issues.append(_issue(self.doc.path, mark, "bad_duration", exc.message, loc))

    def _expression(
        self, loc: Loc, text: str, expected: T.Type | None, *, scope: Scope | None = None, moment: bool = False
    ) -> CompiledExpression | None:
        source, prefix = (text[1:], 1) if text.startswith("=") else (text, 0)
        try:
            compiled = compile_expression(source, scope or self.scope, expected)
        except ExpressionError as exc:
            mark = self.doc.mark_in_string(loc, exc.offset + prefix)
            self.doc.issues.append(_issue(self.doc.path, mark, exc.code, exc.message, loc))
            return None
        if moment and compiled.type not in (T.DATE, T.DATETIME, T.NONE):
            self.error(loc, "type_mismatch", f"expected a date or datetime, but the expression is {compiled.type.describe()}")
        self._note_names(compiled.names)
        self.expressions[loc] = compiled
        return compiled

    def _note_names(self, names: Iterable[str]) -> None:
        for name in names:
            root, _, rest = name.partition(".")
            if root == "params":
                self.used_params.add(rest.split(".")[0])
            elif root == "assignees":
                self.used_roles.add(rest.split(".")[0])
            elif not rest or root in self.spec.fields:
                self.used_fields.add(root)

    def _value(self, loc: Loc, raw: Any, field_type: FieldType | None, scope: Scope | None = None) -> None:
        """A `set`/`with` value: a literal, or `=expression`."""
        if isinstance(raw, str) and raw.startswith("="):
            self._expression(loc, raw, field_type.type if field_type else None, scope=scope)
            return
        if field_type is not None:
            try:
                field_type.validate(raw)
            except ValidationError as exc:
                self.error(loc, "bad_value", f"{validation_message(exc)}")

    def _check_guarded(self, loc: Loc, guarded: Guarded, *, is_start: bool) -> None:
        for position, role in enumerate(guarded.by):
            self._role((*loc, "by", position), role, allow_system=True)
        if not guarded.by and not is_start:
            self.error(loc, "no_roles", "say who may fire this: `by: [role, ...]` (or `by: system`)")
        for key in ("needs", "writes"):
            for position, name in enumerate(getattr(guarded, key)):
                self._field((*loc, key, position), name)
        for position, role in enumerate(guarded.assigns):
            self._role((*loc, "assigns", position), role, allow_system=False)
        for position, check in enumerate(guarded.checks):
            self._expression((*loc, "checks", position, "when"), check.when, T.BOOLEAN)
            self._template((*loc, "checks", position, "otherwise"), check.otherwise)
        if (guarded.when is None) != (guarded.otherwise is None):
            present, missing = ("when", "otherwise") if guarded.when is not None else ("otherwise", "when")
            self.error((*loc, present), "bad_check", f"`when` and `otherwise` go together: add `{missing}:`", key=True)
        if guarded.when is not None:
            self._expression((*loc, "when"), guarded.when, T.BOOLEAN)
        if guarded.otherwise is not None:
            self._template((*loc, "otherwise"), guarded.otherwise)

    def _template(self, loc: Loc, text: str) -> None:
        """`otherwise` and `message` texts may show {field} and {params.x}."""
        for match in PLACEHOLDER.finditer(text):
            name = match.group(1).strip()
            if name.startswith("params."):
                param = name.removeprefix("params.")
                if param in self.spec.params:
                    self.used_params.add(param)
                    continue
            elif name in self.spec.fields:
                self.used_fields.add(name)
                continue
            mark = self.doc.mark_in_string(loc, match.start(1))
            choices = [*self.spec.fields, *(f"params.{p}" for p in self.spec.params)]
            hint = did_you_mean(name, choices)
            self.doc.issues.append(_issue(self.doc.path, mark, "unknown_placeholder", f"'{{{name}}}' names no field or param{hint}", loc))

    def _check_start(self) -> None:
        self._check_guarded(("start",), self.spec.start, is_start=True)

    def _check_transitions(self) -> None:
        for index, transition in enumerate(self.spec.transitions):
            loc: Loc = ("transitions", index)
            if not transition.from_:
                self.error((*loc, "from"), "bad_value", "'from' needs at least one state (or \"*\" for every non-final state)")
            for position, source in enumerate(transition.from_):
                if source == graph.EVERY:
                    continue
                if self._state((*loc, "from", position), source) and self.spec.states[source].final:
                    self.error((*loc, "from", position), "transition_from_final", f"'{source}' is final: no transition may leave it")
            if transition.to is not None and transition.to != graph.PREVIOUS:
                self._state((*loc, "to"), transition.to)
            self._check_guarded(loc, transition, is_start=False)
            for position, effect in enumerate(transition.do):
                self._check_effect((*loc, "do", position), effect)
            shadow = graph.shadowed_by(self.spec, index)
            if shadow is not None:
                self.error(
                    (*loc, "trigger"),
                    "unreachable_transition",
                    f"this '{transition.trigger}' can never be taken: transition {shadow + 1} has the same trigger, "
                    "sources and roles and no checks, so it always wins",
                )

    def _check_effect(self, loc: Loc, effect: Effect) -> None:
        if effect.when is not None:
            self._expression((*loc, "when"), effect.when, T.BOOLEAN)
        if isinstance(effect, SetEffect):
            for name, raw in effect.set.items():
                self._field((*loc, "set", name), name, key=True)
                self._value((*loc, "set", name), raw, self.field_types.get(name))
        elif isinstance(effect, ClearEffect):
            for position, name in enumerate(effect.clear):
                self._field((*loc, "clear", position), name)
                if name in self.spec.fields and self.spec.fields[name].required:
                    self.error((*loc, "clear", position), "clear_required", f"'{name}' is required and can't be cleared")
        elif isinstance(effect, SpawnEffect):
            self._check_spawn(loc, effect)
        elif isinstance(effect, FireParentEffect):
            for name, raw in effect.fire_parent.with_.items():
                self._value((*loc, "fire_parent", "with", name), raw, None)
        elif isinstance(effect, NotifyEffect):
            for position, role in enumerate(effect.notify.to):
                self._role((*loc, "notify", "to", position), role, allow_system=False)
            if not effect.notify.template and not effect.notify.message:
                self.error((*loc, "notify"), "bad_effect", "a notification needs a `template:` or a `message:`")
            if effect.notify.message:
                self._template((*loc, "notify", "message"), effect.notify.message)
        elif isinstance(effect, ExtendEffect):
            if effect.extend.deadline not in self.spec.deadlines:
                self.unknown((*loc, "extend", "deadline"), "unknown_deadline", "deadline", effect.extend.deadline, self.spec.deadlines)
            self._duration((*loc, "extend", "by"), effect.extend.by)

    def _check_spawn(self, loc: Loc, effect: SpawnEffect) -> None:
        item: T.Type | None = None
        if effect.for_each is not None:
            each_loc = (*loc, "for_each")
            if effect.for_each.startswith("="):
                compiled = self._expression(each_loc, effect.for_each, None)
                if compiled is not None and isinstance(compiled.type, T.ListType):
                    item = compiled.type.item
                elif compiled is not None:
                    self.error(each_loc, "type_mismatch", f"`for_each` needs a list, but the expression is {compiled.type.describe()}")
            else:
                self._field(each_loc, effect.for_each)
                field_type = self.field_types.get(effect.for_each)
                if field_type is not None and isinstance(field_type.type, T.ListType):
                    item = field_type.type.item
                elif field_type is not None:
                    self.error(
                        each_loc, "type_mismatch", f"`for_each` needs a list field; '{effect.for_each}' is {field_type.type.describe()}"
                    )
        scope = self._scope(item) if item is not None else self.scope
        for name, raw in effect.with_.items():
            self._value((*loc, "with", name), raw, None, scope)
        for role, raw in effect.assign.items():
            self._value((*loc, "assign", role), raw, None, scope)
        if effect.then is not None and effect.then not in graph.triggers(self.spec):
            self.unknown((*loc, "then"), "unhandled_trigger", "trigger", effect.then, graph.triggers(self.spec))

    def _check_graph(self) -> None:
        if self.spec.initial not in self.spec.states:
            return
        reached = graph.reachable(self.spec, self.spec.initial)
        for name, state in self.spec.states.items():
            if name not in reached:
                self.error(("states", name), "unreachable_state", f"state '{name}' can't be reached from '{self.spec.initial}'", key=True)
            elif not state.final and not graph.has_way_out(self.spec, name):
                self.error(("states", name), "no_way_out", f"state '{name}' is not final but no transition leaves it", key=True)

    def _check_deadlines(self) -> None:
        for name, deadline in self.spec.deadlines.items():
            self._check_deadline(("deadlines", name), deadline)

    def _check_deadline(self, loc: Loc, deadline: DeadlineSpec) -> None:
        self._duration((*loc, "within"), deadline.within)
        start = deadline.from_
        arm = self.spec.initial
        if start.entered is not None and start.field is not None:
            self.error((*loc, "from"), "bad_deadline", "a deadline starts from one thing: `entered:` or `field:`, not both")
        elif start.entered is not None:
            if self._state((*loc, "from", "entered"), start.entered):
                arm = start.entered
        elif start.field is not None:
            self._moment((*loc, "from", "field"), start.field)
        for position, state in enumerate(deadline.until):
            self._state((*loc, "until", position), state)
        if arm not in self.spec.states:
            return  # the unknown initial state is reported once; guessing here would only add noise
        pending = graph.reachable(self.spec, arm, stop_at=deadline.until) - set(deadline.until) - self.finals
        events: list[tuple[Loc, str]] = []
        for position, reminder in enumerate(deadline.reminders):
            self._duration((*loc, "reminders", position, "before"), reminder.before)
            events.append(((*loc, "reminders", position, "fire"), reminder.fire))
        if deadline.on_breach is not None:
            events.append(((*loc, "on_breach"), deadline.on_breach))
        for position, escalation in enumerate(deadline.escalations):
            self._duration((*loc, "escalations", position, "after"), escalation.after)
            events.append(((*loc, "escalations", position, "fire"), escalation.fire))
        for event_loc, trigger in events:
            if not graph.handles(self.spec, trigger, pending, by_system=True):
                self.error(
                    event_loc,
                    "unhandled_trigger",
                    f"no transition with `by: system` handles '{trigger}' in any state where this deadline can still be pending",
                )

    def _check_computed(self) -> None:
        computed: dict[str, T.Type] = {}
        for name, text in self.spec.computed.items():
            if name in self.spec.fields:
                self.error(("computed", name), "duplicate_name", f"'{name}' is already a field", key=True)
            elif name in RESERVED_NAMES or name in self.functions.names():
                self.error(("computed", name), "reserved_name", f"'{name}' is reserved in expressions; choose another name", key=True)
            compiled = self._expression(("computed", name), text, None)
            if compiled is not None:
                computed[name] = compiled.type
        if computed:
            self.scope = Scope(**{**self.scope.__dict__, "computed": computed})

    def _check_unused(self) -> None:
        for name, spec in self.spec.fields.items():
            if name not in self.used_fields and not spec.required:
                self.warning(("fields", name), "unused_field", f"field '{name}' is declared but never used")
        for name in self.spec.params:
            if name not in self.used_params:
                self.warning(("params", name), "unused_param", f"param '{name}' is declared but never used")
        for name in self.spec.roles:
            if name not in self.used_roles and name != "system":
                self.warning(("roles", name), "unused_role", f"role '{name}' is declared but never used")


def _infer_param_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, str):
        try:
            parse_duration(value)
            return "duration"
        except DurationError:
            return "string"
    if isinstance(value, Decimal):
        return "number"
    return None


def _issue(path: str, mark: Mark, code: str, message: str, loc: Loc) -> Issue:
    return Issue(path, mark.line, mark.col, "error", code, message, loc)

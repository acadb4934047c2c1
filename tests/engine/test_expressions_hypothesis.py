"""Property tests: compiling never fails except with ExpressionError, and compiled conditions
never fail except with ExpressionRuntimeError, whatever the text and whatever the data."""

from __future__ import annotations

import contextlib
import datetime as dt
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ExpressionError
from engine.expressions import ExpressionRuntimeError, compile_expression, default_functions
from engine.expressions.scope import Scope
from engine.expressions.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DURATION,
    INTEGER,
    NUMBER,
    STRING,
    TEXT,
    DeadlineView,
    EnumType,
    ListType,
    MapType,
    ObjectType,
    ScaleType,
    Type,
)
from engine.time.calendars import Calendar
from engine.time.durations import Duration

GRADE = ScaleType("grade", ("outstanding", "good", "requires_improvement", "inadequate"))
OUTCOME = EnumType(("agree", "disagree"))
ACTION = ObjectType((("owner", STRING), ("due", DATE), ("grade", GRADE)))
FIELDS: dict[str, Type] = {
    "grade": GRADE,
    "other_grade": GRADE,
    "ref": STRING,
    "summary": TEXT,
    "months": INTEGER,
    "score": NUMBER,
    "outcome": OUTCOME,
    "flag": BOOLEAN,
    "due_at": DATE,
    "met_at": DATETIME,
    "window": DURATION,
    "tags": ListType(STRING),
    "grades": ListType(GRADE),
    "actions": ListType(ACTION),
    "notes": MapType(TEXT),
    "judgement": ObjectType((("grade", GRADE), ("note", TEXT))),
}
STATES = ("allocated", "completed", "closed")
SCOPE = Scope(
    fields=FIELDS,
    params={"limit": INTEGER, "period": DURATION},
    roles=frozenset({"auditor", "manager"}),
    states=frozenset(STATES),
    deadlines=frozenset({"due"}),
    functions=default_functions(),
    parent_fields=None,
    item=ACTION,
    computed={"age": INTEGER},
)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- random expression text ----------------------------------------------------------------

NAMES = [
    *FIELDS,
    "judgement.grade",
    "notes['North']",
    "params.limit",
    "params.period",
    "actor.id",
    "actor.roles",
    "assignees.auditor",
    "parent.x",
    "parent.y.z",
    "parent.assignees.auditor",
    "item",
    "item.owner",
    "item.grade",
    "state",
    "deadlines.due.due",
    "deadlines.due.breached",
    "age",
    "unknown",
]
LITERALS = [
    "0",
    "1",
    "-3",
    "2.5",
    "0.0",
    "''",
    "'good'",
    "'inadequate'",
    "'x'",
    "'2 days'",
    "'1 month'",
    "'3 working days'",
    "True",
    "False",
    "None",
    "[]",
    "['good', 'inadequate']",
    "[1, 2]",
    "'allocated'",
]
FUNCTIONS = [
    "len",
    "today",
    "now",
    "days_since",
    "working_days_since",
    "working_days_until",
    "add_working_days",
    "worse_than",
    "better_than",
    "worst",
    "any_worse_than",
    "all_have",
    "count",
    "entered_at",
    "times_entered",
    "count_children",
    "all_children_final",
    "nope",
]
BINARY = ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or", "is", "is not", "%", "**"]


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        children.map(lambda c: f"not {c}"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"({c})"),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} if {t[1]} else {t[2]}"),
        st.tuples(st.sampled_from(FUNCTIONS), st.lists(children, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(children, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        st.tuples(children, st.sampled_from(["x", "__class__", "grade"])).map(lambda t: f"{t[0]}.{t[1]}"),
    )


EXPRESSIONS = st.recursive(st.sampled_from(NAMES + LITERALS), _combine, max_leaves=10)

# Well-typed expressions, built by type, so that most of them compile and get evaluated.


def _pick(*options: str) -> st.SearchStrategy[str]:
    return st.sampled_from(options)


def _binary(left: st.SearchStrategy[str], ops: list[str], right: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(left, st.sampled_from(ops), right).map(lambda t: f"{t[0]} {t[1]} {t[2]}")


def _branch(kind: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(kind, st.deferred(lambda: BOOLS), kind).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})")


NUMS: st.SearchStrategy[str] = st.deferred(
    lambda: (
        _pick(
            "months",
            "score",
            "params.limit",
            "age",
            "1",
            "2.5",
            "-3",
            "0",
            "len(tags)",
            "len(ref)",
            "len(notes)",
            "days_since(due_at)",
            "working_days_since(due_at)",
            "working_days_until(met_at)",
            "times_entered('allocated')",
            "count(actions, 'owner', ref)",
            "count(actions, 'grade', 'good')",
            "count_children('w', ['a'])",
            "(today() - due_at)",
            "parent.x",
        )
        | _binary(NUMS, ["+", "-", "*", "/"], NUMS)
        | NUMS.map(lambda n: f"-({n})")
        | _branch(NUMS)
    )
)
STRS: st.SearchStrategy[str] = st.deferred(
    lambda: (
        _pick("ref", "summary", "actor.id", "assignees.auditor", "'x'", "item.owner", "notes['North']", "parent.y.z")
        | _binary(STRS, ["+"], STRS)
        | _branch(STRS)
    )
)
GRADES: st.SearchStrategy[str] = st.deferred(
    lambda: _pick("grade", "other_grade", "judgement.grade", "item.grade", "worst(grades)", "worst([grade, other_grade])") | _branch(GRADES)
)
DATES_: st.SearchStrategy[str] = st.deferred(
    lambda: (
        _pick("due_at", "today()", "due_at + window", "due_at - params.period", "due_at + '2 days'", "item.due")
        | st.tuples(DATES_, st.integers(-40, 40)).map(lambda t: f"add_working_days({t[0]}, {t[1]})")
        | _branch(DATES_)
    )
)
MOMENTS_: st.SearchStrategy[str] = st.deferred(
    lambda: (
        _pick(
            "met_at",
            "now()",
            "deadlines.due.due",
            "entered_at('allocated')",
            "met_at + window",
            "now() - '1 month'",
            "add_working_days(now(), 3)",
            "met_at + '36 hours'",
        )
        | _branch(MOMENTS_)
    )
)
BOOLS: st.SearchStrategy[str] = st.deferred(
    lambda: (
        _pick(
            "flag",
            "True",
            "False",
            "deadlines.due.breached",
            "deadlines.due.met",
            "all_have(actions, 'owner', 'due')",
            "all_children_final('w')",
            "state == 'allocated'",
            "state in ['allocated', 'closed']",
            "'a' in tags",
            "'North' in notes",
            "'x' in ref",
            "outcome == 'agree'",
            "actor.id in ['ana', ref]",
            "'auditor' in actor.roles",
        )
        | _binary(BOOLS, ["and", "or"], BOOLS)
        | BOOLS.map(lambda b: f"not ({b})")
        | _binary(NUMS, ["==", "!=", "<", "<=", ">", ">="], NUMS)
        | st.tuples(NUMS, NUMS, NUMS).map(lambda t: f"{t[0]} < {t[1]} <= {t[2]}")
        | _binary(STRS, ["==", "!=", "<", "in", "not in"], STRS)
        | _binary(GRADES, ["==", "!="], GRADES)
        | GRADES.map(lambda g: f"{g} in ['good', 'inadequate']")
        | st.tuples(_pick("worse_than", "better_than"), GRADES, GRADES).map(lambda t: f"{t[0]}({t[1]}, {t[2]})")
        | GRADES.map(lambda g: f"any_worse_than(grades, {g})")
        | _binary(DATES_, ["==", "<", ">="], DATES_)
        | _binary(MOMENTS_, ["!=", "<=", ">"], MOMENTS_)
        | st.tuples(st.one_of(NUMS, STRS, GRADES, DATES_, MOMENTS_), _pick("is None", "is not None")).map(" ".join)
        | _branch(BOOLS)
    )
)


# --- random contexts -----------------------------------------------------------------------

MOMENTS = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1), timezones=st.just(dt.UTC))
DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 1, 1))
DECIMALS = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=3)
DURATIONS = st.builds(
    Duration,
    months=st.integers(0, 24),
    days=st.integers(0, 400),
    working_days=st.integers(0, 60),
    seconds=st.integers(0, 10**6),
)
ANYTHING = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-100, 100), DECIMALS, st.text(max_size=5), DATES),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=6,
)


def values_of(type_: Type) -> st.SearchStrategy[Any]:
    """Values the runtime could hold for a type, after validation (None for unset)."""
    if isinstance(type_, ScaleType | EnumType):
        return st.none() | st.sampled_from(type_.values)
    if isinstance(type_, ListType):
        return st.none() | st.lists(values_of(type_.item), max_size=3)
    if isinstance(type_, MapType):
        return st.none() | st.dictionaries(st.sampled_from(["North", "South"]), values_of(type_.item), max_size=2)
    if isinstance(type_, ObjectType):
        return st.none() | st.fixed_dictionaries({name: values_of(item) for name, item in type_.fields})
    simple: dict[Type, st.SearchStrategy[Any]] = {
        STRING: st.text(max_size=6),
        TEXT: st.text(max_size=6),
        INTEGER: st.integers(-(10**6), 10**6),
        NUMBER: DECIMALS,
        BOOLEAN: st.booleans(),
        DATE: DATES,
        DATETIME: MOMENTS,
        DURATION: DURATIONS,
        ANY: ANYTHING,
    }
    return st.none() | simple[type_]


@dataclass
class FakeContext:
    data: Mapping[str, Any]
    params: Mapping[str, Any]
    item: Any
    parent_data: Mapping[str, Any] | None
    state: str | None
    now: dt.datetime
    deadlines: Mapping[str, DeadlineView]
    actor_id: str | None = "ana"
    actor_roles: Sequence[str] = ("auditor",)
    assignees: Mapping[str, str] = field(default_factory=lambda: {"auditor": "ana"})
    parent_assignees: Mapping[str, str] | None = None
    calendar: Calendar = field(default_factory=Calendar.for_region)
    computed: Mapping[str, Any] = field(default_factory=lambda: {"age": 3})

    def entered_at(self, state: str) -> dt.datetime | None:
        return self.now if state == self.state else None

    def times_entered(self, state: str) -> int:
        return 1 if state == self.state else 0

    def count_children(self, workflow: str, states: Sequence[str] | None) -> int:
        return 0

    def all_children_final(self, workflow: str) -> bool:
        return True


CONTEXTS = st.builds(
    FakeContext,
    data=st.fixed_dictionaries({}, optional={name: values_of(type_) for name, type_ in FIELDS.items()}),
    params=st.fixed_dictionaries({"limit": values_of(INTEGER), "period": values_of(DURATION)}),
    item=values_of(ACTION),
    parent_data=st.none() | st.dictionaries(st.sampled_from(["x", "y"]), ANYTHING, max_size=2),
    state=st.none() | st.sampled_from(STATES),
    now=MOMENTS,
    deadlines=st.dictionaries(st.just("due"), st.builds(DeadlineView, due=st.none() | MOMENTS, breached=st.booleans(), met=st.booleans())),
)


# --- properties ----------------------------------------------------------------------------


@SETTINGS
@given(st.text(max_size=300) | st.text(alphabet=string.printable, max_size=300))
def test_any_text_compiles_or_raises_expression_error(text: str) -> None:
    try:
        compile_expression(text, SCOPE)
    except ExpressionError as exc:
        assert 0 <= exc.offset < max(len(text), 1)


@SETTINGS
@given(st.text(alphabet="()[]{}'\"#\\ \n\t.,:=<>!+-*/%&|^~@ab01_", max_size=200))
def test_punctuation_soup_compiles_or_raises_expression_error(text: str) -> None:
    try:
        compile_expression(text, SCOPE, BOOLEAN)
    except ExpressionError as exc:
        assert 0 <= exc.offset < max(len(text), 1)


@SETTINGS
@given(EXPRESSIONS, st.sampled_from([None, BOOLEAN, INTEGER, NUMBER, GRADE, STRING, DATE, ListType(GRADE)]))
def test_generated_expressions_compile_or_raise_expression_error(text: str, expected: Type | None) -> None:
    try:
        compiled = compile_expression(text, SCOPE, expected)
    except ExpressionError as exc:
        assert 0 <= exc.offset < max(len(text), 1)
    else:
        assert compiled.type == expected or expected is None


@SETTINGS
@given(BOOLS, st.data())
def test_well_typed_conditions_compile_and_only_fail_with_expression_runtime_error(text: str, data: st.DataObject) -> None:
    try:
        compiled = compile_expression(text, SCOPE, BOOLEAN)
    except ExpressionError as exc:
        # Generated conditions are well typed; only the size limits may refuse them.
        assert exc.code.startswith("expression_too"), (exc.code, exc.message)
        return
    for _ in range(3):
        ctx = data.draw(CONTEXTS)
        try:
            result = compiled.evaluate(ctx)
        except ExpressionRuntimeError:
            continue
        assert result is True or result is False


@SETTINGS
@given(st.one_of(EXPRESSIONS, NUMS, STRS, GRADES, DATES_, MOMENTS_), CONTEXTS)
def test_compiled_values_only_fail_with_expression_runtime_error(text: str, ctx: FakeContext) -> None:
    try:
        compiled = compile_expression(text, SCOPE)
    except ExpressionError:
        return
    with contextlib.suppress(ExpressionRuntimeError):
        compiled.evaluate(ctx)

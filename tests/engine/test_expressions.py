"""The expression language: typing, evaluation, null and scale rules, errors with positions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from engine.errors import ExpressionError, FunctionError
from engine.expressions import (
    CompiledExpression,
    ExpressionRuntimeError,
    Signature,
    compile_expression,
    default_functions,
)
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

UTC = dt.UTC
GRADE = ScaleType("grade", ("outstanding", "good", "requires_improvement", "inadequate"))
RISK = ScaleType("risk", ("low", "medium", "high"))
OUTCOME = EnumType(("agree", "agree_with_comments", "disagree"))
JUDGEMENT = ObjectType((("grade", GRADE), ("evidence", TEXT)), "judgement")
ACTION = ObjectType((("description", TEXT), ("owner", STRING), ("due", DATE), ("priority", RISK)))
GRADES = ObjectType((("safety", GRADE), ("planning", GRADE)))

SCOPE = Scope(
    fields={
        "overall_grade": GRADE,
        "original_grade": GRADE,
        "risk": RISK,
        "child_ref": STRING,
        "summary": TEXT,
        "lookback_months": INTEGER,
        "score": NUMBER,
        "outcome": OUTCOME,
        "approved": BOOLEAN,
        "domains": ObjectType((("voice_of_child", JUDGEMENT), ("planning", JUDGEMENT))),
        "grades": GRADES,
        "strengths": ListType(TEXT),
        "grade_list": ListType(GRADE),
        "counts": ListType(INTEGER),
        "due_at": DATE,
        "met_at": DATETIME,
        "window": DURATION,
        "actions": ListType(ACTION),
        "notes_by_team": MapType(TEXT),
        "grades_by_team": MapType(GRADE),
    },
    params={"audit_window": DURATION, "threshold": INTEGER, "rate": NUMBER},
    roles=frozenset({"auditor", "team_manager"}),
    states=frozenset({"allocated", "discussion_held", "completed", "closed"}),
    deadlines=frozenset({"audit_due"}),
    functions=default_functions(),
    workflows=frozenset({"moderation", "action_plan"}),
    parent_fields={"child_ref": STRING, "overall_grade": GRADE},
    parent_roles=frozenset({"auditor"}),
    computed={"days_open": INTEGER},
)
ITEM_SCOPE = dataclasses.replace(SCOPE, item=ACTION)
OPEN_PARENT_SCOPE = dataclasses.replace(SCOPE, parent_fields=None, parent_roles=None, workflows=None)

# Friday 27 March 2026, 12:00 GMT; British Summer Time starts on Sunday 29 March.
NOW = dt.datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


@dataclass
class FakeContext:
    """What the runtime would supply for one event."""

    data: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    actor_id: str | None = "ana"
    actor_roles: Sequence[str] = ("auditor",)
    assignees: Mapping[str, str] = field(default_factory=dict)
    parent_data: Mapping[str, Any] | None = None
    parent_assignees: Mapping[str, str] | None = None
    item: Any = None
    state: str | None = "allocated"
    deadlines: Mapping[str, DeadlineView] = field(default_factory=dict)
    now: dt.datetime = NOW
    calendar: Calendar = field(default_factory=Calendar.for_region)
    computed: Mapping[str, Any] = field(default_factory=dict)
    entries: Mapping[str, list[dt.datetime]] = field(default_factory=dict)
    children: Sequence[tuple[str, str, bool]] = ()  # (workflow, state, final)

    def entered_at(self, state: str) -> dt.datetime | None:
        times = self.entries.get(state)
        return times[0] if times else None

    def times_entered(self, state: str) -> int:
        return len(self.entries.get(state, []))

    def count_children(self, workflow: str, states: Sequence[str] | None) -> int:
        return sum(1 for w, s, _ in self.children if w == workflow and (states is None or s in states))

    def all_children_final(self, workflow: str) -> bool:
        return all(final for w, _, final in self.children if w == workflow)


def compiled(text: str, scope: Scope = SCOPE, expected: Type | None = None) -> CompiledExpression:
    return compile_expression(text, scope, expected)


def run(text: str, ctx: FakeContext | None = None, scope: Scope = SCOPE, expected: Type | None = None) -> Any:
    return compiled(text, scope, expected).evaluate(ctx or FakeContext())


def with_data(**data: Any) -> FakeContext:
    return FakeContext(data=data)


def error(text: str, scope: Scope = SCOPE, expected: Type | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, scope, expected)
    return caught.value


# --- literals and types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "type_", "value"),
    [
        ("1", INTEGER, 1),
        ("-7", INTEGER, -7),
        ("1_000", INTEGER, 1000),
        ("1.5", NUMBER, Decimal("1.5")),
        ("0.1 + 0.2", NUMBER, Decimal("0.3")),
        ("1e3", NUMBER, Decimal("1e3")),
        ("'text'", STRING, "text"),
        ('"double"', STRING, "double"),
        ("'a' 'b'", STRING, "ab"),
        ("True", BOOLEAN, True),
        ("False", BOOLEAN, False),
        ("[1, 2]", ListType(INTEGER), [1, 2]),
        ("[1, 2.5]", ListType(NUMBER), [Decimal(1), Decimal("2.5")]),
        ("['a', None]", ListType(STRING), ["a", None]),
        ("[[1], []]", ListType(ListType(INTEGER)), [[1], []]),
    ],
)
def test_literals_have_types_and_values(text: str, type_: Type, value: Any) -> None:
    expression = compiled(text)
    assert expression.type == type_
    result = expression.evaluate(FakeContext())
    assert result == value
    assert type(result) is type(value)


def test_none_and_empty_list_literals() -> None:
    assert run("None") is None
    assert run("[]") == []


def test_number_literals_are_decimals_from_the_source_text() -> None:
    assert run("0.1") == Decimal("0.1")  # a binary float would give 0.1000000000000000055511151231257827
    assert str(run("2.50")) == "2.50"


# --- names -------------------------------------------------------------------------------


def test_reading_every_kind_of_name() -> None:
    ctx = FakeContext(
        data={
            "child_ref": "AB-1",
            "domains": {"planning": {"grade": "good", "evidence": "x"}},
            "notes_by_team": {"North": "late"},
        },
        params={"threshold": 3},
        assignees={"auditor": "bo"},
        parent_data={"child_ref": "P-1"},
        parent_assignees={"auditor": "cy"},
        state="completed",
        deadlines={"audit_due": DeadlineView(due=NOW, breached=True, met=False)},
        computed={"days_open": 12},
    )
    expected = {
        "child_ref": "AB-1",
        "domains.planning.grade": "good",
        "domains.voice_of_child.grade": None,
        "notes_by_team['North']": "late",
        "notes_by_team['South']": None,
        "params.threshold": 3,
        "actor.id": "ana",
        "actor.roles": ["auditor"],
        "assignees.auditor": "bo",
        "assignees.team_manager": None,
        "parent.child_ref": "P-1",
        "parent.assignees.auditor": "cy",
        "state": "completed",
        "deadlines.audit_due.due": NOW,
        "deadlines.audit_due.breached": True,
        "deadlines.audit_due.met": False,
        "days_open": 12,
    }
    for text, value in expected.items():
        assert run(text, ctx) == value, text


def test_a_deadline_not_armed_is_neither_breached_nor_met() -> None:
    assert run("deadlines.audit_due.due") is None
    assert run("deadlines.audit_due.breached") is False
    assert run("deadlines.audit_due.met") is False


def test_parent_names_without_a_parent_are_none() -> None:
    assert run("parent.child_ref") is None
    assert run("parent.assignees.auditor") is None


def test_item_inside_for_each() -> None:
    ctx = FakeContext(item={"owner": "dee", "priority": "high"})
    assert run("item.owner", ctx, ITEM_SCOPE) == "dee"
    assert run("item.priority == 'high'", ctx, ITEM_SCOPE) is True
    assert compiled("item.owner", ITEM_SCOPE).names == frozenset({"item.owner"})
    assert error("item.owner").code == "unknown_name"
    assert error("item.ownr", ITEM_SCOPE).message == "'item' has no key 'ownr'; did you mean 'item.owner'?"


def test_unknown_parent_fields_are_any_when_parents_are_not_known() -> None:
    expression = compiled("parent.whatever.deep", OPEN_PARENT_SCOPE)
    assert expression.type == ANY
    assert expression.evaluate(FakeContext(parent_data={"whatever": {"deep": 5}})) == 5
    assert run("parent.assignees.anyone", scope=OPEN_PARENT_SCOPE) is None


def test_names_lists_what_the_expression_reads() -> None:
    text = (
        "domains.planning.grade == 'good' and params.threshold > len(actions) and assignees.auditor != actor.id "
        "and actor.roles == [] and parent.child_ref == child_ref and parent.assignees.auditor is None "
        "and state == 'closed' and deadlines.audit_due.met and days_open > 1 and notes_by_team['N'] == ''"
    )
    assert compiled(text).names == frozenset(
        {
            "domains",
            "params.threshold",
            "actions",
            "assignees.auditor",
            "actor.id",
            "actor.roles",
            "parent.child_ref",
            "child_ref",
            "parent.assignees.auditor",
            "state",
            "deadlines.audit_due",
            "computed.days_open",
            "notes_by_team",
        }
    )


# --- operators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "type_"),
    [
        ("1 + 2", 3, INTEGER),
        ("5 - 7", -2, INTEGER),
        ("3 * 4", 12, INTEGER),
        ("7 / 2", Decimal("3.5"), NUMBER),
        ("6 / 3", Decimal(2), NUMBER),
        ("1 + 0.5", Decimal("1.5"), NUMBER),
        ("2.5 * 2", Decimal("5.0"), NUMBER),
        ("-(1 + 2)", -3, INTEGER),
        ("+3", 3, INTEGER),
        ("-lookback_months", -6, INTEGER),
        ("lookback_months * params.rate", Decimal("1.50"), NUMBER),
        ("child_ref + '/' + summary", "AB/long", TEXT),
        ("child_ref + '-x'", "AB-x", STRING),
    ],
)
def test_arithmetic(text: str, value: Any, type_: Type) -> None:
    ctx = FakeContext(data={"lookback_months": 6, "child_ref": "AB", "summary": "long"}, params={"rate": Decimal("0.25")})
    expression = compiled(text)
    assert expression.type == type_
    result = expression.evaluate(ctx)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 == 1", True),
        ("1 == 1.0", True),
        ("1 != 2", True),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 2.5", True),
        ("2 >= 3", False),
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("'abc' < 'abd'", True),
        ("'a' in ['a', 'b']", True),
        ("'c' not in ['a', 'b']", True),
        ("'ell' in 'hello'", True),
        ("None is None", True),
        ("1 is not None", True),
        ("True and False", False),
        ("True or False", True),
        ("not False", True),
        ("True and True and False", False),
        ("False or False or True", True),
        ("1 if True else 2", 1),
        ("1 if False else 2", 2),
        ("'x' if 1 > 2 else None", None),
        ("[1, 2] == [1, 2]", True),
    ],
)
def test_comparisons_and_logic(text: str, value: Any) -> None:
    assert run(text) == value


def test_in_on_fields_and_maps() -> None:
    ctx = with_data(strengths=["clear plan"], notes_by_team={"North": "x"}, child_ref="AB-12")
    assert run("'clear plan' in strengths", ctx) is True
    assert run("'North' in notes_by_team", ctx) is True
    assert run("'South' not in notes_by_team", ctx) is True
    assert run("'B-1' in child_ref", ctx) is True
    assert run("actor.id in ['ana', 'bo']", ctx) is True
    assert run("'auditor' in actor.roles", ctx) is True


def test_chained_comparison_evaluates_the_middle_once() -> None:
    calls: list[int] = []

    def tick() -> int:
        calls.append(1)
        return len(calls)

    registry = default_functions()
    registry.register("tick", Signature((), INTEGER), tick)
    scope = dataclasses.replace(SCOPE, functions=registry)
    assert run("0 < tick() < 2", scope=scope) is True
    assert calls == [1]


def test_and_or_short_circuit() -> None:
    # The right side would divide by zero: it must not run.
    assert run("False and 1 / 0 > 1") is False
    assert run("True or 1 / 0 > 1") is True
    assert run("1 if True else 1 / 0") == 1


def test_date_and_duration_arithmetic() -> None:
    ctx = FakeContext(
        data={"due_at": dt.date(2026, 1, 31), "window": Duration(days=28)},
        params={"audit_window": Duration(months=1)},
    )
    assert run("due_at + params.audit_window", ctx) == dt.date(2026, 2, 28)
    assert run("due_at - window", ctx) == dt.date(2026, 1, 3)
    assert run("window + due_at", ctx) == dt.date(2026, 2, 28)
    assert run("due_at + '5 working days'", ctx) == dt.date(2026, 2, 6)
    assert run("today() - due_at", ctx) == 55
    assert compiled("today() - due_at").type == INTEGER
    assert compiled("due_at + '2 weeks'").type == DATE
    assert run("window == '4 weeks'", ctx) is True
    assert run("window in ['28 days', '1 month']", ctx) is True


def test_datetime_plus_days_keeps_the_london_wall_clock_across_bst() -> None:
    # 12:00 GMT on Friday; two days later is 12:00 BST, which is 11:00 UTC.
    assert run("now() + '2 days'") == dt.datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    assert run("now() + '48 hours'") == dt.datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert run("now() + 'P1DT2H'") == dt.datetime(2026, 3, 28, 14, 0, tzinfo=UTC)
    assert run("now() - '1 month'") == dt.datetime(2026, 2, 27, 12, 0, tzinfo=UTC)
    assert run("'1 day' + now()") == dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def test_a_wall_time_that_does_not_exist_resolves_with_fold_zero() -> None:
    # 01:30 on 29 March 2026 does not exist in London; fold=0 reads it with the GMT offset.
    ctx = FakeContext(data={"met_at": dt.datetime(2026, 3, 28, 1, 30, tzinfo=UTC)})
    assert run("met_at + '1 day'", ctx) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 01:30 on 25 October 2026 happens twice; fold=0 is the first (BST) one: 00:30 UTC.
    ctx = FakeContext(data={"met_at": dt.datetime(2026, 10, 24, 0, 30, tzinfo=UTC)})
    assert run("met_at + '1 day'", ctx) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


# --- null semantics ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("lookback_months is None", True),
        ("lookback_months == None", True),
        ("lookback_months != 3", True),
        ("lookback_months < 3", False),
        ("lookback_months >= 3", False),
        ("lookback_months + 1", None),
        ("-lookback_months", None),
        ("lookback_months / 2", None),
        ("len(strengths)", 0),
        ("len(notes_by_team)", 0),
        ("len(child_ref)", 0),
        ("strengths == []", True),
        ("'x' in strengths", False),
        ("'x' in child_ref", False),
        ("'x' in notes_by_team", False),
        ("approved", None),
        ("not approved", True),
        ("approved or True", True),
        ("1 if approved else 2", 2),
        ("due_at + '1 day'", None),
        ("today() - due_at", None),
        ("child_ref + 'x'", None),
        ("worst(grade_list)", None),
        ("worst(grades)", None),
        ("worse_than(overall_grade, 'good')", False),
        ("all_have(actions, 'owner')", True),
        ("count(actions, 'owner', 'x')", 0),
        ("days_since(due_at)", None),
        ("add_working_days(due_at, 1)", None),
        ("domains.planning.grade", None),
    ],
)
def test_null_semantics(text: str, value: Any) -> None:
    expression = compiled(text)
    assert expression.evaluate(FakeContext()) == value


def test_a_condition_always_gives_a_boolean() -> None:
    assert run("approved", expected=BOOLEAN) is False
    assert run("parent.flag", scope=OPEN_PARENT_SCOPE, expected=BOOLEAN) is False
    with pytest.raises(ExpressionRuntimeError):
        run("parent.flag", FakeContext(parent_data={"flag": "yes"}), OPEN_PARENT_SCOPE, BOOLEAN)


# --- scales and enumerations -------------------------------------------------------------


def test_scale_values_compare_with_members_only() -> None:
    ctx = with_data(overall_grade="good", risk="high", outcome="agree")
    assert run("overall_grade == 'good'", ctx) is True
    assert run("overall_grade in ['outstanding', 'good']", ctx) is True
    assert run("'good' == overall_grade", ctx) is True
    assert run("overall_grade != original_grade", ctx) is True
    assert run("outcome == 'agree'", ctx) is True
    assert run("'good' in grade_list", ctx) is False


def test_scale_functions() -> None:
    ctx = with_data(
        overall_grade="good",
        original_grade="inadequate",
        grade_list=["good", None, "requires_improvement"],
        grades={"safety": "outstanding", "planning": "inadequate"},
        grades_by_team={"North": "good", "South": "outstanding"},
    )
    assert run("worse_than(original_grade, overall_grade)", ctx) is True
    assert run("worse_than(overall_grade, 'good')", ctx) is False
    assert run("better_than(overall_grade, 'inadequate')", ctx) is True
    assert run("better_than('outstanding', overall_grade)", ctx) is True
    assert run("worst(grade_list)", ctx) == "requires_improvement"
    assert run("worst(grades)", ctx) == "inadequate"
    assert run("worst(grades_by_team)", ctx) == "good"
    assert run("worst([overall_grade, original_grade])", ctx) == "inadequate"
    assert compiled("worst(grades)").type == GRADE
    assert run("any_worse_than(grade_list, 'good')", ctx) is True
    assert run("any_worse_than(grades_by_team, 'good')", ctx) is False


def test_a_scale_value_outside_the_scale_fails_at_run_time() -> None:
    with pytest.raises(ExpressionRuntimeError, match="not in scale 'grade'"):
        run("worse_than(overall_grade, 'good')", with_data(overall_grade="excellent"))


# --- other functions ---------------------------------------------------------------------


def test_time_functions() -> None:
    ctx = with_data(due_at=dt.date(2026, 3, 20), met_at=dt.datetime(2026, 3, 20, 23, 30, tzinfo=UTC))
    assert run("today()", ctx) == dt.date(2026, 3, 27)
    assert run("now()", ctx) == NOW
    assert run("days_since(due_at)", ctx) == 7
    assert run("days_since(met_at)", ctx) == 7
    assert run("working_days_since(due_at)", ctx) == 5
    # Good Friday (3 April) and Easter Monday (6 April 2026) are bank holidays.
    assert run("working_days_until(due_at + '18 days')", ctx) == 5
    assert run("add_working_days(today(), 5)", ctx) == dt.date(2026, 4, 7)
    assert run("add_working_days(today(), -5)", ctx) == dt.date(2026, 3, 20)
    # A datetime keeps its London wall time: 12:00 GMT Friday -> 12:00 BST Monday.
    assert run("add_working_days(now(), 1)", ctx) == dt.datetime(2026, 3, 30, 11, 0, tzinfo=UTC)
    assert compiled("add_working_days(now(), 1)").type == DATETIME


def test_today_is_the_london_date() -> None:
    late_in_summer = FakeContext(now=dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert run("today()", late_in_summer) == dt.date(2026, 7, 1)


def test_list_functions() -> None:
    actions = [
        {"description": "a", "owner": "bo", "due": dt.date(2026, 4, 1), "priority": "high"},
        {"description": "b", "owner": "", "due": dt.date(2026, 4, 1), "priority": "low"},
    ]
    ctx = with_data(actions=actions)
    assert run("all_have(actions, 'description', 'due')", ctx) is True
    assert run("all_have(actions, 'owner', 'due')", ctx) is False
    assert run("count(actions, 'priority', 'high')", ctx) == 1
    assert run("count(actions, 'owner', actor.id)", ctx) == 0
    assert run("len(actions)", ctx) == 2


def test_state_and_children_functions() -> None:
    entered = dt.datetime(2026, 3, 1, tzinfo=UTC)
    ctx = FakeContext(
        entries={"allocated": [entered, NOW]},
        children=[("moderation", "closed", True), ("moderation", "open", False), ("action_plan", "done", True)],
    )
    assert run("entered_at('allocated')", ctx) == entered
    assert run("entered_at('closed')", ctx) is None
    assert run("times_entered('allocated')", ctx) == 2
    assert run("count_children('moderation')", ctx) == 2
    assert run("count_children('moderation', ['open'])", ctx) == 1
    assert run("all_children_final('moderation')", ctx) is False
    assert run("all_children_final('action_plan')", ctx) is True


def test_registered_functions() -> None:
    registry = default_functions()
    registry.register("is_high_risk", Signature((RISK,), BOOLEAN), lambda value: value == "high")
    registry.register("halve", Signature((NUMBER,), NUMBER), lambda value: value / 2)
    registry.register("boom", Signature((), INTEGER), lambda: 1 // 0)
    registry.register("actor_name", Signature((), STRING), lambda ctx: ctx.actor_id, takes_context=True)
    scope = dataclasses.replace(SCOPE, functions=registry)
    assert run("is_high_risk('high')", scope=scope) is True
    assert run("halve(3)", scope=scope) == Decimal("1.5")  # the integer arrived as a Decimal
    assert run("actor_name()", scope=scope) == "ana"
    assert error("is_high_risk('hihg')", scope).code == "not_in_scale"
    assert error("is_high_risk(1, 2)", scope).code == "wrong_arguments"
    with pytest.raises(FunctionError, match="'boom' failed: ZeroDivisionError") as caught:  # the host's failure, not the expression's
        run("boom() > 1", scope=scope)
    assert caught.value.expression == "boom() > 1"
    assert caught.value.function == "boom" and isinstance(caught.value.__cause__, ZeroDivisionError)
    assert "is_high_risk" in registry.names()
    assert "is_high_risk" not in default_functions().names()


def test_registry_refuses_bad_and_duplicate_names() -> None:
    registry = default_functions()
    for name in ("_hidden", "not valid", "class", "ｅval"):
        with pytest.raises(ValueError):
            registry.register(name, Signature((), INTEGER), lambda: 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("len", Signature((), INTEGER), lambda: 1)
    registry.register("len", Signature((), INTEGER), lambda: 1, replace=True)
    copy = registry.copy()
    copy.register("extra", Signature((), INTEGER), lambda: 1)
    assert "extra" not in registry


def test_default_function_names() -> None:
    assert default_functions().names() == (
        "add_working_days",
        "all_children_final",
        "all_have",
        "any_worse_than",
        "better_than",
        "count",
        "count_children",
        "days_since",
        "entered_at",
        "len",
        "now",
        "times_entered",
        "today",
        "working_days_since",
        "working_days_until",
        "worse_than",
        "worst",
    )


# --- expected types ----------------------------------------------------------------------


def test_expected_types() -> None:
    assert compiled("overall_grade == 'good'", expected=BOOLEAN).type == BOOLEAN
    assert compiled("'good'", expected=GRADE).type == GRADE
    assert compiled("None", expected=GRADE).type == GRADE
    assert compiled("['good', 'inadequate']", expected=ListType(GRADE)).type == ListType(GRADE)
    assert compiled("'agree' if approved else 'disagree'", expected=OUTCOME).type == OUTCOME
    assert compiled("'28 days'", expected=DURATION).evaluate(FakeContext()) == Duration(days=28)
    assert compiled("summary", expected=STRING).type == STRING
    assert compiled("parent.anything", OPEN_PARENT_SCOPE, expected=DATE).type == DATE
    result = compiled("lookback_months", expected=NUMBER).evaluate(with_data(lookback_months=2))
    assert result == Decimal(2)
    assert isinstance(result, Decimal)


# --- runtime errors ----------------------------------------------------------------------


def test_runtime_errors() -> None:
    with pytest.raises(ExpressionRuntimeError, match="division by zero") as caught:
        run("score / 0 > 1", with_data(score=Decimal(1)))
    assert caught.value.expression == "score / 0 > 1"
    assert str(caught.value) == "division by zero (in 'score / 0 > 1')"
    with pytest.raises(ExpressionRuntimeError, match="out of range"):
        run("due_at + window", with_data(due_at=dt.date(9999, 12, 1), window=Duration(months=2)))
    with pytest.raises(ExpressionRuntimeError, match="out of range"):
        run("score * score", with_data(score=Decimal("9e999998")))
    with pytest.raises(ExpressionRuntimeError, match="too many"):
        run("due_at + window", with_data(due_at=dt.date(2026, 1, 1), window=Duration(working_days=50_000)))
    with pytest.raises(ExpressionRuntimeError, match="too far apart"):
        run("working_days_since(due_at)", with_data(due_at=dt.date(1, 1, 1)))
    with pytest.raises(ExpressionRuntimeError, match="cannot be ordered"):
        run("parent.x < 1", FakeContext(parent_data={"x": "a"}), OPEN_PARENT_SCOPE)
    with pytest.raises(ExpressionRuntimeError, match="does not work"):
        run("parent.x * 3", FakeContext(parent_data={"x": "a"}), OPEN_PARENT_SCOPE)


def test_values_of_unknown_type_follow_the_same_rules() -> None:
    ctx = FakeContext(parent_data={"n": 2, "s": "ab", "d": Decimal("1.5")})
    assert run("parent.n + 1", ctx, OPEN_PARENT_SCOPE) == 3
    assert run("parent.s + 'c'", ctx, OPEN_PARENT_SCOPE) == "abc"
    assert run("parent.d * 2", ctx, OPEN_PARENT_SCOPE) == Decimal("3.0")
    assert run("-parent.n", ctx, OPEN_PARENT_SCOPE) == -2
    assert run("parent.n / 4", ctx, OPEN_PARENT_SCOPE) == Decimal("0.5")
    assert run("'a' in parent.s", ctx, OPEN_PARENT_SCOPE) is True


# --- load-time errors: exact codes and offsets -------------------------------------------

# (text, code, where): the offset must be text.index(where).
ERRORS = [
    ("overal_grade == 'good'", "unknown_name", "overal_grade"),
    ("domains.planing.grade", "unknown_name", "planing"),
    ("params.windw", "unknown_name", "windw"),
    ("assignees.auditr", "unknown_name", "auditr"),
    ("parent.child_rf", "unknown_name", "child_rf"),
    ("parent.assignees.manager", "unknown_name", "manager"),
    ("deadlines.audit_du.due", "unknown_name", "audit_du"),
    ("deadlines.audit_due.overdue", "unknown_name", "overdue"),
    ("actor.name", "unknown_name", "name"),
    ("params", "unknown_name", "params"),
    ("true", "unknown_name", "true"),
    ("1 + lenn(actions)", "unknown_function", "lenn"),
    ("overall_grade == 'goood'", "not_in_scale", "'goood'"),
    ("overall_grade in ['good', 'bad']", "not_in_scale", "'bad'"),
    ("outcome != 'agreed'", "not_in_values", "'agreed'"),
    ("state == 'alocated'", "unknown_state", "'alocated'"),
    ("entered_at('closd')", "unknown_state", "'closd'"),
    ("count_children('moderaton')", "unknown_workflow", "'moderaton'"),
    ("overall_grade < 'good'", "scale_order", "<"),
    ("overall_grade >= original_grade", "scale_order", ">="),
    ("overall_grade == risk", "type_mismatch", "=="),
    ("child_ref == 1", "type_mismatch", "=="),
    ("due_at < met_at", "type_mismatch", "<"),
    ("child_ref + 1", "type_mismatch", "+"),
    ("due_at + 1", "type_mismatch", "+"),
    ("1 in child_ref", "type_mismatch", "in"),
    ("'a' in 5", "type_mismatch", "in"),
    ("1 if approved else 'x'", "type_mismatch", "'x'"),
    ("[1, 'a', 2]", "type_mismatch", "'a'"),
    ("-child_ref", "type_mismatch", "-"),
    ("lookback_months < None", "type_mismatch", "<"),
    ("len(approved)", "type_mismatch", "approved"),
    ("worst(counts)", "type_mismatch", "counts"),
    ("worse_than(overall_grade, risk)", "type_mismatch", "risk"),
    ("count(actions, 'priority', 'urgent')", "not_in_scale", "'urgent'"),
    ("count(actions, 'due', 'x')", "type_mismatch", "'x'"),
    ("all_have(actions, 'ownr')", "unknown_name", "'ownr'"),
    ("all_have(strengths, 'x')", "type_mismatch", "strengths"),
    ("entered_at(child_ref)", "wrong_arguments", "child_ref"),
    ("count_children('moderation', [child_ref])", "wrong_arguments", "[child_ref]"),
    ("len(actions, strengths)", "wrong_arguments", "len"),
    ("today(1)", "wrong_arguments", "today"),
    ("add_working_days(today(), 20000)", "out_of_range", "20000"),
    ("today() + '3 fortnights'", "bad_duration", "fortnights"),
    ("lookback_months and approved", "not_boolean", "lookback_months"),
    ("not child_ref", "not_boolean", "child_ref"),
    ("1 if child_ref else 2", "not_boolean", "child_ref"),
    ("child_ref[0]", "not_allowed", "0"),
    ("child_ref.upper", "not_allowed", "upper"),
    ("domains['planning']", "not_allowed", "'planning'"),
    ("notes_by_team.North", "not_allowed", "North"),
    ("'a' * 3", "not_allowed", "*"),
    ("2 ** 3", "not_allowed", "**"),
    ("7 % 2", "not_allowed", "%"),
    ("x.y()", "not_allowed", "x"),
    ("len(x=1)", "not_allowed", "x=1"),
    ("1 is 1", "not_allowed", "is"),
    ("actor.__class__", "not_allowed", "__class__"),
    ("1 + (2", "expression_syntax", "("),
    ("1 + 2)", "expression_syntax", ")"),
    ("1 +", "expression_syntax", "+"),
    ("'open", "expression_syntax", "'"),
    ("", "expression_syntax", ""),
    ("  # only a comment", "expression_syntax", ""),
    ("['goood'] == grade_list", "not_in_scale", "'goood'"),
    ("grade_list == ['good', 'fine']", "not_in_scale", "'fine'"),
    ("'fine' in grade_list", "not_in_scale", "'fine'"),
    ("1" * 31, "literal_too_large", "1"),
    ("1.5e200", "literal_too_large", "1.5e200"),
]


@pytest.mark.parametrize(("text", "code", "where"), ERRORS)
def test_errors_have_codes_and_offsets(text: str, code: str, where: str) -> None:
    problem = error(text)
    assert (problem.code, problem.offset) == (code, text.index(where)), problem.message


def test_not_boolean_for_conditions() -> None:
    problem = error("  len(actions)", expected=BOOLEAN)
    assert (problem.code, problem.offset) == ("not_boolean", 2)
    assert problem.message == "a condition must be true or false, but this is integer"


def test_type_mismatch_against_an_expected_field_type() -> None:
    problem = error("child_ref", expected=INTEGER)
    assert (problem.code, problem.offset, problem.message) == ("type_mismatch", 0, "expected integer, got string")
    assert error("'excellent'", expected=GRADE).code == "not_in_scale"
    assert error("1.5", expected=INTEGER).code == "type_mismatch"
    assert error("overall_grade", expected=RISK).code == "type_mismatch"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("overal_grade", "unknown name 'overal_grade'; did you mean 'overall_grade'?"),
        ("params.windw", "unknown name 'params.windw'; did you mean 'params.audit_window'?"),
        ("assignees.auditr", "unknown name 'assignees.auditr'; did you mean 'assignees.auditor'?"),
        ("domains.planing", "'domains' has no key 'planing'; did you mean 'domains.planning'?"),
        ("true", "unknown name 'true'; did you mean 'True'?"),
        ("audit_window", "unknown name 'audit_window'; did you mean 'params.audit_window'?"),
        ("lenn(actions)", "there is no function 'lenn'; did you mean 'len'?"),
        ("worse_thn(overall_grade, 'good')", "there is no function 'worse_thn'; did you mean 'worse_than'?"),
        (
            "overall_grade == 'goood'",
            "'goood' is not in scale 'grade' (outstanding, good, requires_improvement, inadequate); did you mean 'good'?",
        ),
        ("outcome == 'agred'", "'agred' is not one of the values agree, agree_with_comments, disagree; did you mean 'agree'?"),
        ("state == 'closd'", "there is no state 'closd'; did you mean 'closed'?"),
        ("all_have(actions, 'ownr')", "all_have(): the list's items have no key 'ownr'; did you mean 'owner'?"),
        ("overall_grade < 'good'", "scale values have no '<': use worse_than(a, b) or better_than(a, b)"),
        ("assignees", "'assignees' is not a value on its own: write assignees.<name> (assignees.auditor, assignees.team_manager)"),
        ("item", "'item' is only available inside a spawn's for_each"),
        ("len(actions, strengths)", "len(): takes 1 argument (2 given)"),
    ],
)
def test_messages_name_the_fix(text: str, message: str) -> None:
    assert error(text).message == message


def test_offsets_in_multi_line_text_and_after_non_ascii_strings() -> None:
    text = "summary == 'café' and\n  overal_grade == 'good'"
    problem = error(text)
    assert (problem.code, problem.offset) == ("unknown_name", text.index("overal_grade"))
    text = "'é' + 'ü' == child_ref and outcome == 'nope'"
    assert error(text).offset == text.index("'nope'")
    text = "approved and\r\n  lookback_months < 'x'"
    assert error(text).offset == text.index("<")


def test_multi_line_expressions_from_block_scalars() -> None:
    text = "\n  overall_grade in ['outstanding', 'good']\n  or len(actions) > 0  # any action will do\n"
    assert run(text, with_data(overall_grade="good"), expected=BOOLEAN) is True


def test_compiled_expressions_are_reusable_and_immutable() -> None:
    expression = compiled("len(strengths) + 1")
    assert expression.evaluate(with_data(strengths=["a"])) == 2
    assert expression.evaluate(with_data(strengths=["a", "b"])) == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.text = "other"  # type: ignore[misc]
    assert "_run" not in repr(expression)

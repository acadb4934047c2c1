"""A function the embedding application registers fails as a `FunctionError` (DESIGN §4.10, QUALITY R10).

When the function raises (the case-management system is down) or returns a value of another
type than its signature says, the event fails with a `FunctionError` naming the function, the
original exception chained: not a refusal, no security-log row, nothing changed. Through
`start`, `fire` and `explain`, in checks and effects, in memory and on the SQL backends.
"""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from engine import (
    BOOLEAN,
    DATE,
    DATETIME,
    DURATION,
    INTEGER,
    NUMBER,
    STRING,
    TEXT,
    Actor,
    Duration,
    Engine,
    FixedClock,
    FunctionError,
    ListType,
    MemoryStore,
    QaflowError,
    Signature,
    TransitionRefusedError,
    default_functions,
    load_workflow_text,
)
from engine.expressions import CallSite, Checked
from engine.expressions.host import _WrongType, conform
from engine.expressions.types import ANY, MapType, ObjectType, ScaleType, Type
from engine.runtime.views import security_event
from qaflow.cli import exit_code, one_line
from storage import open_store

WORKFLOW = """
workflow: host_check
version: 1
roles:
  clerk: Records the check
fields:
  child_ref: {type: string, required: true}
  placement: {type: string}
  risk: {type: number}
start:
  by: [clerk]
  checks:
    - when: "known_child(child_ref)"
      otherwise: The child is not known to the case-management system.
initial: open
states:
  open:
  done: {final: true}
transitions:
  - trigger: close
    from: open
    to: done
    by: [clerk]
    when: "is_looked_after(child_ref)"
    otherwise: Only a looked-after child's case closes this way.
  - trigger: look_up
    from: open
    to: open
    by: [clerk]
    do:
      - set: {placement: "=placement_of(child_ref)", risk: "=risk_of(child_ref)"}
"""

CLERK = Actor("cl-1", frozenset({"clerk"}))
NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


class CaseSystemDown(ConnectionError):
    """What a host's client library raises when the case-management system does not answer."""


class Host:
    """The embedding application's functions; a test swaps what each one does."""

    def __init__(self) -> None:
        self.behaviour: dict[str, Callable[[str], Any]] = {
            "known_child": lambda ref: True,
            "is_looked_after": lambda ref: ref.startswith("LA-"),
            "placement_of": lambda ref: "foster care",
            "risk_of": lambda ref: Decimal("0.5"),
        }

    def registry(self) -> Any:
        registry = default_functions()
        types = {"known_child": BOOLEAN, "is_looked_after": BOOLEAN, "placement_of": STRING, "risk_of": NUMBER}
        for name, returns in types.items():
            registry.register(name, Signature((STRING,), returns), self._dispatch(name))
        return registry

    def _dispatch(self, name: str) -> Callable[[str], Any]:
        return lambda ref: self.behaviour[name](ref)

    def fail(self, name: str) -> None:
        def down(ref: str) -> Any:
            raise CaseSystemDown("the case-management system did not answer")

        self.behaviour[name] = down

    def returns(self, name: str, value: Any) -> None:
        self.behaviour[name] = lambda ref: value


def make_engine(store: Any, host: Host) -> Engine:
    registry = host.registry()
    engine = Engine(store, clock=FixedClock(NOW), wall_clock=FixedClock(NOW), functions=registry)
    engine.deploy(load_workflow_text("host_check.yaml", WORKFLOW, registry))
    return engine


# One host for the module, reset before each test: its functions look up what to do at call
# time, so a compiled guard (compiled once per definition) always calls the current test's.
HOST = Host()


@pytest.fixture
def host() -> Host:
    HOST.behaviour = Host().behaviour
    return HOST


@pytest.fixture
def engine(host: Host) -> Engine:
    return make_engine(MemoryStore(), host)


def snapshot(engine: Engine, instance_id: str) -> tuple[Any, ...]:
    view = engine.show(instance_id)
    return view.state, dict(view.data), view.lock_version, len(engine.history(instance_id)), len(engine.refusals())


def assert_host_failure(exc: FunctionError, function: str, cause: type[BaseException] | None = CaseSystemDown) -> None:
    assert isinstance(exc, QaflowError) and not isinstance(exc, TransitionRefusedError)
    assert exc.code == "function_failed"
    assert exc.function == function
    assert f"'{function}'" in str(exc)
    if cause is None:
        assert exc.__cause__ is None
    else:
        assert isinstance(exc.__cause__, cause)


# --- a function that raises ----------------------------------------------------------------


def test_a_raising_function_in_a_guard_is_a_function_error_and_changes_nothing(engine: Engine, host: Host) -> None:
    instance = engine.start("host_check", CLERK, {"child_ref": "LA-1"})
    before = snapshot(engine, instance.id)
    host.fail("is_looked_after")
    with pytest.raises(FunctionError) as raised:
        engine.fire(instance.id, "close", CLERK)
    assert_host_failure(raised.value, "is_looked_after")
    assert raised.value.expression == "is_looked_after(child_ref)"
    assert snapshot(engine, instance.id) == before
    assert engine.refusals() == []  # not a refused attempt: nothing in the security log


def test_a_raising_function_in_an_effect_is_a_function_error(engine: Engine, host: Host) -> None:
    instance = engine.start("host_check", CLERK, {"child_ref": "LA-1"})
    before = snapshot(engine, instance.id)
    host.fail("placement_of")
    with pytest.raises(FunctionError) as raised:
        engine.fire(instance.id, "look_up", CLERK)
    assert_host_failure(raised.value, "placement_of")
    assert snapshot(engine, instance.id) == before
    assert engine.refusals() == []


def test_a_raising_function_at_start_is_a_function_error_and_starts_nothing(engine: Engine, host: Host) -> None:
    host.fail("known_child")
    with pytest.raises(FunctionError) as raised:
        engine.start("host_check", CLERK, {"child_ref": "LA-1"})
    assert_host_failure(raised.value, "known_child")
    assert engine.instances() == []
    assert engine.refusals() == []


def test_explain_raises_the_function_error_instead_of_saying_not_allowed(engine: Engine, host: Host) -> None:
    instance = engine.start("host_check", CLERK, {"child_ref": "LA-1"})
    host.fail("is_looked_after")
    with pytest.raises(FunctionError) as raised:
        engine.explain(instance.id, "close", CLERK)
    assert_host_failure(raised.value, "is_looked_after")
    host.fail("placement_of")
    with pytest.raises(FunctionError) as raised:
        engine.explain(instance.id, "look_up", CLERK)
    assert_host_failure(raised.value, "placement_of")
    assert engine.refusals() == []


def test_a_function_raising_a_qaflow_error_is_still_its_own_failure(engine: Engine, host: Host) -> None:
    instance = engine.start("host_check", CLERK, {"child_ref": "LA-1"})

    def refuses(ref: str) -> Any:
        raise TransitionRefusedError("close", instance.id)  # what a host must not be able to fake

    host.behaviour["is_looked_after"] = refuses
    with pytest.raises(FunctionError) as raised:
        engine.fire(instance.id, "close", CLERK)
    assert_host_failure(raised.value, "is_looked_after", TransitionRefusedError)
    assert engine.refusals() == []


def test_what_the_function_raised_is_quoted_in_short(engine: Engine, host: Host) -> None:
    instance = engine.start("host_check", CLERK, {"child_ref": "LA-1"})

    def answers_at_length(ref: str) -> Any:
        raise RuntimeError("<html>" + "x" * 100_000)

    host.behaviour["is_looked_after"] = answers_at_length
    with pytest.raises(FunctionError) as raised:
        engine.fire(instance.id, "close", CLERK)
    assert len(str(raised.value)) < 400
    assert str(raised.value.__cause__).endswith("x" * 100)  # the whole of it is still the cause


# --- a function that returns the wrong type -------------------------------------------------


def test_a_string_where_a_boolean_is_promised_is_a_function_error_not_a_business_message(engine: Engine, host: Host) -> None:
    instance = engine.start("host_check", CLERK, {"child_ref": "LA-1"})
    before = snapshot(engine, instance.id)
    host.returns("is_looked_after", "no")  # truthy: it must not pass the guard, nor refuse it
    with pytest.raises(FunctionError, match="returned a string where its signature says boolean") as raised:
        engine.fire(instance.id, "close", CLERK)
    assert_host_failure(raised.value, "is_looked_after", cause=None)
    assert "'no'" not in str(raised.value)  # the value itself is not echoed
    assert snapshot(engine, instance.id) == before
    with pytest.raises(FunctionError):
        engine.explain(instance.id, "close", CLERK)
    assert engine.refusals() == []


def test_a_wrong_type_into_an_effect_is_a_function_error(engine: Engine, host: Host) -> None:
    instance = engine.start("host_check", CLERK, {"child_ref": "LA-1"})
    before = snapshot(engine, instance.id)
    host.returns("placement_of", 7)
    with pytest.raises(FunctionError, match="returned an integer where its signature says string") as raised:
        engine.fire(instance.id, "look_up", CLERK)
    assert_host_failure(raised.value, "placement_of", cause=None)
    host.returns("placement_of", "foster care")
    host.returns("risk_of", 0.5)  # a float is not a number here: numbers are exact Decimals
    with pytest.raises(FunctionError, match="returned a float where its signature says number"):
        engine.fire(instance.id, "look_up", CLERK)
    assert snapshot(engine, instance.id) == before
    assert engine.refusals() == []


def test_values_the_signature_allows_pass_and_an_integer_number_becomes_a_decimal(engine: Engine, host: Host) -> None:
    instance = engine.start("host_check", CLERK, {"child_ref": "LA-1"})
    host.returns("risk_of", 2)
    result = engine.fire(instance.id, "look_up", CLERK)
    assert result.lock_version == 2
    view = engine.show(instance.id)
    assert view.data["placement"] == "foster care"
    assert view.data["risk"] == Decimal(2)
    host.returns("placement_of", None)  # None is an unset value, allowed for every type
    engine.fire(instance.id, "look_up", CLERK)
    assert engine.show(instance.id).data.get("placement") is None


def test_a_refusal_by_a_working_function_is_still_a_refusal(engine: Engine) -> None:
    instance = engine.start("host_check", CLERK, {"child_ref": "CF-2"})
    with pytest.raises(TransitionRefusedError, match="Only a looked-after child's case"):
        engine.fire(instance.id, "close", CLERK)
    assert [event.kind for event in engine.refusals()] == ["refused"]


def test_a_function_typed_by_its_own_checker_is_checked_against_the_type_it_gave() -> None:
    def check(call: CallSite) -> Checked:
        call.expect_count(1)
        return Checked(BOOLEAN, lambda ref: "yes")

    registry = default_functions()
    registry.register("known_child", Signature((STRING,), BOOLEAN), lambda ref: True)
    for name in ("is_looked_after", "placement_of"):
        registry.register(name, check if name == "is_looked_after" else Signature((STRING,), STRING), lambda ref: "x")
    registry.register("risk_of", Signature((STRING,), NUMBER), lambda ref: None)
    engine = Engine(MemoryStore(), clock=FixedClock(NOW), functions=registry)
    text = WORKFLOW.replace("workflow: host_check", "workflow: host_check_typed")  # another definition, compiled with this registry
    engine.deploy(load_workflow_text("host_check_typed.yaml", text, registry))
    instance = engine.start("host_check_typed", CLERK, {"child_ref": "LA-1"})
    with pytest.raises(FunctionError, match="'is_looked_after' returned a string"):
        engine.fire(instance.id, "close", CLERK)


def test_a_computed_value_calling_a_failing_function_fails_show_instead_of_reading_unset(host: Host) -> None:
    registry = host.registry()
    engine = Engine(MemoryStore(), clock=FixedClock(NOW), functions=registry)
    text = WORKFLOW.replace("workflow: host_check", "workflow: host_check_computed") + 'computed:\n  placed: "placement_of(child_ref)"\n'
    engine.deploy(load_workflow_text("host_check_computed.yaml", text, registry))
    instance = engine.start("host_check_computed", CLERK, {"child_ref": "LA-1"})
    assert instance.computed == {"placed": "foster care"}
    host.fail("placement_of")
    with pytest.raises(FunctionError) as raised:
        engine.show(instance.id)
    assert_host_failure(raised.value, "placement_of")
    assert engine.refusals() == []


def test_a_builtin_failure_is_still_a_refusal_in_the_security_log(host: Host) -> None:
    """Division by zero is the event's data failing a rule: `expression_failed`, refused and logged."""
    registry = host.registry()
    engine = Engine(MemoryStore(), clock=FixedClock(NOW), functions=registry)
    text = WORKFLOW.replace("workflow: host_check", "workflow: host_check_divide").replace(
        'when: "is_looked_after(child_ref)"', 'when: "10 / risk > 1"'
    )
    engine.deploy(load_workflow_text("host_check_divide.yaml", text, registry))
    instance = engine.start("host_check_divide", CLERK, {"child_ref": "LA-1"})
    host.returns("risk_of", 0)
    engine.fire(instance.id, "look_up", CLERK)
    with pytest.raises(TransitionRefusedError) as raised:
        engine.fire(instance.id, "close", CLERK)
    assert raised.value.codes == ("expression_failed",)
    assert [event.kind for event in engine.refusals()] == ["refused"]


# --- the return check, value by value --------------------------------------------------------

GRADES = ScaleType("grade", ("good", "poor"))
ACCEPTED: list[tuple[Any, Type]] = [
    (True, BOOLEAN),
    ("a", STRING),
    ("long text", TEXT),
    (3, INTEGER),
    (Decimal("1.5"), NUMBER),
    (dt.date(2026, 3, 2), DATE),
    (NOW, DATETIME),
    (Duration(days=3), DURATION),
    (["a", "b"], ListType(STRING)),
    (("a",), ListType(STRING)),
    ({"k": 1}, MapType(INTEGER)),
    ({"grade": "good"}, ObjectType((("grade", GRADES),))),
    ("poor", GRADES),
    (object, ANY),
    (None, BOOLEAN),
    ([None], ListType(INTEGER)),
]
REFUSED: list[tuple[Any, Type, str]] = [
    ("true", BOOLEAN, "a string"),
    (1, BOOLEAN, "an integer"),
    (True, INTEGER, "a boolean"),
    (True, NUMBER, "a boolean"),
    (1.0, NUMBER, "a float"),
    (Decimal("NaN"), NUMBER, "a number that is not finite"),
    (Decimal("Infinity"), NUMBER, "a number that is not finite"),
    (b"a", STRING, "a bytes"),
    (NOW, DATE, "a datetime"),
    (dt.datetime(2026, 3, 2, 9), DATETIME, "a datetime without a time zone"),
    ("P3D", DURATION, "a string"),
    ("a", ListType(STRING), "a string"),
    (["a", 1], ListType(STRING), "an integer as item 1"),
    ({1: "a"}, MapType(STRING), "a map"),
    ({"k": "v"}, MapType(INTEGER), "a string as the value of 'k'"),
    ({"other": 1}, ObjectType((("grade", GRADES),)), "an object with the key 'other'"),
    ("average", GRADES, "a string that is not one of its values"),
]


@pytest.mark.parametrize(("value", "type_"), ACCEPTED)
def test_conform_accepts_what_the_type_allows(value: Any, type_: Type) -> None:
    assert conform(value, type_) == (list(value) if isinstance(value, tuple) else value)


@pytest.mark.parametrize(("value", "type_", "what"), REFUSED)
def test_conform_refuses_what_the_type_does_not_allow(value: Any, type_: Type, what: str) -> None:
    with pytest.raises(_WrongType) as raised:
        conform(value, type_)
    assert raised.value.what.startswith(what)


def test_an_integer_for_a_number_becomes_a_decimal() -> None:
    converted = conform(4, NUMBER)
    assert type(converted) is Decimal and converted == 4
    assert conform([1, 2], ListType(NUMBER)) == [Decimal(1), Decimal(2)]


def test_only_registered_functions_are_checked_as_the_hosts() -> None:
    """The built-ins are ours and compile as before; what embedding code registers is checked."""
    registry = default_functions()
    assert all(not registry.get(name).host for name in registry.names())  # type: ignore[union-attr]
    registry.register("mine", Signature((), BOOLEAN), lambda: True)
    spec = registry.get("mine")
    assert spec is not None and spec.host


# --- the error itself, and the command line --------------------------------------------------


def test_security_event_keeps_no_row_for_a_function_error() -> None:
    assert security_event(FunctionError("f", "failed: OSError: down"), CLERK, "i-1", "host_check", "close", NOW) is None


def test_function_error_round_trips_through_pickle() -> None:
    error = FunctionError("is_looked_after", "failed: CaseSystemDown: no answer", "is_looked_after(child_ref)")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is FunctionError
    assert (copy.function, copy.message, copy.expression, copy.code) == (error.function, error.message, error.expression, "function_failed")
    assert str(copy) == str(error)


def test_the_command_line_gives_exit_1_and_one_line_naming_the_function() -> None:
    error = FunctionError("is_looked_after", "failed: CaseSystemDown: line one\nline two", "is_looked_after(child_ref)")
    assert exit_code(error) == 1
    line = one_line(str(error))
    assert "\n" not in line and "'is_looked_after'" in line


# --- on the SQL backends ---------------------------------------------------------------------


@pytest.fixture
def sql_engine(db_url: str, host: Host) -> Iterator[Engine]:
    store = open_store(db_url)
    try:
        yield make_engine(store, host)
    finally:
        store.close()


def test_on_sql_a_failing_function_changes_nothing_and_logs_nothing(sql_engine: Engine, host: Host) -> None:
    instance = sql_engine.start("host_check", CLERK, {"child_ref": "LA-1"})
    before = snapshot(sql_engine, instance.id)
    host.fail("placement_of")
    with pytest.raises(FunctionError) as raised:
        sql_engine.fire(instance.id, "look_up", CLERK)
    assert_host_failure(raised.value, "placement_of")
    host.behaviour["placement_of"] = lambda ref: "foster care"
    host.returns("is_looked_after", "yes")
    with pytest.raises(FunctionError) as raised:
        sql_engine.fire(instance.id, "close", CLERK)
    assert_host_failure(raised.value, "is_looked_after", cause=None)
    with pytest.raises(FunctionError):
        sql_engine.explain(instance.id, "close", CLERK)
    host.fail("known_child")
    with pytest.raises(FunctionError):
        sql_engine.start("host_check", CLERK, {"child_ref": "LA-2"})
    assert snapshot(sql_engine, instance.id) == before
    assert len(sql_engine.instances()) == 1
    assert sql_engine.refusals() == []
    assert sql_engine.verify().ok

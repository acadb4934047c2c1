"""Inputs checked where they enter the engine's API (DESIGN §4.10, QUALITY R5/R10).

An actor's roles are a set of names, never a string read as characters; a trigger, a
`lock_version`, an idempotency key, ids and a reader of the wrong type are an
`InvalidRequestError`, never a `TypeError`, `AttributeError` or a misleading conflict. A call
refused before it is judged changes nothing and, for `start` and `fire`, leaves one
security-log row of kind `invalid`; event data, assignments and comments are judged instead,
so their problems are refusal reasons, all at once. On every store, SQL ones included.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from typing import Any

import pytest

from engine.errors import ConflictError, InvalidActorError, InvalidRequestError, QaflowError, TransitionRefusedError
from engine.language.loader import load_workflow_text
from engine.results import Actor
from engine.runtime.engine import Engine
from engine.store.memory import MemoryStore
from engine.time.clock import FixedClock

WORKFLOW = """
workflow: intake
version: 1
roles:
  worker: Raises the item
  qa_lead: Signs it off
  reviewer: Looks at it (assigned)
fields:
  ref: {type: string}
  note: {type: text}
start:
  by: [worker]
  writes: [ref, note]
initial: open
states:
  open:
  done:
    final: true
transitions:
  - trigger: sign_off
    from: open
    to: done
    by: [qa_lead]
  - trigger: annotate
    from: open
    by: [worker]
    writes: [note]
  - trigger: reassign
    from: open
    by: [worker]
    assigns: [reviewer]
"""

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
WORKER = Actor("wk-1", frozenset({"worker"}))
QA_LEAD = Actor("qa-1", frozenset({"qa_lead"}))


class Role(enum.StrEnum):
    QA_LEAD = "qa_lead"


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "memory":
        store: Any = MemoryStore()
        close = None
    else:
        from storage import open_store

        store = open_store(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))
        close = store.close
    engine = Engine(store, clock=FixedClock(NOW))
    engine.deploy(load_workflow_text("intake.yaml", WORKFLOW, expected_id="intake"))
    try:
        yield engine
    finally:
        if close is not None:
            close()


@pytest.fixture
def memory_engine() -> Engine:
    engine = Engine(MemoryStore(), clock=FixedClock(NOW))
    engine.deploy(load_workflow_text("intake.yaml", WORKFLOW, expected_id="intake"))
    return engine


def opened(engine: Engine) -> str:
    return engine.start("intake", WORKER, data={"ref": "R-1"}).id


def state_of(engine: Engine, instance: str) -> tuple[str, int, int]:
    view = engine.show(instance)
    return view.state, view.lock_version, len(engine.history(instance))


def refused_before_judging(engine: Engine, error: type[QaflowError], call: Any, instance: str | None, logged: bool = True) -> QaflowError:
    """`call()` raises `error`, changes nothing, and adds one `invalid` security-log row when `logged`."""
    before = state_of(engine, instance) if instance else None
    count = len(engine.instances(workflow="intake"))
    log = len(engine.refusals())
    with pytest.raises(error) as info:
        call()
    assert not isinstance(info.value, TransitionRefusedError)
    if instance:
        assert state_of(engine, instance) == before
    assert len(engine.instances(workflow="intake")) == count
    rows = engine.refusals()
    assert len(rows) == log + int(logged)
    if logged:
        assert rows[-1].kind == "invalid" and rows[-1].reasons == ()
    assert len(str(info.value)) < 400  # a long input is never echoed in full
    return info.value


# --- actors ------------------------------------------------------------------------------------


def test_roles_given_as_a_string_are_refused_never_read_as_characters(engine: Engine) -> None:
    instance = opened(engine)
    shadow = Actor("trainee-4", "trainee_qa_lead_shadow")  # type: ignore[arg-type]
    exc = refused_before_judging(engine, InvalidActorError, lambda: engine.fire(instance, "sign_off", shadow), instance)
    assert "set of role names" in str(exc) and "plain string" in str(exc)
    assert isinstance(exc, InvalidActorError) and exc.actor_id == "trainee-4"
    row = engine.refusals()[-1]
    assert (row.actor, row.roles, row.trigger, row.instance_id) == ("trainee-4", ("trainee_qa_lead_shadow",), "sign_off", instance)
    assert engine.show(instance).state == "open"


@pytest.mark.parametrize(
    "roles",
    [None, "qa_lead", b"qa_lead", ["qa_lead"], ("qa_lead",), {"qa_lead": True}, frozenset({1}), {None}, 7],
    ids=["None", "str", "bytes", "list", "tuple", "dict", "int-member", "None-member", "int"],
)
def test_roles_that_are_not_a_set_of_names_are_an_invalid_actor(memory_engine: Engine, roles: Any) -> None:
    engine = memory_engine
    instance = opened(engine)
    actor = Actor("qa-1", roles)
    refused_before_judging(engine, InvalidActorError, lambda: engine.fire(instance, "sign_off", actor), instance)
    refused_before_judging(engine, InvalidActorError, lambda: engine.start("intake", actor, data={"ref": "R-2"}), None)
    refused_before_judging(engine, InvalidActorError, lambda: engine.explain(instance, "sign_off", actor), instance, logged=False)
    refused_before_judging(engine, InvalidActorError, lambda: engine.available(instance, actor), instance, logged=False)


@pytest.mark.parametrize("actor", ["qa-1", None, 42, {"id": "qa-1", "roles": {"qa_lead"}}], ids=["str", "None", "int", "dict"])
def test_an_actor_that_is_not_an_actor_is_an_invalid_actor(memory_engine: Engine, actor: Any) -> None:
    engine = memory_engine
    instance = opened(engine)
    exc = refused_before_judging(engine, InvalidActorError, lambda: engine.fire(instance, "sign_off", actor), instance)
    assert "engine.Actor" in str(exc)
    assert engine.refusals()[-1].actor == "(not an actor)"
    refused_before_judging(engine, InvalidActorError, lambda: engine.start("intake", actor), None)
    refused_before_judging(engine, InvalidActorError, lambda: engine.explain(instance, "sign_off", actor), instance, logged=False)
    refused_before_judging(engine, InvalidActorError, lambda: engine.available(instance, actor), instance, logged=False)


def test_an_unprintable_actor_is_logged_in_printable_form_on_every_store(engine: Engine) -> None:
    """A NUL or a lone surrogate in the id or roles can't be stored (PostgreSQL text, UTF-8):
    the row keeps them as '?', so the invalid call is still logged."""
    instance = opened(engine)
    actor = Actor("qa\x00-\ud800" + "x" * 100_000, "qa_lead\x00")  # type: ignore[arg-type]
    exc = refused_before_judging(engine, InvalidActorError, lambda: engine.fire(instance, "sign_off", actor), instance)
    row = engine.refusals()[-1]
    assert row.actor.startswith("qa?-?x") and len(row.actor) <= 200 and row.roles == ("qa_lead?",)
    assert "\x00" not in str(exc)


@pytest.mark.parametrize(
    "roles",
    [{"qa_lead"}, frozenset({Role.QA_LEAD}), {"qa_lead": 1}.keys()],
    ids=["set", "StrEnum", "keys-view"],
)
def test_any_set_of_role_names_is_accepted_as_plain_names(engine: Engine, roles: Any) -> None:
    instance = opened(engine)
    result = engine.fire(instance, "sign_off", Actor("qa-1", roles))
    assert result.role == "qa_lead" and type(result.role) is str
    assert engine.history(instance)[-1].role == "qa_lead"
    assert engine.refusals() == []


def test_an_undeclared_role_in_a_set_is_not_held(memory_engine: Engine) -> None:
    instance = opened(memory_engine)
    with pytest.raises(TransitionRefusedError) as info:
        memory_engine.fire(instance, "sign_off", Actor("trainee-4", frozenset({"trainee_qa_lead_shadow"})))
    assert info.value.codes == ("role_not_held",)


# --- the call's other arguments ------------------------------------------------------------------


@pytest.mark.parametrize("trigger", [None, 42, "", b"sign_off"], ids=["None", "int", "empty", "bytes"])
def test_a_trigger_that_is_not_a_name_is_an_invalid_request(memory_engine: Engine, trigger: Any) -> None:
    engine = memory_engine
    instance = opened(engine)
    exc = refused_before_judging(engine, InvalidRequestError, lambda: engine.fire(instance, trigger, QA_LEAD), instance)
    assert isinstance(exc, InvalidRequestError) and (exc.code, exc.argument) == ("invalid_request", "trigger")
    refused_before_judging(engine, InvalidRequestError, lambda: engine.explain(instance, trigger, QA_LEAD), instance, logged=False)


@pytest.mark.parametrize("lock_version", ["1", True, 1.0, "x" * 10_000], ids=["str", "bool", "float", "long-str"])
def test_a_lock_version_that_is_not_an_int_is_an_invalid_request_not_a_conflict(engine: Engine, lock_version: Any) -> None:
    instance = opened(engine)
    at = engine.show(instance).lock_version
    exc = refused_before_judging(
        engine, InvalidRequestError, lambda: engine.fire(instance, "sign_off", QA_LEAD, lock_version=lock_version), instance
    )
    assert "lock_version is a whole number" in str(exc) and isinstance(exc, InvalidRequestError) and exc.argument == "lock_version"
    with pytest.raises(ConflictError):
        engine.fire(instance, "sign_off", QA_LEAD, lock_version=at + 1)
    assert engine.fire(instance, "sign_off", QA_LEAD, lock_version=at).state == "done"


@pytest.mark.parametrize("key", ["", "k" * 201, 42, "a\x00b", "line\nbreak"], ids=["empty", "too-long", "int", "NUL", "newline"])
def test_an_idempotency_key_must_be_short_printable_text(engine: Engine, key: Any) -> None:
    instance = opened(engine)
    refused_before_judging(engine, InvalidRequestError, lambda: engine.fire(instance, "sign_off", QA_LEAD, idempotency_key=key), instance)
    refused_before_judging(
        engine, InvalidRequestError, lambda: engine.start("intake", WORKER, data={"ref": "R-2"}, idempotency_key=key), None
    )


def test_an_idempotency_key_of_the_longest_length_works(engine: Engine) -> None:
    first = engine.start("intake", WORKER, data={"ref": "R-2"}, idempotency_key="k" * 200)
    again = engine.start("intake", WORKER, data={"ref": "R-2"}, idempotency_key="k" * 200)
    assert again.replayed and again.id == first.id


@pytest.mark.parametrize("ident", [42, None, b"id"], ids=["int", "None", "bytes"])
def test_ids_that_are_not_text_are_an_invalid_request(memory_engine: Engine, ident: Any) -> None:
    engine = memory_engine
    refused_before_judging(engine, InvalidRequestError, lambda: engine.fire(ident, "sign_off", QA_LEAD), None)
    refused_before_judging(engine, InvalidRequestError, lambda: engine.start(ident, WORKER), None)
    refused_before_judging(engine, InvalidRequestError, lambda: engine.explain(ident, "sign_off", QA_LEAD), None, logged=False)
    refused_before_judging(engine, InvalidRequestError, lambda: engine.available(ident, QA_LEAD), None, logged=False)


@pytest.mark.parametrize("version", ["1", True, 1.5], ids=["str", "bool", "float"])
def test_a_workflow_version_that_is_not_an_int_is_an_invalid_request(memory_engine: Engine, version: Any) -> None:
    refused_before_judging(memory_engine, InvalidRequestError, lambda: memory_engine.start("intake", WORKER, version=version), None)


@pytest.mark.parametrize("reader", [42, "", " qa-1", "qa\n1", b"qa-1"], ids=["int", "empty", "space", "newline", "bytes"])
def test_a_reader_must_be_a_printable_id(engine: Engine, reader: Any) -> None:
    instance = opened(engine)
    for read in (engine.show, engine.history):
        with pytest.raises(InvalidRequestError, match="a reader is"):
            read(instance, reader=reader)
    assert engine.accesses(instance) == []
    engine.show(instance, reader="qa-1")
    assert [entry.reader for entry in engine.accesses(instance)] == ["qa-1"]


# --- the request's contents are judged: refusal reasons, all at once ------------------------------


def refusal(engine: Engine, call: Any) -> TransitionRefusedError:
    log = len(engine.refusals())
    with pytest.raises(TransitionRefusedError) as info:
        call()
    assert len(engine.refusals()) == log + 1 and engine.refusals()[-1].kind == "refused"
    return info.value


def test_data_keys_that_are_not_text_and_a_bad_comment_are_reasons_together(engine: Engine) -> None:
    instance = opened(engine)
    exc = refusal(engine, lambda: engine.fire(instance, "annotate", WORKER, data={1: "x", "note": "ok"}, comment=42))  # type: ignore[dict-item, arg-type]
    assert sorted(exc.codes) == ["bad_request", "bad_request"]
    assert "field names (text)" in str(exc) and "a comment must be text" in str(exc)
    assert engine.show(instance).data.get("note") is None


@pytest.mark.parametrize("data", ["ref=R-1", ["ref"], 42], ids=["str", "list", "int"])
def test_data_that_is_not_a_mapping_is_refused_with_or_without_a_key(engine: Engine, data: Any) -> None:
    instance = opened(engine)
    assert refusal(engine, lambda: engine.fire(instance, "annotate", WORKER, data=data)).codes == ("bad_request",)
    assert refusal(engine, lambda: engine.fire(instance, "annotate", WORKER, data=data, idempotency_key="k-1")).codes == ("bad_request",)


@pytest.mark.parametrize(
    "assign",
    [{"reviewer": None}, {"reviewer": " rv-1"}, {"reviewer": "rv\x001"}, {1: "rv-1"}, ["reviewer"], "reviewer=rv-1"],
    ids=["None", "space", "NUL", "int-key", "list", "str"],
)
def test_assignments_that_are_not_roles_to_person_ids_are_refused(engine: Engine, assign: Any) -> None:
    instance = opened(engine)
    assert "bad_assignment" in refusal(engine, lambda: engine.fire(instance, "reassign", WORKER, assign=assign)).codes
    assert engine.show(instance).assignees == {}
    assert engine.fire(instance, "reassign", WORKER, assign={"reviewer": "rv-1"}).assigned == {"reviewer": "rv-1"}

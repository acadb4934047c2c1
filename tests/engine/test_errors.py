"""Errors that carry facts (DESIGN §4.10, QUALITY R10): every class under `QaflowError` has a
stable `code`, keeps its facts as attributes, survives `pickle`, and is in the tree at the top
of engine/errors.py.

The classes are found, not listed: every module of engine, storage and qaflow is imported
(but the alembic scripts, which only run inside alembic, and `qaflow.__main__`, which runs the
command line) and every subclass of `QaflowError` is walked. A new error class without a
sample below, a code of its own, or a line in the tree fails here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pickle
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import engine
import engine.errors
import qaflow
import storage
from engine.canonical import CanonicalError
from engine.errors import (
    CandidateReport,
    CheckpointError,
    ConflictError,
    DefinitionError,
    DurationError,
    ExpressionError,
    FunctionError,
    InvalidActorError,
    InvalidRequestError,
    Issue,
    NotFoundError,
    QaflowError,
    Reason,
    StorageError,
    TransitionRefusedError,
    VersionConflictError,
    WorkflowValidationError,
)
from engine.expressions.values import ExpressionRuntimeError
from engine.language.loader import load_workflow_text
from engine.results import Actor
from engine.runtime.engine import Engine
from engine.store.memory import MemoryStore
from engine.time.clock import FixedClock
from qaflow.errors import InitRefusedError, UsageError

NOT_IMPORTED = ("storage.migrations", "qaflow.__main__")


def every_error_class() -> set[type[QaflowError]]:
    for package in (engine, storage, qaflow):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not module.name.startswith(NOT_IMPORTED):
                importlib.import_module(module.name)
    found: set[type[QaflowError]] = set()
    todo = [QaflowError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


REASON = Reason("role_not_held", "'approve' needs qa_lead", role="qa_lead", roles=("qa_lead",))
CANDIDATE = CandidateReport(1, "done", False, (Reason("missing_field", "summary is not set", field="summary"),))
ISSUE = Issue("workflows/a.yaml", 3, 7, "error", "unknown_name", "no field 'scroe'", loc=("fields", 0))

# one instance of every class, with every fact it has set to something other than its default
SAMPLES: dict[type[QaflowError], QaflowError] = {
    QaflowError: QaflowError("something went wrong"),
    WorkflowValidationError: WorkflowValidationError("workflows/a.yaml", [ISSUE]),
    DefinitionError: DefinitionError("not in the store", workflow="audit", version=2),
    VersionConflictError: VersionConflictError("bump it", workflow="audit", version=1, deployed_hash="ab" * 32, offered_hash="cd" * 32),
    ExpressionError: ExpressionError("unknown_name", "no field 'scroe'", 4),
    DurationError: DurationError("'3 fortnights' is not a duration", 2),
    ExpressionRuntimeError: ExpressionRuntimeError("division by zero", "score / 0"),
    CanonicalError: CanonicalError("1.5 is a binary float; numbers are integers or decimals"),
    NotFoundError: NotFoundError("there is no instance 'x'", kind="instance", name="x"),
    ConflictError: ConflictError(
        "stale", retryable=False, instance_id="i-1", expected_lock_version=1, actual_lock_version=2, idempotency_key="k"
    ),
    TransitionRefusedError: TransitionRefusedError("approve", "i-1", (REASON,), (CANDIDATE, CANDIDATE), "audit"),
    InvalidActorError: InvalidActorError("an actor id must be printable", actor_id=" x"),
    InvalidRequestError: InvalidRequestError("lock_version is a whole number (an int), got str '1'", argument="lock_version"),
    FunctionError: FunctionError("is_looked_after", "failed: CaseSystemDown: timed out", "is_looked_after(child_ref)"),
    CheckpointError: CheckpointError("the file was altered", problem="altered"),
    StorageError: StorageError("database disk image is malformed", unusable=True),
    UsageError: UsageError("--set takes NAME=VALUE, got 'x'"),
    InitRefusedError: InitRefusedError("a.yaml already exists", taken=("a.yaml", "b.yaml")),
}


def test_every_error_class_has_a_sample() -> None:
    assert every_error_class() == set(SAMPLES)


@pytest.mark.parametrize("cls", sorted(SAMPLES, key=lambda cls: cls.__name__), ids=lambda cls: cls.__name__)
def test_every_error_round_trips_through_pickle_with_its_facts(cls: type[QaflowError]) -> None:
    error = SAMPLES[cls]
    assert type(error) is cls
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(error, protocol=protocol))
        assert type(again) is cls
        assert str(again) == str(error)
        assert again.args == error.args
        assert vars(again) == vars(error)
        assert again.code == error.code


def test_a_refusal_comes_back_from_pickle_whole() -> None:
    error = SAMPLES[TransitionRefusedError]
    assert isinstance(error, TransitionRefusedError)
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, TransitionRefusedError)
    assert again.codes == ("role_not_held", "missing_field", "missing_field")
    assert again.candidates[0].reasons[0].field == "summary"
    assert str(again) == str(error)
    assert str(again).startswith("'approve' on i-1 refused: 'approve' needs qa_lead; transition 1: summary is not set")


def test_every_class_has_a_snake_case_code_of_its_own() -> None:
    codes = {cls: cls.__dict__.get("code") for cls in every_error_class()}
    assert all(isinstance(code, str) and re.fullmatch(r"[a-z]+(_[a-z]+)*", code) for code in codes.values()), codes
    assert len(set(codes.values())) == len(codes), codes


def test_an_expression_error_carries_its_lint_code() -> None:
    assert ExpressionError("unknown_name", "no field 'x'").code == "unknown_name"
    assert ExpressionError.code == "bad_expression"
    assert DurationError("bad").code == "bad_duration"


def test_the_tree_in_errors_py_names_exactly_the_classes() -> None:
    doc = engine.errors.__doc__
    assert doc is not None
    tree = doc.split("\n\n", 1)[1].split("\n\n", 1)[0]
    named = re.findall(r"^\s+(?:[│ ]*[├└]── )?([A-Z]\w+)\s", tree, flags=re.MULTILINE)
    assert named[0] == "QaflowError"
    assert len(named) == len(set(named))
    assert set(named) == {cls.__name__ for cls in every_error_class()}
    # the drawing agrees with the classes too: each is drawn under its own base
    for line in tree.splitlines():
        match = re.match(r"^\s+([│ ]*)[├└]── (\w+)", line)
        if match:
            depth = len(match.group(1)) // 5
            cls = next(cls for cls in every_error_class() if cls.__name__ == match.group(2))
            assert depth == (1 if cls is VersionConflictError else 0), line
            assert issubclass(cls, DefinitionError) or depth == 0


def test_canonical_errors_are_qaflow_errors_and_still_value_errors() -> None:
    assert issubclass(CanonicalError, QaflowError) and issubclass(CanonicalError, ValueError)


# --- the facts, as the engine raises them ---------------------------------------------------

WORKFLOW = """
workflow: tiny
version: 1
roles:
  clerk: Does everything
fields:
  note: {type: text}
start:
  by: [clerk]
initial: open
states:
  open:
  done:
    final: true
transitions:
  - trigger: note
    from: open
    to: open
    by: [clerk]
    writes: [note]
  - trigger: close
    from: open
    to: done
    by: [clerk]
"""

CLERK = Actor("cl-1", frozenset({"clerk"}))
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def tiny() -> Engine:
    engine = Engine(MemoryStore(), clock=FixedClock(NOW))
    engine.deploy(load_workflow_text("tiny.yaml", WORKFLOW, expected_id="tiny"))
    return engine


def test_not_found_names_the_kind_and_the_name(tiny: Engine) -> None:
    with pytest.raises(NotFoundError) as raised:
        tiny.fire("nope", "note", CLERK)
    assert (raised.value.code, raised.value.kind, raised.value.name) == ("not_found", "instance", "nope")
    with pytest.raises(NotFoundError) as raised:
        tiny.start("other", CLERK)
    assert (raised.value.kind, raised.value.name) == ("workflow", "other")
    with pytest.raises(NotFoundError) as raised:
        tiny.show("nope")
    assert (raised.value.kind, raised.value.name) == ("instance", "nope")


def test_a_stale_lock_version_names_both_and_is_not_retryable(tiny: Engine) -> None:
    instance = tiny.start("tiny", CLERK).id
    tiny.fire(instance, "note", CLERK, data={"note": "one"})
    with pytest.raises(ConflictError, match="at lock_version 2, not 1") as raised:
        tiny.fire(instance, "note", CLERK, data={"note": "two"}, lock_version=1)
    error = raised.value
    assert (error.code, error.instance_id, error.expected_lock_version, error.actual_lock_version) == ("conflict", instance, 1, 2)
    assert error.retryable is False


def test_a_reused_key_is_not_retryable(tiny: Engine) -> None:
    instance = tiny.start("tiny", CLERK).id
    tiny.fire(instance, "note", CLERK, data={"note": "one"}, idempotency_key="k1")
    with pytest.raises(ConflictError) as raised:
        tiny.fire(instance, "note", CLERK, data={"note": "two"}, idempotency_key="k1")
    assert (raised.value.retryable, raised.value.idempotency_key) == (False, "k1")


def test_a_version_conflict_names_both_hashes(tiny: Engine) -> None:
    deployed = tiny.workflow_of(tiny.start("tiny", CLERK).id)
    with pytest.raises(VersionConflictError) as raised:
        tiny.deploy(load_workflow_text("tiny.yaml", WORKFLOW.replace("Does everything", "Does it all"), expected_id="tiny"))
    error = raised.value
    assert (error.code, error.workflow, error.version) == ("version_conflict", "tiny", 1)
    assert error.deployed_hash is not None and error.offered_hash is not None and error.deployed_hash != error.offered_hash
    assert deployed.id == "tiny"


def test_an_invalid_actor_keeps_the_id(tiny: Engine) -> None:
    with pytest.raises(InvalidActorError) as raised:
        tiny.start("tiny", Actor(" cl-1", frozenset({"clerk"})))
    assert (raised.value.code, raised.value.actor_id) == ("invalid_actor", " cl-1")


def test_a_bad_checkpoint_says_what_is_wrong(tiny: Engine) -> None:
    tiny.start("tiny", CLERK)
    checkpoint: dict[str, Any] = dict(tiny.checkpoint())
    with pytest.raises(CheckpointError) as raised:
        tiny.verify_against({"format": 0})
    assert raised.value.problem == "not_a_checkpoint"
    with pytest.raises(CheckpointError) as raised:
        tiny.verify_against({**checkpoint, "instances": []})
    assert raised.value.problem == "altered"
    with pytest.raises(CheckpointError) as raised:
        tiny.verify_against({**checkpoint, "algorithm": "md5"})
    assert raised.value.problem == "other_algorithm"


def test_init_refused_lists_what_is_in_the_way(tmp_path: Path) -> None:
    from qaflow.app import copy_catalogue

    (tmp_path / "case_file_audit.yaml").write_text("mine", encoding="utf-8")
    with pytest.raises(InitRefusedError) as raised:
        copy_catalogue(tmp_path)
    assert raised.value.taken == (str(tmp_path / "case_file_audit.yaml"),)

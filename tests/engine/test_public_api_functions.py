"""An embedding application registers its own function with the public API only (docs/embedding.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import (
    BOOLEAN,
    STRING,
    Actor,
    Engine,
    FixedClock,
    MemoryStore,
    Signature,
    TransitionRefusedError,
    WorkflowValidationError,
    default_functions,
    load_workflow_text,
)

WORKFLOW = """
workflow: looked_after_check
version: 1
roles:
  clerk: Records the check
fields:
  child_ref: {type: string, required: true}
start:
  by: [clerk]
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
"""


def test_a_registered_function_runs_in_a_check() -> None:
    registry = default_functions()
    registry.register("is_looked_after", Signature((STRING,), BOOLEAN), lambda ref: ref.startswith("LA-"))
    with pytest.raises(WorkflowValidationError):  # unknown without the registry
        load_workflow_text("looked_after_check.yaml", WORKFLOW)
    engine = Engine(MemoryStore(), clock=FixedClock(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)), functions=registry)
    engine.deploy(load_workflow_text("looked_after_check.yaml", WORKFLOW, registry))
    clerk = Actor("cl-1", frozenset({"clerk"}))
    looked_after = engine.start("looked_after_check", clerk, {"child_ref": "LA-1"})
    other = engine.start("looked_after_check", clerk, {"child_ref": "CF-2"})
    assert engine.fire(looked_after.id, "close", clerk).to_state == "done"
    with pytest.raises(TransitionRefusedError, match="Only a looked-after child's case"):
        engine.fire(other.id, "close", clerk)

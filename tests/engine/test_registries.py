"""Registered functions belong to their engine (DESIGN §4.10, QUALITY R10).

Two councils in one process: the same workflow, the same function name `is_looked_after`,
two different implementations. Each engine's guard must run its own council's function,
whichever engine deployed (or loaded) the workflow first, on separate stores and on one
shared store (where the second engine finds the definition already stored).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from engine import (
    BOOLEAN,
    STRING,
    Actor,
    Engine,
    FixedClock,
    FunctionRegistry,
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

CLERK = Actor("cl-1", frozenset({"clerk"}))
NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def council(prefix: str) -> FunctionRegistry:
    """A council whose case-management system marks looked-after children's refs with `prefix`."""
    registry = default_functions()
    registry.register("is_looked_after", Signature((STRING,), BOOLEAN), lambda ref: ref.startswith(prefix))
    return registry


def closes(engine: Engine, child_ref: str) -> bool:
    instance = engine.start("looked_after_check", CLERK, {"child_ref": child_ref}).id
    try:
        engine.fire(instance, "close", CLERK)
    except TransitionRefusedError:
        return False
    return True


def deployed(store: MemoryStore, registry: FunctionRegistry) -> Engine:
    engine = Engine(store, clock=FixedClock(NOW), functions=registry)
    engine.deploy(load_workflow_text("looked_after_check.yaml", WORKFLOW, registry))
    return engine


def loaded_from_the_store(store: MemoryStore, registry: FunctionRegistry) -> Engine:
    """An engine that never deploys: it compiles the stored definition with its own registry."""
    return Engine(store, clock=FixedClock(NOW), functions=registry)


def check_both(north: Engine, south: Engine) -> None:
    assert closes(north, "LA-1") and not closes(north, "CLA-1")
    assert closes(south, "CLA-1") and not closes(south, "LA-1")


@pytest.mark.parametrize("north_first", [True, False], ids=["north_first", "south_first"])
def test_each_engine_runs_its_own_function_on_its_own_store(north_first: bool) -> None:
    north_registry, south_registry = council("LA-"), council("CLA-")
    if north_first:
        north = deployed(MemoryStore(), north_registry)
        south = deployed(MemoryStore(), south_registry)
    else:
        south = deployed(MemoryStore(), south_registry)
        north = deployed(MemoryStore(), north_registry)
    check_both(north, south)


@pytest.mark.parametrize("north_first", [True, False], ids=["north_first", "south_first"])
@pytest.mark.parametrize("second", [deployed, loaded_from_the_store], ids=["deploys", "loads"])
def test_each_engine_runs_its_own_function_on_one_store(
    north_first: bool, second: Callable[[MemoryStore, FunctionRegistry], Engine]
) -> None:
    store = MemoryStore()
    north_registry, south_registry = council("LA-"), council("CLA-")
    if north_first:
        north = deployed(store, north_registry)
        south = second(store, south_registry)
    else:
        south = deployed(store, south_registry)
        north = second(store, north_registry)
    check_both(north, south)
    # an instance one engine started is judged by the other engine with the other's function
    instance = north.start("looked_after_check", CLERK, {"child_ref": "LA-7"}).id
    with pytest.raises(TransitionRefusedError, match="Only a looked-after child's case"):
        south.fire(instance, "close", CLERK)
    assert north.fire(instance, "close", CLERK).to_state == "done"


def test_a_registered_function_runs_in_a_check_through_the_public_api_only() -> None:
    registry = council("LA-")
    with pytest.raises(WorkflowValidationError):  # unknown without the registry
        load_workflow_text("looked_after_check.yaml", WORKFLOW)
    engine = Engine(MemoryStore(), clock=FixedClock(NOW), functions=registry)
    engine.deploy(load_workflow_text("looked_after_check.yaml", WORKFLOW, registry))
    looked_after = engine.start("looked_after_check", CLERK, {"child_ref": "LA-1"})
    other = engine.start("looked_after_check", CLERK, {"child_ref": "CF-2"})
    assert engine.fire(looked_after.id, "close", CLERK).to_state == "done"
    with pytest.raises(TransitionRefusedError, match="Only a looked-after child's case"):
        engine.fire(other.id, "close", CLERK)

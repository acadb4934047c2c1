"""The real engine on SqlStore: the same events give the same instance and history as in memory.

Runs the P1 benchmark workflow's cycle (benchmarks/bench_workflow.yaml, kept stable for the
benchmarks) through `engine.runtime.engine.Engine` on every backend, with a fixed clock, and
compares what a user sees. Only instance ids, and the hashes that cover them, may differ.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ConflictError, TransitionRefusedError
from engine.language.loader import load_workflow
from engine.results import Actor
from engine.runtime.engine import Engine
from engine.store.memory import MemoryStore
from engine.time.clock import FixedClock
from storage import SqlStore

WORKFLOW = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_workflow.yaml"
CLERK = Actor("cl-1", frozenset({"clerk"}))
REVIEWER = Actor("rv-1")  # holds `reviewer` by being assigned
APPROVER = Actor("ap-1", frozenset({"approver"}))
CYCLE: list[tuple[str, Actor, dict[str, Any] | None]] = [
    ("submit", CLERK, {"summary": "Quarterly check of the file — ✓"}),
    ("triage", REVIEWER, {"due_on": "2099-12-31"}),
    ("begin_review", REVIEWER, None),
    ("review", REVIEWER, {"score": 72, "grade": "good", "notes": ["Clear plan", "Child seen"]}),
    ("approve", APPROVER, None),
    ("publish", APPROVER, None),
    ("archive", CLERK, None),
    ("reopen", CLERK, None),
]


def run_cycle(store: Any) -> tuple[Engine, str]:
    clock = FixedClock(dt.datetime(2025, 10, 26, 0, 30, 0, 250, tzinfo=dt.UTC))  # the night the clocks go back
    engine = Engine(store, clock=clock, wall_clock=clock)
    engine.deploy(load_workflow(WORKFLOW))
    instance_id = engine.start("bench_workflow", CLERK, data={"ref": "BENCH-1"}, assign={"reviewer": REVIEWER.id}).id
    for lap in range(2):
        for n, (trigger, actor, data) in enumerate(CYCLE):
            key = f"{lap}-{n}" if n == 3 else None
            engine.fire(instance_id, trigger, actor, data, idempotency_key=key)
    with pytest.raises(TransitionRefusedError):
        engine.fire(instance_id, "approve", CLERK)  # wrong state and role: refused and logged
    return engine, instance_id


def observed(engine: Engine, instance_id: str) -> tuple[Any, ...]:
    view = engine.show(instance_id)
    history = [dataclasses.replace(entry, hash="") for entry in engine.history(instance_id)]
    refusals = [(event.kind, event.actor, event.trigger, event.reasons) for event in engine.refusals(instance_id)]
    return (view.state, dict(view.data), dict(view.assignees), view.lock_version, view.last_seq, view.created_at), history, refusals


def test_the_engine_gives_the_same_results_on_every_backend(store: Any) -> None:
    reference = run_cycle(MemoryStore())
    engine, instance_id = run_cycle(store)
    assert observed(engine, instance_id) == observed(*reference)
    report = engine.verify()
    assert report.ok and len(report.instances) == 1


def test_an_idempotent_retry_and_a_stale_lock_version_on_sql(sql_store: SqlStore) -> None:
    engine, instance_id = run_cycle(sql_store)
    before = engine.show(instance_id)
    with pytest.raises(ConflictError):
        engine.fire(instance_id, "submit", CLERK, {"summary": "Again and again"}, lock_version=before.lock_version - 1)
    first = engine.fire(instance_id, "submit", CLERK, {"summary": "Once only"}, idempotency_key="k-1")
    again = engine.fire(instance_id, "submit", CLERK, {"summary": "Once only"}, idempotency_key="k-1")
    assert dataclasses.replace(again, replayed=False) == first and again.replayed
    assert engine.show(instance_id).lock_version == before.lock_version + 1
    assert engine.verify(instance_id).ok

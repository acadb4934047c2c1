"""An idempotency key's kept first result: the stored form is pinned, because rows written by
earlier versions must replay, and it is the engine's own, not the public `fire --json`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from engine.canonical import dumps
from engine.language.loader import load_workflow
from engine.results import Actor
from engine.runtime.engine import Engine
from engine.runtime.replies import fire_result_from_stored, start_from_stored, stored_fire_result, stored_start
from engine.store.memory import MemoryStore
from engine.time.clock import FixedClock

WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "case_file_audit.yaml"
QA_LEAD = Actor("qa-lead-1", frozenset({"qa_lead"}))
CASE = {"child_ref": "CF-2041", "case_type": "cp", "team": "North", "case_status": "open", "selection_method": "random"}

# a kept `fire` result as rows hold it (the keys and their order are the stored format)
KEPT_FIRE: dict[str, Any] = {
    "instance_id": "01J0000000000000000000000A",
    "seq": 2,
    "trigger": "allocate",
    "role": "qa_lead",
    "from": "selected",
    "to": "allocated",
    "state": "allocated",
    "lock_version": 2,
    "changes": {"auditor_trained": True},
    "assigned": {"auditor": "aud-7"},
    "notifications": [{"roles": ["auditor"], "recipients": ["aud-7"], "template": None, "message": "Audit CF-2041", "urgent": False}],
    "pending_effects": [{"kind": "spawn", "location": ["transitions", 3, "effects", 0]}],
    "hash": "ab" * 32,
}
KEPT_START: dict[str, Any] = {
    "id": "01J0000000000000000000000A",
    "workflow": "case_file_audit",
    "version": 1,
    "definition_hash": "cd" * 32,
    "state": "selected",
    "data": {"child_ref": "CF-2041"},
    "assignees": {"practitioner": "sw-12"},
    "lock_version": 1,
    "last_seq": 1,
    "last_hash": "ef" * 32,
    "created_at": "2026-03-02T09:00:00.000000Z",
    "updated_at": "2026-03-02T09:00:00.000000Z",
    "parent_id": None,
}


def test_a_kept_fire_result_replays_and_is_stored_again_unchanged() -> None:
    replayed = fire_result_from_stored(KEPT_FIRE)
    assert replayed.replayed
    assert (replayed.from_state, replayed.to_state, replayed.notifications[0].recipients) == ("selected", "allocated", ("aud-7",))
    assert replayed.pending_effects[0].location == ("transitions", 3, "effects", 0)
    assert dumps(stored_fire_result(replayed)) == dumps(KEPT_FIRE)
    assert list(stored_fire_result(replayed)) == list(KEPT_FIRE)


def test_a_kept_start_replays_and_is_stored_again_unchanged() -> None:
    record = start_from_stored(KEPT_START)
    assert record.created_at == dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    assert stored_start(record) == KEPT_START and list(stored_start(record)) == list(KEPT_START)


def test_the_engine_keeps_the_stored_form_and_replays_it() -> None:
    store = MemoryStore()
    engine = Engine(store, clock=FixedClock(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)))
    engine.deploy(load_workflow(WORKFLOW))
    view = engine.start("case_file_audit", QA_LEAD, CASE, assign={"practitioner": "sw-12", "team_manager": "tm-3"}, idempotency_key="s1")
    args: tuple[Any, ...] = (view.id, "allocate", QA_LEAD, {"auditor_trained": True})
    first = engine.fire(*args, assign={"auditor": "aud-7"}, idempotency_key="f1")
    with store.unit_of_work(read_only=True) as uow:
        kept_fire = uow.idempotency.get(f"fire:{view.id}", "f1")
        kept_start = uow.idempotency.get("start:case_file_audit", "s1")
    assert kept_fire is not None and kept_start is not None
    assert kept_fire.result == stored_fire_result(first) and list(kept_fire.result) == list(KEPT_FIRE)
    assert list(kept_start.result) == list(KEPT_START)
    again = engine.fire(*args, assign={"auditor": "aud-7"}, idempotency_key="f1")
    assert again.replayed and not first.replayed
    assert stored_fire_result(again) == stored_fire_result(first)
    again_start = engine.start(
        "case_file_audit", QA_LEAD, CASE, assign={"practitioner": "sw-12", "team_manager": "tm-3"}, idempotency_key="s1"
    )
    assert again_start.replayed

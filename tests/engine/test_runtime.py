"""The runtime on the in-memory store: refusals, roles, data rules, effects, state entries,
idempotency, lock_version, available and explain (DESIGN §3.2-§3.7, §4.2, §4.6).

Every refusal is checked three ways: it names what was wrong, it changes nothing the store
keeps (instances, history, state entries, keys, outbox), and it adds one security-log entry.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from engine.errors import ConflictError, NotFoundError, TransitionRefusedError, VersionConflictError
from engine.language.loader import load_workflow_text
from engine.results import Actor
from engine.runtime.engine import Engine
from engine.store.memory import MemoryStore
from engine.time.clock import FixedClock

WORKFLOW = """
workflow: review_cycle
version: 1
params:
  min_score: 50
  window: 14 days
roles:
  clerk: Raises the item
  reviewer: Reviews it (assigned at start)
  manager: Signs off
  checker: Checks a flagged review (assigned when needed)
separate:
  - [clerk, reviewer]
  - [reviewer, checker]
scales:
  grade: [good, fair, poor]
fields:
  ref: {type: string, required: true, pattern: '^[A-Z0-9-]{3,20}$'}
  summary: {type: text}
  score: {type: integer, min: 0, max: 100}
  threshold: {type: integer, default: "=params.min_score"}
  grade: {type: grade}
  notes: {type: map, items: {type: text}}
  tags: {type: list, items: {type: string}}
  due_on: {type: date}
  flagged: {type: boolean, default: false}
  amount: {type: number}
start:
  by: [clerk]
  assigns: [reviewer]
  needs: [ref]
  writes: [summary, amount]
initial: draft
states:
  draft:
  review:
    needs: [summary]
    on_enter:
      - notify: {to: [reviewer, manager], message: "Please review {ref} by {due_on}."}
  on_hold:
  done:
    final: true
transitions:
  - trigger: submit
    from: draft
    to: review
    by: [clerk]
    needs: [summary]
    writes: [tags]
    do:
      - set: {due_on: "=today() + params.window"}
  - trigger: score
    from: review
    to: review
    by: [reviewer]
    needs: [score, grade]
    checks:
      - when: "score >= threshold or grade != 'good'"
        otherwise: "A score under {threshold} can't be graded good (the minimum is {params.min_score})."
    do:
      - set: {flagged: true}
        when: "grade == 'poor'"
      - clear: [tags]
        when: "grade == 'good'"
  - trigger: note
    from: "*"
    by: [reviewer, manager]
    writes: [notes, tags, summary]
  - trigger: hold
    from: review
    to: on_hold
    by: [manager]
  - trigger: resume
    from: on_hold
    to: "@previous"
    by: [manager]
  - trigger: approve
    from: review
    to: done
    by: [manager]
    needs: [score]
    when: "not flagged"
    otherwise: A flagged item needs a second check.
  - trigger: approve
    from: review
    to: on_hold
    by: [manager]
    assigns: [checker]
  - trigger: reassign
    from: [draft, review, on_hold]
    by: [manager]
    assigns: [reviewer]
  - trigger: check
    from: on_hold
    to: done
    by: [checker]
  - trigger: close
    from: "*"
    to: done
    by: [system]
"""

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
CLERK = Actor("cl-1", frozenset({"clerk"}))
REVIEWER = Actor("rv-1")  # holds `reviewer` only by being assigned
MANAGER = Actor("mg-1", frozenset({"manager"}))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def engine(store: MemoryStore) -> Engine:
    engine = Engine(store, clock=FixedClock(NOW))
    engine.deploy(load_workflow_text("review_cycle.yaml", WORKFLOW, expected_id="review_cycle"))
    return engine


def started(engine: Engine, **data: Any) -> str:
    view = engine.start("review_cycle", CLERK, data={"ref": "REF-1", **data}, assign={"reviewer": REVIEWER.id})
    return view.id


def in_review(engine: Engine) -> str:
    instance = started(engine, summary="Check the plan")
    engine.fire(instance, "submit", CLERK)
    return instance


@contextmanager
def refused(store: MemoryStore, *codes: str) -> Iterator[list[TransitionRefusedError]]:
    """Expect a refusal with these reason codes, no change to the store, one security-log entry."""
    before = store.snapshot()
    log = len(store.security_log)
    caught: list[TransitionRefusedError] = []
    with pytest.raises(TransitionRefusedError) as info:
        yield caught
    caught.append(info.value)
    assert set(codes) <= set(info.value.codes), info.value.codes
    assert store.snapshot() == before
    assert len(store.security_log) == log + 1
    entry = store.security_log[-1]
    assert entry.kind == "refused"
    assert {reason["code"] for reason in entry.reasons} >= set(codes)


# --- each kind of refusal ----------------------------------------------------------------


def test_wrong_role_is_refused_naming_the_roles(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    with refused(store, "role_not_held") as caught:
        engine.fire(instance, "hold", CLERK)
    reason = caught[0].all_reasons[0]
    assert reason.roles == ("manager",)
    assert "manager" in reason.message and "cl-1" in reason.message


def test_an_assignable_role_is_held_only_by_the_person_assigned(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    claims_it = Actor("someone-else", frozenset({"reviewer"}))
    with refused(store, "role_not_held") as caught:
        engine.fire(instance, "score", claims_it, data={"score": 70, "grade": "good"})
    assert "rv-1" in caught[0].all_reasons[0].message


def test_separation_breach_is_refused_naming_both_roles(engine: Engine, store: MemoryStore) -> None:
    with refused(store, "separation") as caught:
        engine.start("review_cycle", CLERK, data={"ref": "REF-1"}, assign={"reviewer": CLERK.id})
    reason = next(r for r in caught[0].all_reasons if r.code == "separation")
    assert set(reason.roles) == {"clerk", "reviewer"}
    assert "clerk" in reason.message and "reviewer" in reason.message
    assert store.security_log[-1].instance_id is None and store.security_log[-1].workflow == "review_cycle"


def test_field_not_writable_is_refused_naming_the_field(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine, summary="Check the plan")
    with refused(store, "not_writable") as caught:
        engine.fire(instance, "submit", CLERK, data={"score": 5})
    assert caught[0].all_reasons[0].field == "score"


def test_unknown_field_is_refused_with_a_suggestion(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine, summary="Check the plan")
    with refused(store, "not_writable") as caught:
        engine.fire(instance, "submit", CLERK, data={"tag": ["x"]})
    assert "did you mean 'tags'" in str(caught[0])


def test_missing_needed_field_is_refused_naming_it(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine)
    with refused(store, "missing_field") as caught:
        engine.fire(instance, "submit", CLERK)
    assert [reason.field for reason in caught[0].all_reasons] == ["summary"]


def test_failed_check_gives_its_otherwise_text_rendered(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    with refused(store, "check_failed") as caught:
        engine.fire(instance, "score", REVIEWER, data={"score": 10, "grade": "good"})
    assert caught[0].all_reasons[0].message == "A score under 50 can't be graded good (the minimum is 50)."


def test_unknown_trigger_is_refused(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine)
    with refused(store, "unknown_trigger") as caught:
        engine.fire(instance, "submitt", CLERK)
    assert "did you mean 'submit'" in str(caught[0])


def test_trigger_not_valid_in_the_state_is_refused(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine)
    with refused(store, "invalid_state") as caught:
        engine.fire(instance, "hold", MANAGER)
    assert "'draft'" in caught[0].all_reasons[0].message and "'review'" in caught[0].all_reasons[0].message


def test_a_person_claiming_system_is_refused(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine)
    with refused(store, "system_claimed"):
        engine.fire(instance, "close", Actor("op-1", frozenset({"system", "manager"})))


def test_only_the_engine_holds_system(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine)
    with refused(store, "role_not_held"):
        engine.fire(instance, "close", MANAGER)
    result = engine.fire(instance, "close", engine.system_actor(on_behalf_of="op-1"))
    assert (result.role, result.state) == ("system", "done")
    assert engine.history(instance)[-1].actor == "system"


def test_invalid_value_is_refused_strictly(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    with refused(store, "invalid_value") as caught:
        engine.fire(instance, "score", REVIEWER, data={"score": "70", "grade": "good"})
    assert caught[0].all_reasons[0].field == "score"


def test_every_candidate_reason_is_listed_when_none_passes(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    with refused(store, "missing_field", "missing_assignment") as caught:
        engine.fire(instance, "approve", MANAGER)
    assert [c.transition for c in caught[0].candidates] == [6, 7]


def test_not_found_is_an_error_and_logged(engine: Engine, store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        engine.fire("no-such-id", "submit", CLERK)
    assert store.security_log[-1].kind == "not_found"


# --- assignments and separation ----------------------------------------------------------


def test_assigns_must_name_each_listed_role_and_no_other(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    with refused(store, "not_assignable"):
        engine.fire(instance, "reassign", MANAGER, assign={"reviewer": "rv-2", "checker": "ck-1"})
    with refused(store, "missing_assignment"):
        engine.fire(instance, "reassign", MANAGER)
    result = engine.fire(instance, "reassign", MANAGER, assign={"reviewer": "rv-2"})
    assert result.assigned == {"reviewer": "rv-2"}
    assert engine.show(instance).assignees["reviewer"] == "rv-2"
    assert engine.history(instance)[-1].assigned == {"reviewer": "rv-2"}
    with refused(store, "role_not_held"):  # the old reviewer no longer holds the role
        engine.fire(instance, "score", REVIEWER, data={"score": 70, "grade": "good"})


def test_a_person_keeps_a_role_for_separation_once_they_acted_in_it(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    engine.fire(instance, "score", REVIEWER, data={"score": 30, "grade": "poor"})
    engine.fire(instance, "reassign", MANAGER, assign={"reviewer": "rv-2"})
    with refused(store, "separation") as caught:
        engine.fire(instance, "approve", MANAGER, assign={"checker": REVIEWER.id})
    assert set(caught[0].all_reasons[-1].roles) == {"checker", "reviewer"}
    assert engine.fire(instance, "approve", MANAGER, assign={"checker": "ck-1"}).state == "on_hold"


# --- data: merging, defaults, validation -------------------------------------------------


def test_defaults_apply_at_start_including_params(engine: Engine) -> None:
    view = engine.show(started(engine, amount="12.50"))
    assert view.data["threshold"] == 50 and view.data["flagged"] is False
    assert view.data["amount"] == Decimal("12.50")


def test_required_fields_must_be_given_at_start(engine: Engine, store: MemoryStore) -> None:
    with refused(store, "missing_field") as caught:
        engine.start("review_cycle", CLERK, assign={"reviewer": REVIEWER.id})
    assert [reason.field for reason in caught[0].all_reasons] == ["ref"]


def test_merging_replaces_top_level_merges_maps_and_null_unsets(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    engine.fire(instance, "note", MANAGER, data={"notes": {"north": "Seen", "south": "Pending"}, "tags": ["a", "b"]})
    engine.fire(instance, "note", MANAGER, data={"notes": {"south": None, "east": "New"}, "tags": ["c"]})
    data = engine.show(instance).data
    assert data["notes"] == {"north": "Seen", "east": "New"}
    assert data["tags"] == ["c"]
    assert engine.history(instance)[-1].data == {"notes": {"south": None, "east": "New"}, "tags": ["c"]}
    assert engine.history(instance)[-1].changes == {"notes": {"north": "Seen", "east": "New"}, "tags": ["c"]}
    engine.fire(instance, "note", MANAGER, data={"tags": None, "notes": {"north": None, "east": None}})
    data = engine.show(instance).data
    assert "tags" not in data and "notes" not in data  # an emptied map is unset


def test_an_internal_event_keeps_the_states_needs_set(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    with refused(store, "missing_field") as caught:
        engine.fire(instance, "note", MANAGER, data={"summary": None})
    assert caught[0].all_reasons[0].message == "'summary' must be set (needed in 'review')"


def test_null_for_a_required_field_is_refused(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    with refused(store, "required_unset"):
        engine.fire(instance, "note", MANAGER, data={"ref": None})


def test_set_and_clear_run_in_order_with_when(engine: Engine) -> None:
    instance = in_review(engine)
    assert engine.show(instance).data["due_on"] == dt.date(2026, 3, 16)
    engine.fire(instance, "note", MANAGER, data={"tags": ["x"]})
    engine.fire(instance, "score", REVIEWER, data={"score": 80, "grade": "good"})
    data = engine.show(instance).data
    assert "tags" not in data and data["flagged"] is False
    result = engine.fire(instance, "score", REVIEWER, data={"score": 20, "grade": "poor"})
    assert result.changes == {"score": 20, "grade": "poor", "flagged": True}


def test_notifications_go_to_the_outbox_with_the_event(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine, summary="Check the plan")
    result = engine.fire(instance, "submit", CLERK)
    (note,) = result.notifications
    assert note.message == "Please review REF-1 by 2026-03-16."
    assert note.recipients == ("rv-1",) and note.roles == ("reviewer", "manager")
    assert [(m.instance_id, m.seq, m.message) for m in store.outbox] == [(instance, 2, note.message)]


# --- states: internal events, self-loops, @previous ---------------------------------------


def entries(store: MemoryStore, instance: str) -> list[tuple[str, str | None]]:
    return [(entry.state, entry.entered_from) for entry in store.state_entries[instance]]


def test_an_internal_event_changes_no_state_and_makes_no_entry(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    result = engine.fire(instance, "note", REVIEWER, data={"summary": "Better"})
    assert (result.from_state, result.to_state, result.state) == ("review", None, "review")
    assert entries(store, instance) == [("draft", None), ("review", "draft")]
    assert engine.history(instance)[-1].to_state is None


def test_a_self_loop_is_a_new_entry_keeping_the_earlier_entered_from(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    result = engine.fire(instance, "score", REVIEWER, data={"score": 70, "grade": "fair"})
    assert (result.from_state, result.to_state) == ("review", "review")
    assert entries(store, instance)[-1] == ("review", "draft")
    assert len(result.notifications) == 1  # on_enter ran again


def test_previous_returns_to_where_the_state_was_entered_from(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    engine.fire(instance, "hold", MANAGER)
    result = engine.fire(instance, "resume", MANAGER)
    assert (result.from_state, result.to_state) == ("on_hold", "review")
    assert entries(store, instance)[-2:] == [("on_hold", "review"), ("review", "on_hold")]


def test_previous_is_refused_when_there_is_nowhere_to_go_back_to(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine)
    engine.fire(instance, "reassign", MANAGER, assign={"reviewer": "rv-2"})
    assert engine.explain(instance, "resume", MANAGER).allowed is False


def test_a_final_state_accepts_nothing(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine)
    engine.fire(instance, "close", engine.system_actor())
    with refused(store, "invalid_state"):
        engine.fire(instance, "note", MANAGER)


# --- idempotency and lock_version ---------------------------------------------------------


def test_same_key_same_request_returns_the_first_result_and_changes_nothing(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine, summary="Check the plan")
    first = engine.fire(instance, "submit", CLERK, idempotency_key="k1")
    before = store.snapshot()
    again = engine.fire(instance, "submit", CLERK, idempotency_key="k1")
    assert again.replayed and not first.replayed
    assert (again.seq, again.hash, again.state, again.changes) == (first.seq, first.hash, first.state, first.changes)
    assert store.snapshot() == before


def test_same_key_other_request_is_a_conflict(engine: Engine, store: MemoryStore) -> None:
    instance = in_review(engine)
    engine.fire(instance, "note", MANAGER, data={"tags": ["a"]}, idempotency_key="k1")
    before = store.snapshot()
    with pytest.raises(ConflictError):
        engine.fire(instance, "note", MANAGER, data={"tags": ["b"]}, idempotency_key="k1")
    assert store.snapshot() == before
    assert store.security_log[-1].kind == "conflict"


def test_a_refused_first_attempt_stores_no_key(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine)
    with refused(store, "missing_field"):
        engine.fire(instance, "submit", CLERK, idempotency_key="k1")
    assert not store.idempotency
    engine.fire(instance, "note", MANAGER, data={"summary": "Now"})
    assert engine.fire(instance, "submit", CLERK, idempotency_key="k1").replayed is False


def test_idempotent_start_returns_the_same_instance(engine: Engine, store: MemoryStore) -> None:
    first = engine.start("review_cycle", CLERK, data={"ref": "REF-9"}, assign={"reviewer": "rv-1"}, idempotency_key="s1")
    again = engine.start("review_cycle", CLERK, data={"ref": "REF-9"}, assign={"reviewer": "rv-1"}, idempotency_key="s1")
    assert again.id == first.id and again.replayed
    assert len(store.instances) == 1
    with pytest.raises(ConflictError):
        engine.start("review_cycle", CLERK, data={"ref": "REF-8"}, assign={"reviewer": "rv-1"}, idempotency_key="s1")


def test_a_stale_lock_version_is_a_conflict(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine, summary="Check the plan")
    assert engine.show(instance).lock_version == 1
    before = store.snapshot()
    with pytest.raises(ConflictError):
        engine.fire(instance, "submit", CLERK, lock_version=0)
    assert store.snapshot() == before
    assert engine.fire(instance, "submit", CLERK, lock_version=1).lock_version == 2


# --- available and explain ---------------------------------------------------------------


def test_available_lists_what_the_actor_holds_a_role_for(engine: Engine) -> None:
    instance = in_review(engine)
    assert [a.trigger for a in engine.available(instance, REVIEWER)] == ["score", "note"]
    manager = {a.trigger: a for a in engine.available(instance, MANAGER)}
    assert list(manager) == ["note", "hold", "approve", "reassign"]
    assert manager["approve"].transitions == (6, 7) and manager["approve"].assigns == ("checker",)
    assert engine.available(instance, Actor("x", frozenset({"system"}))) == []


def test_explain_an_allowed_event_says_what_would_happen(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine, summary="Check the plan")
    before = store.snapshot()
    explanation = engine.explain(instance, "submit", CLERK)
    assert explanation.allowed and explanation.role == "clerk" and explanation.to_state == "review"
    assert explanation.changes == {"due_on": "2026-03-16"}
    assert explanation.notifications[0].message == "Please review REF-1 by 2026-03-16."
    assert "is allowed as clerk" in explanation.summary()
    assert store.snapshot() == before and not store.security_log


def test_explain_a_refused_event_gives_every_candidates_reasons(engine: Engine) -> None:
    instance = in_review(engine)
    engine.fire(instance, "score", REVIEWER, data={"score": 20, "grade": "poor"})
    explanation = engine.explain(instance, "approve", MANAGER)
    assert not explanation.allowed
    first, second = explanation.candidates
    assert [r.message for r in first.reasons] == ["A flagged item needs a second check."]
    assert [r.code for r in second.reasons] == ["missing_assignment"]
    allowed = engine.explain(instance, "approve", MANAGER, assign={"checker": "ck-1"})
    assert allowed.allowed and allowed.transition == 7 and allowed.to_state == "on_hold"


# --- deployment ----------------------------------------------------------------------------


def test_a_version_deployed_with_another_definition_is_refused(engine: Engine) -> None:
    changed = WORKFLOW.replace("min_score: 50", "min_score: 60")
    with pytest.raises(VersionConflictError):
        engine.deploy(load_workflow_text("review_cycle.yaml", changed, expected_id="review_cycle"))


def test_an_engine_in_another_process_loads_the_stored_definition(engine: Engine, store: MemoryStore) -> None:
    instance = started(engine, summary="Check the plan")
    fresh = Engine(store, clock=FixedClock(NOW))
    assert fresh.fire(instance, "submit", CLERK).state == "review"
    assert fresh.verify().ok


def test_strings_are_stored_nfc(engine: Engine) -> None:
    decomposed = "Cafe\u0301"
    instance = started(engine, summary=decomposed)
    assert engine.show(instance).data["summary"] == "Caf\u00e9"
    assert engine.history(instance)[0].data == {"ref": "REF-1", "summary": "Caf\u00e9"}


def test_instance_ids_are_uuid7_and_time_ordered(engine: Engine) -> None:
    ids = [started(engine) for _ in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    for each in ids:
        assert uuid.UUID(each).version == 7 and uuid.UUID(each).variant == uuid.RFC_4122

"""The storage contract (`engine.store.protocol`), run on every backend: what the engine may rely on.

Every test goes through units of work only, and leaves an exception to propagate out of the
unit of work (as the engine does) rather than carrying on after a failed write, so the same
tests hold on PostgreSQL, where a failed statement aborts the transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from storage_records import (
    definition,
    history_row,
    idempotency_record,
    instance,
    outbox_message,
    payload,
    payload_record,
    security_event,
    state_entry,
)

from engine.errors import ConflictError
from engine.store.records import HistoryPayload

Store = Any  # MemoryStore or SqlStore: both satisfy engine.store.Store

ID_A = "0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2a"
ID_B = "0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2b"
ID_C = "0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2c"


def seed(store: Store, *instance_ids: str) -> None:
    """Deploy version 1 and add the instances, each with its start row (foreign keys hold)."""
    with store.unit_of_work() as uow:
        if uow.definitions.get("case_file_audit", 1) is None:
            uow.definitions.add(definition())
        for instance_id in instance_ids:
            uow.instances.add(instance(instance_id))
            uow.history.append(history_row(instance_id, 1), payload(instance_id, 1))


class Boom(Exception):
    pass


# --- definitions -----------------------------------------------------------------------


def test_definitions_round_trip_and_latest(store: Store) -> None:
    records = [
        definition("case_file_audit", 1),
        definition("case_file_audit", 3),
        definition("case_file_audit", 2),
        definition("dip_sample", 7),
    ]
    with store.unit_of_work() as uow:
        for record in records:
            uow.definitions.add(record)
    with store.unit_of_work() as uow:
        assert uow.definitions.get("case_file_audit", 2) == records[2]
        assert uow.definitions.get("case_file_audit", 4) is None
        assert uow.definitions.get("nope", 1) is None
        assert uow.definitions.latest("case_file_audit") == records[1]
        assert uow.definitions.latest("dip_sample") == records[3]
        assert uow.definitions.latest("nope") is None
        got = uow.definitions.get("case_file_audit", 1)
    assert got is not None and got.functions == ("days_between", "working_days_until")
    assert isinstance(got.functions, tuple)


def test_duplicate_definition_is_a_conflict(store: Store) -> None:
    seed(store)
    with pytest.raises(ConflictError), store.unit_of_work() as uow:
        uow.definitions.add(definition())


# --- instances -------------------------------------------------------------------------


def test_instance_round_trips_exactly(store: Store) -> None:
    seed(store, ID_A)
    with store.unit_of_work() as uow:
        uow.instances.add(instance(ID_B, parent_id=ID_A, data={}))
    with store.unit_of_work() as uow:
        got = uow.instances.get(ID_A)
        locked = uow.instances.lock(ID_B)
        assert uow.instances.get("missing") is None
        assert uow.instances.lock("missing") is None
    assert got == instance(ID_A)
    assert locked == instance(ID_B, parent_id=ID_A, data={})
    assert got is not None and got.holders == {"auditor": ("amira",), "moderator": ("mo", "zoë")}
    assert all(isinstance(people, tuple) for people in got.holders.values())
    assert got.updated_at.microsecond == 123457  # microseconds survive


def test_duplicate_instance_is_a_conflict(store: Store) -> None:
    seed(store, ID_A)
    with pytest.raises(ConflictError), store.unit_of_work() as uow:
        uow.instances.add(instance(ID_A, state="elsewhere"))
    with store.unit_of_work() as uow:
        assert uow.instances.get(ID_A) == instance(ID_A)


def test_instances_update_replaces_the_row(store: Store) -> None:
    seed(store, ID_A)
    new = instance(ID_A, state="completed", lock_version=2, data={"grade": "good", "ü": [1, {"x": None}]})
    with store.unit_of_work() as uow:
        uow.instances.update(new, 1)
    with store.unit_of_work() as uow:
        assert uow.instances.get(ID_A) == new
        assert uow.instances.list(state="completed") == [new]


@pytest.mark.parametrize("expected", [0, 2, 7])
def test_instances_update_with_a_stale_lock_version_is_a_conflict(store: Store, expected: int) -> None:
    seed(store, ID_A)
    with pytest.raises(ConflictError), store.unit_of_work() as uow:
        uow.instances.update(instance(ID_A, state="completed", lock_version=expected + 1), expected)
    with store.unit_of_work() as uow:
        assert uow.instances.get(ID_A) == instance(ID_A)


def test_update_of_a_missing_instance_is_a_conflict(store: Store) -> None:
    seed(store)
    with pytest.raises(ConflictError), store.unit_of_work() as uow:
        uow.instances.update(instance(ID_A, lock_version=2), 1)


def test_list_instances_orders_filters_and_pages(store: Store) -> None:
    ids = [f"0190f1c2-0000-7000-8000-{n:012d}" for n in range(7)]
    states = ["allocated", "completed", "allocated", "closed", "allocated", "completed", "allocated"]
    with store.unit_of_work() as uow:
        uow.definitions.add(definition("case_file_audit", 1))
        uow.definitions.add(definition("dip_sample", 1))
        for n in (3, 0, 6, 1, 5, 2, 4):  # written out of order
            workflow = "dip_sample" if n in (2, 5) else "case_file_audit"
            uow.instances.add(instance(ids[n], workflow=workflow, state=states[n]))
    with store.unit_of_work() as uow:
        listed = uow.instances.list()
        assert [record.id for record in listed] == ids
        assert listed[0] == instance(ids[0])

        def names(**kwargs: Any) -> list[int]:
            return [ids.index(record.id) for record in uow.instances.list(**kwargs)]

        assert names(workflow="case_file_audit") == [0, 1, 3, 4, 6]
        assert names(workflow="dip_sample") == [2, 5]
        assert names(state="allocated") == [0, 2, 4, 6]
        assert names(workflow="case_file_audit", state="allocated") == [0, 4, 6]
        assert names(workflow="nope") == []
        assert names(after=ids[2]) == [3, 4, 5, 6]
        assert names(after=ids[6]) == []
        assert names(after="") == [0, 1, 2, 3, 4, 5, 6]
        assert names(limit=3) == [0, 1, 2]
        assert names(limit=None) == names(limit=0) == list(range(7))
        assert names(after=ids[1], limit=2) == [2, 3]
        assert names(workflow="case_file_audit", state="allocated", after=ids[0], limit=1) == [4]
        # paging through everything, two at a time, sees each instance once
        seen: list[int] = []
        after: str | None = None
        while page := uow.instances.list(after=after, limit=2):
            seen.extend(ids.index(record.id) for record in page)
            after = page[-1].id
        assert seen == list(range(7))


# --- state entries and history -----------------------------------------------------------


def test_state_entries_in_seq_order(store: Store) -> None:
    seed(store, ID_A, ID_B)
    entries = [state_entry(ID_A, 1, "draft"), state_entry(ID_A, 2, "allocated"), state_entry(ID_A, 3, "draft")]
    with store.unit_of_work() as uow:
        for seq in (2, 3):
            uow.history.append(history_row(ID_A, seq), payload(ID_A, seq))
        for entry in entries:
            uow.state_entries.add(entry)
        uow.state_entries.add(state_entry(ID_B, 1))
    with store.unit_of_work() as uow:
        assert uow.state_entries.of(ID_A) == entries
        assert uow.state_entries.of(ID_B) == [state_entry(ID_B, 1)]
        assert uow.state_entries.of(ID_C) == []


def test_history_round_trips_in_order_with_payloads(store: Store) -> None:
    seed(store, ID_A, ID_B)
    with store.unit_of_work() as uow:
        for seq in range(2, 12):
            uow.history.append(history_row(ID_A, seq, to_state=None if seq % 3 == 0 else "allocated"), payload(ID_A, seq))
        uow.history.append(history_row(ID_B, 2), b"")
    with store.unit_of_work() as uow:
        rows = uow.history.rows(ID_A)
        payloads = uow.history.payloads(ID_A)
        assert uow.history.rows(ID_C) == [] and uow.history.payloads(ID_C) == {}
        assert uow.history.payloads(ID_B) == {1: payload_record(ID_B, 1), 2: HistoryPayload(ID_B, 2, b"")}
    assert [row.seq for row in rows] == list(range(1, 12))
    assert rows == [history_row(ID_A, 1)] + [history_row(ID_A, seq, to_state=None if seq % 3 == 0 else "allocated") for seq in range(2, 12)]
    assert rows[4].canonical == history_row(ID_A, 5).canonical and isinstance(rows[4].canonical, bytes)
    assert payloads == {seq: payload_record(ID_A, seq) for seq in range(1, 12)}
    assert list(payloads) == list(range(1, 12))


def test_duplicate_history_row_is_a_conflict_and_writes_nothing(store: Store) -> None:
    seed(store, ID_A)
    with pytest.raises(ConflictError), store.unit_of_work() as uow:
        uow.history.append(history_row(ID_A, 2), payload(ID_A, 2))
        uow.history.append(history_row(ID_A, 2), payload(ID_A, 2))
    with store.unit_of_work() as uow:
        assert [row.seq for row in uow.history.rows(ID_A)] == [1]
        assert list(uow.history.payloads(ID_A)) == [1]


# --- idempotency keys ------------------------------------------------------------------


def test_idempotency_keys_round_trip_and_are_unique_per_scope(store: Store) -> None:
    seed(store, ID_A, ID_B)
    first = idempotency_record(f"fire:{ID_A}", "key-1", ID_A)
    other_scope = idempotency_record(f"fire:{ID_B}", "key-1", ID_B)
    with store.unit_of_work() as uow:
        uow.idempotency.add(first)
        uow.idempotency.add(other_scope)
    with store.unit_of_work() as uow:
        assert uow.idempotency.get(f"fire:{ID_A}", "key-1") == first
        assert uow.idempotency.get(f"fire:{ID_B}", "key-1") == other_scope
        assert uow.idempotency.get(f"fire:{ID_A}", "key-2") is None
    with pytest.raises(ConflictError), store.unit_of_work() as uow:
        uow.idempotency.add(idempotency_record(f"fire:{ID_A}", "key-1", ID_B))
    with store.unit_of_work() as uow:
        assert uow.idempotency.get(f"fire:{ID_A}", "key-1") == first


# --- outbox and security log -----------------------------------------------------------


def test_outbox_keeps_the_order_written_and_filters_pending(store: Store) -> None:
    seed(store, ID_A, ID_B)
    # ids deliberately out of order: the order is the order written, not the ids'
    messages = [
        outbox_message("m-3", ID_B, 1, 0),
        outbox_message("m-1", ID_A, 1, 0, status="sent"),
        outbox_message("m-2", ID_A, 1, 1),
        outbox_message("m-0", ID_B, 1, 1, status="failed"),
        outbox_message("m-9", ID_A, 1, 2),
    ]
    with store.unit_of_work() as uow:
        for message in messages[:3]:
            uow.outbox.add(message)
    with store.unit_of_work() as uow:
        for message in messages[3:]:
            uow.outbox.add(message)
    with store.unit_of_work() as uow:
        assert uow.outbox.messages() == messages
        assert uow.outbox.messages(pending_only=True) == [messages[0], messages[2], messages[4]]
    assert messages[2].urgent is True and messages[2].template is None and messages[0].message is None


def test_security_log_keeps_the_order_written(store: Store) -> None:
    seed(store, ID_A)
    events = [security_event(ID_A, 1), security_event(None, 2), security_event(ID_C, 3), security_event(ID_A, 4)]
    for event in events:  # one unit of work each, as the engine writes them
        with store.unit_of_work() as uow:
            uow.security_log.add(event)
    with store.unit_of_work() as uow:
        assert uow.security_log.entries() == events
        assert uow.security_log.entries(ID_A) == [events[0], events[3]]
        assert uow.security_log.entries(ID_C) == [events[2]]  # an instance that does not exist
        assert uow.security_log.entries(ID_B) == []
        got = uow.security_log.entries()[0]
    assert isinstance(got.roles, tuple) and isinstance(got.reasons, tuple)
    assert got.reasons[0] == {"code": "wrong_role", "message": "needs auditor", "ctx": {"held": ["practitioner"], "n": 1}}


# --- transactions ----------------------------------------------------------------------


def everything(store: Store, *instance_ids: str) -> tuple[Any, ...]:
    with store.unit_of_work() as uow:
        return (
            uow.definitions.get("case_file_audit", 1),
            uow.definitions.get("case_file_audit", 2),
            uow.instances.list(),
            [uow.history.rows(instance_id) for instance_id in instance_ids],
            [uow.history.payloads(instance_id) for instance_id in instance_ids],
            [uow.state_entries.of(instance_id) for instance_id in instance_ids],
            [uow.idempotency.get(f"fire:{instance_id}", "k") for instance_id in instance_ids],
            uow.outbox.messages(),
            uow.security_log.entries(),
        )


def test_an_exception_rolls_back_every_write(store: Store) -> None:
    seed(store, ID_A)
    before = everything(store, ID_A, ID_B)
    error = Boom("the event failed")
    with pytest.raises(Boom) as raised, store.unit_of_work() as uow:
        uow.definitions.add(definition("case_file_audit", 2))
        uow.instances.update(instance(ID_A, state="completed", lock_version=2), 1)
        uow.history.append(history_row(ID_A, 2), payload(ID_A, 2))
        uow.state_entries.add(state_entry(ID_A, 2))
        uow.instances.add(instance(ID_B))
        uow.history.append(history_row(ID_B, 1), payload(ID_B, 1))
        uow.idempotency.add(idempotency_record(f"fire:{ID_A}", "k", ID_A))
        uow.outbox.add(outbox_message("m-1", ID_A, 2))
        uow.security_log.add(security_event(ID_A, 1))
        assert uow.instances.get(ID_A) == instance(ID_A, state="completed", lock_version=2)  # visible inside
        raise error
    assert raised.value is error  # propagated as it was, not wrapped
    assert everything(store, ID_A, ID_B) == before


def test_a_clean_exit_commits(store: Store) -> None:
    seed(store)
    with store.unit_of_work() as uow:
        uow.instances.add(instance(ID_A))
        uow.history.append(history_row(ID_A, 1), payload(ID_A, 1))
        uow.state_entries.add(state_entry(ID_A, 1))
        uow.outbox.add(outbox_message("m-1", ID_A, 1))
    with store.unit_of_work() as uow:
        assert uow.instances.get(ID_A) == instance(ID_A)
        assert uow.history.rows(ID_A) == [history_row(ID_A, 1)]
        assert uow.state_entries.of(ID_A) == [state_entry(ID_A, 1)]
        assert uow.outbox.messages() == [outbox_message("m-1", ID_A, 1)]


def test_times_in_other_zones_come_back_as_the_same_instant(store: Store) -> None:
    seed(store)
    summer = dt.timezone(dt.timedelta(hours=1), "BST")
    record = instance(ID_A)
    moved = type(record)(**{**vars(record), "created_at": record.created_at.astimezone(summer)})
    with store.unit_of_work() as uow:
        uow.instances.add(moved)
    with store.unit_of_work() as uow:
        got = uow.instances.get(ID_A)
    assert got == record == moved
    assert got is not None and got.created_at.utcoffset() in (dt.timedelta(0), dt.timedelta(hours=1))


def test_a_failed_unit_of_work_leaves_the_next_one_clean(store: Store) -> None:
    # units of work may be reused objects: the next one must start with nothing of the last
    seed(store, ID_A)
    with pytest.raises(ConflictError), store.unit_of_work() as uow:
        uow.instances.add(instance(ID_B))
        uow.instances.add(instance(ID_A))  # a duplicate: the whole unit of work rolls back
    with store.unit_of_work() as uow:
        assert [record.id for record in uow.instances.list()] == [ID_A]

"""The access log and the outbox's not-after time round-trip on every store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from engine.store.records import AccessEntry
from tests.storage.storage_records import outbox_message
from tests.storage.test_store_contract import ID_A, seed

AT = dt.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)


def test_access_entries_round_trip_in_order(store: Any) -> None:
    entries = [
        AccessEntry(AT, "inspector-1", "i-1", "show"),
        AccessEntry(AT, "os:root", "i-2", "history"),
        AccessEntry(AT + dt.timedelta(seconds=1), "inspector-1", "i-1", "history"),
    ]
    with store.unit_of_work() as uow:
        for entry in entries:
            uow.access_log.add(entry)
    with store.unit_of_work() as uow:
        assert uow.access_log.entries() == entries
        assert uow.access_log.entries("i-1") == [entries[0], entries[2]]


def test_an_access_entry_rolls_back_with_its_unit_of_work(store: Any) -> None:
    try:
        with store.unit_of_work() as uow:
            uow.access_log.add(AccessEntry(AT, "r", "i-1", "show"))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with store.unit_of_work() as uow:
        assert uow.access_log.entries() == []


def test_outbox_not_after_round_trips(store: Any) -> None:
    seed(store, ID_A)
    message = dataclasses.replace(outbox_message("m-1", ID_A, 1, 1), not_after=AT + dt.timedelta(days=1))
    with store.unit_of_work() as uow:
        uow.outbox.add(message)
    with store.unit_of_work() as uow:
        assert uow.outbox.messages() == [message]
        assert uow.outbox.messages(pending_only=True) == [message]

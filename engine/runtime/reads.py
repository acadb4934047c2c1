"""Reads: an instance now, its history, listings, and the logs (DESIGN §4.8, §6).

Every read runs in a read-only unit of work, so on SQLite it never waits for a writer. A
read of an instance by a named reader (`show`, `history`) is recorded in the access log
afterwards, in a short unit of work of its own, so a read never waits on its own log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.canonical import dumps_text, nfc, to_json_value
from engine.errors import InvalidRequestError
from engine.history.chain import entry_of
from engine.language.workflow import Workflow
from engine.results import HistoryEntry, InstanceView
from engine.runtime.definitions import Definitions
from engine.runtime.parts import EngineParts, instance_or_error
from engine.runtime.views import instance_view
from engine.store.protocol import UnitOfWork
from engine.store.records import AccessEntry, InstanceRecord, OutboxMessage, SecurityEvent

FILTER_PAGE = 500  # instances read per unit of work while filtering a listing


class Reads:
    """What an engine answers without changing anything (but the access log)."""

    def __init__(self, parts: EngineParts, definitions: Definitions) -> None:
        self.parts = parts
        self.definitions = definitions

    def show(self, instance_id: str, reader: str | None) -> InstanceView:
        """See `Engine.show`."""
        check_reader(reader)
        with self.parts.store.unit_of_work(read_only=True) as uow:
            record = instance_or_error(uow, instance_id)
            cw, calendar = self.definitions.compiled_for(uow, record.workflow, record.version, record.definition_hash)
            view = instance_view(cw, calendar, record, self.parts.clock.now(), uow.state_entries.of)
        self._log_access(reader, instance_id, "show")
        return view

    def workflow_of(self, instance_id: str) -> Workflow:
        """See `Engine.workflow_of`."""
        with self.parts.store.unit_of_work(read_only=True) as uow:
            record = instance_or_error(uow, instance_id)
            compiled, _ = self.definitions.compiled_for(uow, record.workflow, record.version, record.definition_hash)
        return compiled.workflow

    def instances(
        self,
        *,
        workflow: str | None,
        state: str | None,
        assignee: str | None,
        where: Mapping[str, str] | None,
        after: str | None,
        limit: int | None,
    ) -> list[InstanceRecord]:
        """See `Engine.instances`."""
        store = self.parts.store
        if assignee is None and not where:
            with store.unit_of_work(read_only=True) as uow:
                return uow.instances.list(workflow=workflow, state=state, after=after, limit=limit or None)
        found: list[InstanceRecord] = []
        cursor = after
        while True:  # page through the store, filtering, until `limit` match
            with store.unit_of_work(read_only=True) as uow:
                batch = uow.instances.list(workflow=workflow, state=state, after=cursor, limit=FILTER_PAGE)
                for record in batch:
                    if assignee is not None and assignee not in record.assignees.values():
                        continue
                    if where and not self._computed_match(uow, record, where):
                        continue
                    found.append(record)
                    if limit and len(found) >= limit:
                        return found
            if len(batch) < FILTER_PAGE:
                return found
            cursor = batch[-1].id

    def _computed_match(self, uow: UnitOfWork, record: InstanceRecord, where: Mapping[str, str]) -> bool:
        cw, calendar = self.definitions.compiled_for(uow, record.workflow, record.version, record.definition_hash)
        if not all(name in cw.computed_map for name in where):
            return False
        computed = instance_view(cw, calendar, record, self.parts.clock.now(), uow.state_entries.of).computed
        return all(as_text(computed[name]) == wanted for name, wanted in where.items())

    def history(self, instance_id: str, reader: str | None) -> list[HistoryEntry]:
        """See `Engine.history`."""
        check_reader(reader)
        with self.parts.store.unit_of_work(read_only=True) as uow:
            instance_or_error(uow, instance_id)
            payloads = uow.history.payloads(instance_id)
            entries = [entry_of(row, payloads.get(row.seq)) for row in uow.history.rows(instance_id)]
        self._log_access(reader, instance_id, "history")
        return entries

    def accesses(self, instance_id: str | None) -> list[AccessEntry]:
        with self.parts.store.unit_of_work(read_only=True) as uow:
            return uow.access_log.entries(instance_id)

    def outbox(self, *, pending_only: bool) -> list[OutboxMessage]:
        with self.parts.store.unit_of_work(read_only=True) as uow:
            return uow.outbox.messages(pending_only=pending_only)

    def refusals(self, instance_id: str | None) -> list[SecurityEvent]:
        with self.parts.store.unit_of_work(read_only=True) as uow:
            return uow.security_log.entries(instance_id)

    def _log_access(self, reader: str | None, instance_id: str, action: str) -> None:
        if reader is None:
            return
        with self.parts.store.unit_of_work() as uow:
            uow.access_log.add(AccessEntry(self.parts.recorded(self.parts.clock.now()), nfc(reader), instance_id, action))


def check_reader(reader: object) -> None:
    """Refuse a reader that can't be recorded in the access log: not text, blank, or with
    control characters (`InvalidRequestError`), before anything is read."""
    if reader is None or (type(reader) is str and reader.isprintable() and reader.strip() == reader and reader):
        return
    shown = repr(reader[:40]) if isinstance(reader, str) else type(reader).__name__
    raise InvalidRequestError(f"a reader is a person's id (printable text without surrounding spaces), got {shown}", argument="reader")


def as_text(value: Any) -> str:
    """A computed value as `list --where` writes it: true/false, null, or its JSON-form text."""
    form = to_json_value(value)
    if isinstance(form, bool) or form is None:
        return json.dumps(form)
    return form if isinstance(form, str) else dumps_text(form)

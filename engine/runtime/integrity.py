"""Integrity: `verify` of every chain, and checkpoints to keep outside the database (DESIGN §4.5).

`verify` recomputes each instance's chain in a read-only unit of work of its own, so a
large database is checked without one long transaction. A checkpoint is a digest of every
chain head; `verify_against` finds deletions and rewrites since one was made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.history.chain import verify_instance
from engine.history.checkpoints import CheckpointFinding, check_checkpoint, compare, make_checkpoint
from engine.results import VerifyReport
from engine.runtime.parts import EngineParts, instance_or_error


class Integrity:
    """The checks an administrator runs on an engine's store."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts

    def verify(self, instance_id: str | None) -> VerifyReport:
        """See `Engine.verify`."""
        store, hasher = self.parts.store, self.parts.hasher
        with store.unit_of_work(read_only=True) as uow:
            ids = [instance_id] if instance_id is not None else [record.id for record in uow.instances.list()]
        checks = []
        for each in ids:
            with store.unit_of_work(read_only=True) as uow:
                record = instance_or_error(uow, each)
                checks.append(verify_instance(hasher, record, uow.history.rows(each), uow.history.payloads(each)))
        return VerifyReport(tuple(checks))

    def checkpoint(self) -> dict[str, Any]:
        """See `Engine.checkpoint`."""
        with self.parts.store.unit_of_work(read_only=True) as uow:
            records = uow.instances.list()
        return make_checkpoint(self.parts.hasher, records, self.parts.recorded(self.parts.clock.now()))

    def verify_against(self, checkpoint: Mapping[str, Any]) -> list[CheckpointFinding]:
        """See `Engine.verify_against`."""
        findings = []
        for entry in check_checkpoint(self.parts.hasher, checkpoint):
            with self.parts.store.unit_of_work(read_only=True) as uow:
                record = uow.instances.get(str(entry["id"]))
                rows = uow.history.rows(record.id) if record is not None else []
            found = compare(entry, record, rows)
            if found is not None:
                findings.append(found)
        return findings

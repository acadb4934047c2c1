"""Deployed definitions and their compiled machines, one per (workflow, version, hash).

`deploy` stores a workflow version once (DESIGN §4.9) and refuses the same version with
another definition ("bump version"). `compiled_for` finds the compiled form of a stored
definition: a running instance only ever uses the definition it started on, loaded from the
store and checked against its hash if this engine has not seen it yet. The cache is this
engine's own, so two engines with different function registries never share compiled guards.
"""

from __future__ import annotations

from engine.errors import DefinitionError, VersionConflictError
from engine.language.loader import load_workflow_text
from engine.language.workflow import Workflow
from engine.runtime.machine import CompiledWorkflow, compile_workflow
from engine.runtime.parts import EngineParts
from engine.store.protocol import UnitOfWork
from engine.store.records import DefinitionRecord
from engine.time.calendars import Calendar

Compiled = tuple[CompiledWorkflow, Calendar]


class Definitions:
    """The engine's deployed definitions, compiled once each."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts
        self._compiled: dict[tuple[str, int, str], Compiled] = {}
        # by definition hash alone, for the per-event lookup: the hash is the SHA-256 of a
        # definition that names its workflow and version
        self.by_hash: dict[str, Compiled] = {}

    def deploy(self, workflow: Workflow) -> DefinitionRecord:
        """Store a workflow version (if new) and compile it.

        Raises:
            VersionConflictError: this version is stored with a different definition.
        """
        compiled = compile_workflow(workflow)
        parts = self.parts
        with parts.store.unit_of_work() as uow:
            stored = uow.definitions.get(workflow.id, workflow.version)
            if stored is not None and stored.hash != compiled.hash:
                raise VersionConflictError(
                    f"{workflow.id} version {workflow.version} is already deployed with another definition; bump `version`",
                    workflow=workflow.id,
                    version=workflow.version,
                    deployed_hash=stored.hash,
                    offered_hash=compiled.hash,
                )
            if stored is None:
                stored = DefinitionRecord(
                    workflow.id,
                    workflow.version,
                    compiled.hash,
                    workflow.source,
                    workflow.path,
                    1,
                    parts.functions.names(),
                    parts.clock.now(),
                )
                uow.definitions.add(stored)
        self._remember(compiled)
        return stored

    def compiled_for(self, uow: UnitOfWork, workflow: str, version: int, hash_: str) -> Compiled:
        """The compiled definition (and its calendar) an instance runs on.

        Raises:
            DefinitionError: the definition is not stored, or its stored source no longer
                gives its hash.
        """
        found = self._compiled.get((workflow, version, hash_))
        if found is not None:
            return found
        stored = uow.definitions.get(workflow, version)
        if stored is None or stored.hash != hash_:
            raise DefinitionError(
                f"the definition of {workflow} version {version} ({hash_[:12]}) is not in the store", workflow=workflow, version=version
            )
        compiled = compile_workflow(load_workflow_text(stored.path, stored.source, self.parts.functions, expected_id=workflow))
        if compiled.hash != hash_:
            raise DefinitionError(
                f"the stored source of {workflow} version {version} no longer gives hash {hash_[:12]}", workflow=workflow, version=version
            )
        return self._remember(compiled)

    def _remember(self, compiled: CompiledWorkflow) -> Compiled:
        setting = compiled.workflow.spec.calendar
        calendar = Calendar.for_region(setting.region, self.parts.closures if setting.closures else frozenset())
        found = self._compiled[compiled.key] = self.by_hash[compiled.hash] = (compiled, calendar)
        return found

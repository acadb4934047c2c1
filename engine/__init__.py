"""qaflow's engine: the workflow language and the runtime. No SQL, HTTP or terminal code.

This module is the engine's public API: everything in `__all__`, and nothing else, is what
`qaflow/` (and an embedding application) imports. The sub-packages show the design, from
the bottom up:

    errors, canonical, ids, results    leaves: the error family, canonical JSON, ids, and
                                       what the API takes and gives back
    time/         durations, UK working-day calendars, clocks
    expressions/  the typed expression language, compiled to closures
    language/     YAML text -> strict parse -> pydantic model -> lint -> Workflow; diagrams
    store/        the store Protocol, its records, the in-memory store
    history/      hash chains, verify, checkpoints
    runtime/      compiled machines, judging an event, effects, commit, views, the Engine

The layers, and that nothing imports upwards or in a circle, are checked by import-linter
(`make lint`; the contracts are in `pyproject.toml`).

Names are imported when first used (PEP 562), so a command that only validates a workflow
never loads the runtime, and `qaflow --help` loads none of it.

    load_workflow(path) -> Workflow                 raises WorkflowValidationError
    Engine(store, clock=, functions=, history_key=)  deploy, start, fire, available, explain,
                                                     show, history, verify, checkpoint
    MemoryStore()                                   the in-memory store (tests, benchmarks)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "QaflowError": "engine.errors",
    "WorkflowValidationError": "engine.errors",
    "DefinitionError": "engine.errors",
    "VersionConflictError": "engine.errors",
    "ExpressionError": "engine.errors",
    "DurationError": "engine.errors",
    "NotFoundError": "engine.errors",
    "ConflictError": "engine.errors",
    "TransitionRefusedError": "engine.errors",
    "InvalidActorError": "engine.errors",
    "FunctionError": "engine.errors",
    "StorageError": "engine.errors",
    "CheckpointError": "engine.errors",
    "Issue": "engine.errors",
    "Reason": "engine.errors",
    "CandidateReport": "engine.errors",
    "ExpressionRuntimeError": "engine.expressions.values",
    # JSON form of values (DESIGN §4.5)
    "format_time": "engine.canonical",
    "parse_time": "engine.canonical",
    "to_json_value": "engine.canonical",
    # what the API takes and gives back
    "Actor": "engine.results",
    "SystemActor": "engine.results",
    "FireResult": "engine.results",
    "InstanceView": "engine.results",
    "Explanation": "engine.results",
    "AvailableTrigger": "engine.results",
    "HistoryEntry": "engine.results",
    "VerifyReport": "engine.results",
    "InstanceCheck": "engine.results",
    "Notification": "engine.results",
    "PendingEffect": "engine.results",
    # time
    "Clock": "engine.time.clock",
    "SystemClock": "engine.time.clock",
    "FixedClock": "engine.time.clock",
    "Duration": "engine.time.durations",
    # expressions: functions embedding code registers
    "FunctionRegistry": "engine.expressions.scope",
    "Signature": "engine.expressions.scope",
    "default_functions": "engine.expressions.functions",
    # the types a registered function's Signature names
    "STRING": "engine.expressions.types",
    "TEXT": "engine.expressions.types",
    "INTEGER": "engine.expressions.types",
    "NUMBER": "engine.expressions.types",
    "BOOLEAN": "engine.expressions.types",
    "DATE": "engine.expressions.types",
    "DATETIME": "engine.expressions.types",
    "DURATION": "engine.expressions.types",
    "ListType": "engine.expressions.types",
    # the language
    "load_workflow": "engine.language.loader",
    "load_workflow_text": "engine.language.loader",
    "is_workflow_id": "engine.language.loader",
    "Workflow": "engine.language.workflow",
    "WorkflowSpec": "engine.language.definition",
    "workflow_json_schema": "engine.language.definition",
    "render_diagram": "engine.language.diagram",
    "read_field_text": "engine.language.fieldtext",
    "read_yaml": "engine.language.yamlsource",
    # stores
    "Store": "engine.store.protocol",
    "UnitOfWork": "engine.store.protocol",
    "MemoryStore": "engine.store.memory",
    "AccessEntry": "engine.store.records",
    "DefinitionRecord": "engine.store.records",
    "InstanceRecord": "engine.store.records",
    "OutboxMessage": "engine.store.records",
    "SecurityEvent": "engine.store.records",
    # history
    "CheckpointFinding": "engine.history.checkpoints",
    # the runtime
    "Engine": "engine.runtime.engine",
}

__all__ = [
    "BOOLEAN",
    "DATE",
    "DATETIME",
    "DURATION",
    "INTEGER",
    "NUMBER",
    "STRING",
    "TEXT",
    "AccessEntry",
    "Actor",
    "AvailableTrigger",
    "CandidateReport",
    "CheckpointError",
    "CheckpointFinding",
    "Clock",
    "ConflictError",
    "DefinitionError",
    "DefinitionRecord",
    "Duration",
    "DurationError",
    "Engine",
    "Explanation",
    "ExpressionError",
    "ExpressionRuntimeError",
    "FireResult",
    "FixedClock",
    "FunctionError",
    "FunctionRegistry",
    "HistoryEntry",
    "InstanceCheck",
    "InstanceRecord",
    "InstanceView",
    "InvalidActorError",
    "Issue",
    "ListType",
    "MemoryStore",
    "NotFoundError",
    "Notification",
    "OutboxMessage",
    "PendingEffect",
    "QaflowError",
    "Reason",
    "SecurityEvent",
    "Signature",
    "StorageError",
    "Store",
    "SystemActor",
    "SystemClock",
    "TransitionRefusedError",
    "UnitOfWork",
    "VerifyReport",
    "VersionConflictError",
    "Workflow",
    "WorkflowSpec",
    "WorkflowValidationError",
    "default_functions",
    "format_time",
    "is_workflow_id",
    "load_workflow",
    "load_workflow_text",
    "parse_time",
    "read_field_text",
    "read_yaml",
    "render_diagram",
    "to_json_value",
    "workflow_json_schema",
]

if TYPE_CHECKING:
    from engine.canonical import format_time, parse_time, to_json_value
    from engine.errors import (
        CandidateReport,
        CheckpointError,
        ConflictError,
        DefinitionError,
        DurationError,
        ExpressionError,
        FunctionError,
        InvalidActorError,
        Issue,
        NotFoundError,
        QaflowError,
        Reason,
        StorageError,
        TransitionRefusedError,
        VersionConflictError,
        WorkflowValidationError,
    )
    from engine.expressions.functions import default_functions
    from engine.expressions.scope import FunctionRegistry, Signature
    from engine.expressions.types import BOOLEAN, DATE, DATETIME, DURATION, INTEGER, NUMBER, STRING, TEXT, ListType
    from engine.expressions.values import ExpressionRuntimeError
    from engine.history.checkpoints import CheckpointFinding
    from engine.language.definition import WorkflowSpec, workflow_json_schema
    from engine.language.diagram import render_diagram
    from engine.language.fieldtext import read_field_text
    from engine.language.loader import is_workflow_id, load_workflow, load_workflow_text
    from engine.language.workflow import Workflow
    from engine.language.yamlsource import read_yaml
    from engine.results import (
        Actor,
        AvailableTrigger,
        Explanation,
        FireResult,
        HistoryEntry,
        InstanceCheck,
        InstanceView,
        Notification,
        PendingEffect,
        SystemActor,
        VerifyReport,
    )
    from engine.runtime.engine import Engine
    from engine.store.memory import MemoryStore
    from engine.store.protocol import Store, UnitOfWork
    from engine.store.records import AccessEntry, DefinitionRecord, InstanceRecord, OutboxMessage, SecurityEvent
    from engine.time.clock import Clock, FixedClock, SystemClock
    from engine.time.durations import Duration
else:

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'engine' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # once imported, a plain module attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})

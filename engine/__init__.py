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

`Engine` is imported when first used (PEP 562, one static import), so checking workflow
files never loads the runtime, nor `transitions` with it.

    load_workflow(path) -> Workflow                 raises WorkflowValidationError
    Engine(store, clock=, functions=, history_key=)  deploy, start, fire, available, explain,
                                                     show, history, verify, checkpoint
    MemoryStore()                                   the in-memory store (tests, benchmarks)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    InvalidRequestError,
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
from engine.store.memory import MemoryStore
from engine.store.protocol import Store, UnitOfWork
from engine.store.records import AccessEntry, DefinitionRecord, InstanceRecord, OutboxMessage, SecurityEvent
from engine.suggest import did_you_mean
from engine.time.clock import Clock, FixedClock, SystemClock
from engine.time.durations import Duration

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
    "InvalidRequestError",
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
    "did_you_mean",
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
    from engine.runtime.engine import Engine


def __getattr__(name: str) -> Any:
    # The runtime, and `transitions` with it, loads when an Engine is first asked for.
    if name == "Engine":
        from engine.runtime.engine import Engine

        globals()["Engine"] = Engine  # once imported, a plain module attribute
        return Engine
    raise AttributeError(f"module 'engine' has no attribute {name!r}")

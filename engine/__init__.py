"""qaflow's engine: the workflow language and (later) the runtime. No SQL, HTTP or terminal code.

Public API:
    load_workflow(path)          -> Workflow   (raises WorkflowValidationError)
    load_workflow_text(path, text)
    Workflow, WorkflowSpec
    QaflowError and its family (engine.errors)

Runtime (engine.runtime, engine.memory, engine.store):
    Engine(store, clock=, functions=, history_key=)  deploy, start, fire, available, explain,
                                                      show, history, verify, system_actor
    MemoryStore                  the in-memory store (tests, simulate)
    Store, UnitOfWork            the store interface storage/ implements
    Actor, FireResult, InstanceView, Explanation, VerifyReport, Reason
    SystemClock, FixedClock
"""

from engine.clock import Clock, FixedClock, SystemClock
from engine.errors import DefinitionError, Issue, QaflowError, TransitionRefusedError, WorkflowValidationError
from engine.loader import load_workflow, load_workflow_text
from engine.memory import MemoryStore
from engine.results import Actor, Explanation, FireResult, InstanceView, Reason, VerifyReport
from engine.runtime import Engine
from engine.store import Store, UnitOfWork
from engine.workflow import Workflow

__all__ = [
    "Actor",
    "Clock",
    "DefinitionError",
    "Engine",
    "Explanation",
    "FireResult",
    "FixedClock",
    "InstanceView",
    "Issue",
    "MemoryStore",
    "QaflowError",
    "Reason",
    "Store",
    "SystemClock",
    "TransitionRefusedError",
    "UnitOfWork",
    "VerifyReport",
    "Workflow",
    "WorkflowValidationError",
    "load_workflow",
    "load_workflow_text",
]

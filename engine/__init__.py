"""qaflow's engine: the workflow language and (later) the runtime. No SQL, HTTP or terminal code.

Public API:
    load_workflow(path)          -> Workflow   (raises WorkflowValidationError)
    load_workflow_text(path, text)
    Workflow, WorkflowSpec
    QaflowError and its family (engine.errors)
"""

from engine.errors import DefinitionError, Issue, QaflowError, WorkflowValidationError
from engine.loader import load_workflow, load_workflow_text
from engine.workflow import Workflow

__all__ = [
    "DefinitionError",
    "Issue",
    "QaflowError",
    "Workflow",
    "WorkflowValidationError",
    "load_workflow",
    "load_workflow_text",
]

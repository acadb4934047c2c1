"""Loading a workflow file, in fixed stages: text -> strict YAML -> model -> checks -> Workflow.

Each stage adds what it finds to one list of issues; a stage runs only when the one before
it produced something to work on, so a QA lead sees every problem the file allows us to
find in one pass, each at its line and column.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import Issue, WorkflowValidationError
from engine.expressions.functions import FunctionRegistry, default_functions
from engine.language.lint import NAME, WorkflowChecker
from engine.language.structure import validate_structure
from engine.language.workflow import Workflow
from engine.language.yamlsource import read_yaml

MAX_FILE_BYTES = 1_000_000  # a workflow is a few KB; a bigger file is a mistake, not a workflow


def is_workflow_id(text: str) -> bool:
    """Whether `text` can name a workflow (lower_snake_case): an id, never a path."""
    return NAME.fullmatch(text) is not None


def load_workflow(path: str | Path, functions: FunctionRegistry | None = None) -> Workflow:
    """Load and check one workflow file.

    Returns:
        The compiled workflow; warnings are in its `warnings`.
    Raises:
        WorkflowValidationError: the file has at least one error (`issues` lists them all,
            warnings included).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        issue = Issue(str(path), 1, 1, "error", "unreadable_file", f"can't read the file: {exc.strerror or exc}")
        raise WorkflowValidationError(str(path), [issue]) from exc
    return load_workflow_bytes(str(path), raw, functions, expected_id=path.stem)


def load_workflow_text(path: str, text: str, functions: FunctionRegistry | None = None, expected_id: str | None = None) -> Workflow:
    """Load and check a workflow given as text; `path` is only for messages."""
    return load_workflow_bytes(path, text.encode("utf-8"), functions, expected_id)


def load_workflow_bytes(path: str, raw: bytes, functions: FunctionRegistry | None = None, expected_id: str | None = None) -> Workflow:
    if len(raw) > MAX_FILE_BYTES:
        raise WorkflowValidationError(
            path,
            [Issue(path, 1, 1, "error", "file_too_large", f"the file is {len(raw)} bytes; a workflow may be at most {MAX_FILE_BYTES}")],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise WorkflowValidationError(path, [Issue(path, line, 1, "error", "not_utf8", "the file is not UTF-8 text")]) from exc
    doc = read_yaml(path, text)
    workflow = None
    if not doc.issues or doc.value is not None:
        spec = validate_structure(doc)
        if spec is not None:
            workflow = WorkflowChecker(doc, spec, functions or default_functions(), expected_id).check()
    if workflow is None or any(issue.is_error for issue in doc.issues):
        raise WorkflowValidationError(path, doc.issues)
    return workflow

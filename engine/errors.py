"""Every error qaflow raises on purpose, and the issue records that workflow errors carry.

    QaflowError
     ├── WorkflowValidationError      a workflow file has problems (a list of Issue)
     ├── DefinitionError              a loaded definition is used in a way it does not allow
     ├── ExpressionError              one expression is wrong (raised inside the checker,
     │                                collected into Issues by the loader)
     ├── DurationError                one duration string is wrong (likewise)
     ├── ExpressionRuntimeError       a compiled expression failed while running (division by
     │                                zero, a date out of range); in engine.expressions.values
     ├── NotFoundError                a workflow, instance or trigger named does not exist
     └── ConflictError                a lock not obtained, a stale lock_version, or an
                                      idempotency key reused with another request

Anything else that escapes is a bug and keeps its traceback.

An `Issue` follows pydantic-core's `ErrorDetails`: a location (`loc`, the path of keys and
indexes inside the document), a stable snake_case `code`, a message, and, because QA leads
read files and not paths, the 1-based line and column the loader resolved for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
Loc = tuple[str | int, ...]


class QaflowError(Exception):
    """The root of every error qaflow raises on purpose."""


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in one workflow file."""

    path: str
    line: int
    col: int
    severity: Severity
    code: str
    message: str
    loc: Loc = field(default=(), compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity} [{self.code}] {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class WorkflowValidationError(QaflowError):
    """A workflow file has at least one error; `issues` holds every problem found."""

    def __init__(self, path: str, issues: list[Issue]) -> None:
        self.path = path
        self.issues = sorted(issues)
        errors = sum(1 for issue in self.issues if issue.is_error)
        super().__init__(f"{errors} error(s) in {path}")

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


class DefinitionError(QaflowError):
    """A definition was asked for something it does not have (an unknown state, say)."""


class ExpressionError(QaflowError):
    """One expression is wrong.

    `offset` is the 0-based character offset inside the expression text, so the loader can
    turn it into a line and column in the file.
    """

    def __init__(self, code: str, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset


class DurationError(QaflowError):
    """One duration string is wrong; `offset` is inside the string, as for expressions."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.code = "bad_duration"
        self.message = message
        self.offset = offset


class NotFoundError(QaflowError):
    """Something named (a workflow, an instance, a trigger) does not exist. CLI exit 3."""


class ConflictError(QaflowError):
    """Someone else got there first, or a key was reused with another request. CLI exit 4."""

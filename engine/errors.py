"""Every error qaflow raises on purpose, and the issue records that workflow errors carry.

    QaflowError                       code
     ├── WorkflowValidationError      invalid_workflow   a workflow file has problems (a list of Issue)
     ├── DefinitionError              definition_error   a loaded definition is used in a way it does
     │    │                                              not allow, or is missing from the store
     │    └── VersionConflictError    version_conflict   a workflow version is already deployed with
     │                                                   another definition ("bump version")
     ├── ExpressionError              bad_expression     one expression is wrong (raised inside the
     │                                                   checker, collected into Issues by the loader;
     │                                                   an instance's `code` is its lint code)
     ├── DurationError                bad_duration       one duration string is wrong (likewise)
     ├── ExpressionRuntimeError       expression_failed  a compiled expression failed while running
     │                                                   (division by zero, a date out of range); in
     │                                                   engine.expressions.values
     ├── FunctionError                function_failed    a function the embedding application registered
     │                                                   raised, or returned a value its signature does
     │                                                   not allow
     ├── CanonicalError               no_canonical_form  a value has no canonical form (a float, a
     │                                                   naive time); also a ValueError; in
     │                                                   engine.canonical
     ├── NotFoundError                not_found          a workflow or instance named does not exist
     ├── ConflictError                conflict           a lock not obtained, a stale lock_version, or an
     │                                                   idempotency key reused with another request
     ├── TransitionRefusedError       refused            an event (or a start) was refused; carries the
     │                                                   structured reasons (`Reason`, defined here)
     ├── InvalidActorError            invalid_actor      an actor that can't name a person (not an Actor,
     │                                                   a blank id, roles that are not a set of names)
     ├── InvalidRequestError          invalid_request    an engine call with an argument of the wrong type
     │                                                   or shape (trigger, id, lock_version, key, reader)
     ├── CheckpointError              bad_checkpoint     a checkpoint file is not one, or was altered
     ├── StorageError                 storage_error      the database failed or is not at the latest
     │                                                   schema (storage translates driver errors)
     ├── UsageError                   usage              a malformed command-line argument; in
     │                                                   qaflow.errors
     └── InitRefusedError             init_refused       `qaflow init` would overwrite a file; in
                                                         qaflow.errors

Anything else that escapes is a bug and keeps its traceback.

Every class has a stable snake_case `code` (a class attribute; an `ExpressionError` carries
its lint code instead) and keeps the facts it is about as attributes, so a caller branches on
them and never parses a message. Every error survives `pickle` (a worker pool sends it back
to its parent) with its message and its facts: `QaflowError.__reduce__` rebuilds it without
calling `__init__`, so a subclass's constructor may take whatever it likes. As for any
exception, `__cause__` and the traceback stay behind.

An `Issue` follows pydantic-core's `ErrorDetails`: a location (`loc`, the path of keys and
indexes inside the document), a stable snake_case `code`, a message, and, because QA leads
read files and not paths, the 1-based line and column the loader resolved for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
Loc = tuple[str | int, ...]


class QaflowError(Exception):
    """The root of every error qaflow raises on purpose; `code` names its class for callers."""

    code: str = "qaflow_error"

    def __reduce__(self) -> tuple[Any, ...]:
        # the class, the message arguments and every fact; `_restore` skips `__init__`, whose
        # parameters differ from `args` (TransitionRefusedError builds its message from its facts)
        return (_restore, (type(self), self.args), dict(self.__dict__))


def _restore(cls: type[QaflowError], args: tuple[Any, ...]) -> QaflowError:
    """An error of class `cls` with `args`, its facts still to be set by pickle (`__setstate__`)."""
    return cls.__new__(cls, *args)


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

    code = "invalid_workflow"

    def __init__(self, path: str, issues: list[Issue]) -> None:
        self.path = path
        self.issues = sorted(issues)
        errors = sum(1 for issue in self.issues if issue.is_error)
        super().__init__(f"{errors} error(s) in {path}")

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


class DefinitionError(QaflowError):
    """A definition was asked for something it does not have, or is not in the store as it was
    deployed. `workflow` and `version` name it when known."""

    code = "definition_error"

    def __init__(self, message: str, *, workflow: str | None = None, version: int | None = None) -> None:
        super().__init__(message)
        self.workflow = workflow
        self.version = version


class ExpressionError(QaflowError):
    """One expression is wrong.

    `offset` is the 0-based character offset inside the expression text, so the loader can
    turn it into a line and column in the file. An instance's `code` is the lint code of the
    issue it becomes (`expression_syntax`, `unknown_name` ...), not the class's.
    """

    code = "bad_expression"

    def __init__(self, code: str, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset


class DurationError(QaflowError):
    """One duration string is wrong; `offset` is inside the string, as for expressions."""

    code = "bad_duration"

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class NotFoundError(QaflowError):
    """Something named does not exist: `kind` is what ("workflow", "instance", "catalogue") and
    `name` the name asked for. CLI exit 3."""

    code = "not_found"

    def __init__(self, message: str, *, kind: str | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name


class ConflictError(QaflowError):
    """Someone else got there first, or a key was reused with another request. CLI exit 4.

    `retryable` says whether the same request, sent again, may succeed: True when a lock was not
    obtained or a row moved on under a concurrent writer; False for a stale `lock_version` the
    caller passed (re-read the instance first) or an idempotency key used with another request.
    `instance_id`, `expected_lock_version` (the caller's) and `actual_lock_version` (the
    stored one) and `idempotency_key` are filled in where they apply.
    """

    code = "conflict"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        instance_id: str | None = None,
        expected_lock_version: int | None = None,
        actual_lock_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.instance_id = instance_id
        self.expected_lock_version = expected_lock_version
        self.actual_lock_version = actual_lock_version
        self.idempotency_key = idempotency_key


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an event is refused: a stable `code` and a message naming the role, field or check.

    Codes: system_claimed, unknown_trigger, invalid_state, no_previous, start_not_allowed,
    role_not_held, separation, not_writable, invalid_value, required_unset, bad_request,
    missing_assignment, not_assignable, bad_assignment, missing_field, check_failed,
    expression_failed, effect_failed, too_large.
    """

    code: str
    message: str
    role: str | None = None
    field: str | None = None
    roles: tuple[str, ...] = ()
    check: int | None = None


@dataclass(frozen=True, slots=True)
class CandidateReport:
    """One candidate transition for an event: its 1-based number in the file and its reasons.

    `considered` is False for candidates after the one taken (the first that passes wins).
    """

    transition: int
    to: str | None
    allowed: bool
    reasons: tuple[Reason, ...] = ()
    considered: bool = True


class TransitionRefusedError(QaflowError):
    """An event was refused (DESIGN §4.2): nothing changed, and the attempt is in the security log.

    `reasons` are event-level (an unknown trigger, the wrong state, `system` claimed, bad
    data); `candidates` hold each candidate transition's own reasons. CLI exit 1.
    """

    code = "refused"

    def __init__(
        self,
        trigger: str,
        instance_id: str | None,
        reasons: tuple[Reason, ...] = (),
        candidates: tuple[CandidateReport, ...] = (),
        workflow: str | None = None,
    ) -> None:
        self.trigger = trigger
        self.instance_id = instance_id
        self.workflow = workflow
        self.reasons = reasons
        self.candidates = candidates
        super().__init__(self._message())

    @classmethod
    def of_event(cls, trigger: str, instance_id: str | None, workflow: str, *reasons: Reason) -> TransitionRefusedError:
        """A refusal of the event itself (not of one candidate): `system` claimed, an unknown
        trigger, bad data, a failing effect."""
        return cls(trigger, instance_id, reasons, (), workflow)

    @property
    def all_reasons(self) -> tuple[Reason, ...]:
        """Every reason, event-level first, then each candidate's in file order."""
        return self.reasons + tuple(reason for candidate in self.candidates for reason in candidate.reasons)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.all_reasons)

    def _message(self) -> str:
        where = f" on {self.instance_id}" if self.instance_id else f" of {self.workflow}" if self.workflow else ""
        parts = [reason.message for reason in self.reasons]
        many = len(self.candidates) > 1
        for candidate in self.candidates:
            prefix = f"transition {candidate.transition}: " if many else ""
            parts.extend(prefix + reason.message for reason in candidate.reasons)
        return f"'{self.trigger}'{where} refused: " + "; ".join(parts)


class VersionConflictError(DefinitionError):
    """A (workflow, version) is already deployed with a different definition hash:
    `deployed_hash` is the stored one, `offered_hash` the one that was refused."""

    code = "version_conflict"

    def __init__(
        self,
        message: str,
        *,
        workflow: str | None = None,
        version: int | None = None,
        deployed_hash: str | None = None,
        offered_hash: str | None = None,
    ) -> None:
        super().__init__(message, workflow=workflow, version=version)
        self.deployed_hash = deployed_hash
        self.offered_hash = offered_hash


class StorageError(QaflowError):
    """The database failed or refused something for a reason other than a conflict: a schema
    missing or behind (run `qaflow db upgrade`), a bad URL, a broken constraint.

    `unusable` is True when the database can't be used at all (unreachable, corrupt, read-only,
    a schema from another version, a URL or setting qaflow can't use): no request will succeed
    until someone fixes it. False when this one request was refused (a broken constraint).
    """

    code = "storage_error"

    def __init__(self, message: str, *, unusable: bool = False) -> None:
        super().__init__(message)
        self.unusable = unusable


class FunctionError(QaflowError):
    """A function the embedding application registered raised (the case-management system is
    down), or returned a value of another type than its signature says.

    Not a refusal: the event was not judged, nothing changed and nothing is written to the
    security log. `function` names the function, `expression` is the text it was called in
    (filled in by `CompiledExpression.evaluate`), and what it raised is the `__cause__`.
    CLI exit 1.
    """

    code = "function_failed"

    def __init__(self, function: str, message: str, expression: str | None = None) -> None:
        super().__init__(function, message, expression)  # every argument in args, so pickle can rebuild it
        self.function = function
        self.message = message
        self.expression = expression

    def __str__(self) -> str:
        where = "" if self.expression is None else f" (in {self.expression!r})"
        return f"the registered function '{self.function}' {self.message}{where}"


class InvalidActorError(QaflowError):
    """An actor that can't name a person: not an `Actor`, an id that is empty, blank or has
    control characters, or roles that are not a set of role names (a plain string is refused,
    never read as characters). `actor_id` is the id as given, when it is text. CLI exit 2."""

    code = "invalid_actor"

    def __init__(self, message: str, *, actor_id: str | None = None) -> None:
        super().__init__(message)
        self.actor_id = actor_id


class InvalidRequestError(QaflowError):
    """A call to the engine with an argument of the wrong type or shape: a trigger that is not
    non-empty text, an id that is not text, a `lock_version` or `version` that is not an `int`,
    an idempotency key that is empty or too long, a reader that is not a printable id. The
    caller's mistake, found before anything is judged (event data, assignments and comments
    are judged instead: they are refusal reasons). `argument` names the parameter. CLI exit 2."""

    code = "invalid_request"

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class CheckpointError(QaflowError):
    """A checkpoint file that is not one, was made with another key, or was altered.

    `problem` says which: "not_a_checkpoint", "other_algorithm" or "altered".
    """

    code = "bad_checkpoint"

    def __init__(self, message: str, *, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem

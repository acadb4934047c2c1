"""Errors of the command line itself (the engine's are in engine/errors.py, whose tree lists these too)."""

from engine import QaflowError


class UsageError(QaflowError):
    """A malformed argument or option value (exit 2)."""

    code = "usage"


class InitRefusedError(QaflowError):
    """`qaflow init` would overwrite a file (exit 1); `taken` lists every file in the way."""

    code = "init_refused"

    def __init__(self, message: str, *, taken: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.taken = taken

"""Errors of the command line itself (the engine's are in engine/errors.py)."""

from engine import QaflowError


class UsageError(QaflowError):
    """A malformed argument or option value (exit 2)."""


class InitRefusedError(QaflowError):
    """`qaflow init` would overwrite a file (exit 1)."""

"""Errors of the command line itself (the engine's are in engine/errors.py)."""

from engine import QaflowError


class UsageError(QaflowError):
    """A malformed argument or option value (exit 2)."""

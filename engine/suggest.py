"""The one "did you mean" of every message that names something unknown.

A leaf: it imports nothing of ours, so the language, the expressions, durations and the
runtime all suggest the same way — the one closest name by `difflib`'s ratio (cutoff 0.6),
or nothing when none is close.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `word`, or None when none is close enough."""
    found = difflib.get_close_matches(word, sorted(set(candidates)), n=1)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """The hint "; did you mean 'x'?" for the closest candidate, or the empty string."""
    found = closest(word, candidates)
    return f"; did you mean '{found}'?" if found is not None else ""

"""R4: every escape or resource-exhaustion attempt in the corpus is refused when it loads.

Each attempt must raise `ExpressionError` (nothing else), with an offset inside the text,
in well under a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import ExpressionError
from engine.expressions import compile_expression, default_functions
from engine.expressions.scope import Scope
from engine.expressions.types import (
    BOOLEAN,
    DATE,
    DURATION,
    INTEGER,
    STRING,
    TEXT,
    ListType,
    MapType,
    ObjectType,
)

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "escapes" / "escapes.yaml"
ACTION = ObjectType((("owner", STRING), ("due", DATE)))
SCOPE = Scope(
    fields={
        "child_ref": STRING,
        "actions": ListType(ACTION),
        "strengths": ListType(TEXT),
        "notes_by_team": MapType(TEXT),
        "approved": BOOLEAN,
        "a": BOOLEAN,
        "x": INTEGER,
    },
    params={"window": DURATION},
    roles=frozenset({"auditor"}),
    states=frozenset({"allocated", "closed"}),
    deadlines=frozenset({"audit_due"}),
    functions=default_functions(),
)


def build(entry: dict[str, Any]) -> str:
    if "expr" in entry:
        return str(entry["expr"])
    spec = entry["build"]
    return str(spec["prefix"]) + str(spec["repeat"]) * int(spec["times"]) + str(spec["suffix"])


ENTRIES: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
TEXTS = [build(entry) for entry in ENTRIES]


def test_the_corpus_has_at_least_sixty_distinct_attempts() -> None:
    assert len(set(TEXTS)) == len(TEXTS) >= 60
    assert all(entry.get("why") for entry in ENTRIES)


@pytest.mark.parametrize("text", TEXTS, ids=[entry["why"] for entry in ENTRIES])
def test_every_attempt_is_refused_with_a_position(text: str) -> None:
    for expected in (None, BOOLEAN):
        with pytest.raises(ExpressionError) as caught:
            compile_expression(text, SCOPE, expected)
        assert 0 <= caught.value.offset < max(len(text), 1)
        assert caught.value.code

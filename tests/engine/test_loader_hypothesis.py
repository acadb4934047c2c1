"""Property tests: whatever a file holds, loading it returns a Workflow or raises our own error.

Two generators: arbitrary text, and documents built from the language's own keys and
names (so they get past the YAML and shape stages and exercise the lint), dumped to YAML.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import WorkflowValidationError
from engine.language.loader import load_workflow_text
from engine.language.workflow import Workflow

KEYS = [
    "format",
    "workflow",
    "version",
    "title",
    "calendar",
    "params",
    "roles",
    "separate",
    "scales",
    "types",
    "fields",
    "start",
    "initial",
    "states",
    "transitions",
    "deadlines",
    "computed",
    "trigger",
    "from",
    "to",
    "by",
    "needs",
    "writes",
    "assigns",
    "checks",
    "when",
    "otherwise",
    "do",
    "set",
    "clear",
    "notify",
    "timers",
    "after",
    "at",
    "fire",
    "final",
    "on_enter",
    "within",
    "until",
    "reminders",
    "before",
    "on_breach",
    "escalations",
    "type",
    "required",
    "default",
    "min",
    "max",
    "pattern",
    "values",
    "items",
    "region",
    "closures",
    "value",
    "message",
    "extend",
    "deadline",
    "spawn",
    "with",
    "for_each",
]
NAMES = [
    "a",
    "b",
    "done",
    "lead",
    "worker",
    "ref",
    "grade",
    "system",
    "*",
    "@previous",
    "28 days",
    "params.x",
    "integer",
    "string",
    "list",
    "object",
    "x == 1",
    "len(a) > 0",
    "=today()",
    "P1D",
    "england-and-wales",
]

scalars = st.one_of(
    st.sampled_from(NAMES),
    st.integers(-3, 30),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS + NAMES), inner, max_size=5),
    ),
    max_leaves=40,
)


def load(text: str) -> Workflow | None:
    try:
        return load_workflow_text("generated.yaml", text)
    except WorkflowValidationError as exc:
        assert exc.issues, "an error must carry at least one issue"
        for issue in exc.issues:
            assert issue.line >= 1 and issue.col >= 1
            assert issue.code and issue.message
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_loads_or_raises_our_error(text: str) -> None:
    load(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_document_loads_or_raises_our_error(document: Any) -> None:
    load(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), documents, max_size=8))
def test_any_top_level_mapping_loads_or_raises_our_error(document: dict[str, Any]) -> None:
    base: dict[str, Any] = {"workflow": "generated", "version": 1, "initial": "a", "states": {"a": {"final": True}}}
    base.update(document)
    load(yaml.safe_dump(base, allow_unicode=True))

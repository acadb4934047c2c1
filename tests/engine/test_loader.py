"""The loader end to end: a valid workflow compiles; each kind of mistake is found and placed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import WorkflowValidationError
from engine.language.loader import load_workflow, load_workflow_text
from engine.language.workflow import definition_hash

VALID = """\
workflow: tiny
version: 1
params:
  window: 28 days
  limit: {type: integer, value: 2}
roles:
  lead: Runs it
  worker: Does it
separate: [[lead, worker]]
scales:
  grade: [good, bad]
fields:
  ref: {type: string, required: true, pattern: '^[A-Z]{3}$'}
  grade: {type: grade}
  tries: {type: integer, default: 0, min: 0}
  note: {type: text}
start:
  by: lead
  assigns: [worker]
initial: open
states:
  open:
    timers:
      - after: params.window
        fire: nudge
  done:
    final: true
transitions:
  - trigger: nudge
    from: open
    by: system
    do:
      - notify: {to: [worker], message: "Please finish {ref}."}
  - trigger: finish
    from: open
    to: done
    by: worker
    needs: [grade]
    writes: [note]
    checks:
      - when: "tries <= params.limit"
        otherwise: "Too many tries (more than {params.limit})."
    do:
      - set: {tries: "=tries + 1"}
"""


def load(text: str, name: str = "tiny") -> object:
    return load_workflow_text(f"{name}.yaml", text, expected_id=name)


def problems(text: str, name: str = "tiny") -> list[tuple[str, int]]:
    with pytest.raises(WorkflowValidationError) as caught:
        load(text, name)
    return [(issue.code, issue.line) for issue in caught.value.issues]


def test_a_valid_workflow_compiles() -> None:
    workflow = load_workflow_text("tiny.yaml", VALID, expected_id="tiny")
    assert workflow.id == "tiny"
    assert workflow.version == 1
    assert workflow.warnings == ()
    assert ("transitions", 1, "checks", 0, "when") in workflow.expressions
    assert ("states", "open", "timers", 0, "after") in workflow.durations
    assert len(workflow.hash) == 64


def test_field_validators_are_built_on_first_use() -> None:
    """Loading builds only the validators it uses (a pattern's, to report a bad one; those of
    defaults and params); `show` validates no event data, so it builds no other (QUALITY.md P8)."""
    from pydantic import ValidationError

    from engine.runtime.machine import compile_workflow

    workflow = load_workflow_text("tiny.yaml", VALID, expected_id="tiny")
    note, grade, ref = (workflow.field_types[name] for name in ("note", "grade", "ref"))
    assert "adapter" not in note.__dict__ and "adapter" not in grade.__dict__
    assert "adapter" in ref.__dict__  # built at load: only there can a pattern fail to compile
    assert grade.validate("good") == "good"
    with pytest.raises(ValidationError):
        grade.validate("excellent")
    with pytest.raises(ValidationError):
        note.validate(1)  # strict: a number is not a text
    # every plain text field, in any workflow, shares one validator
    again = load_workflow_text("tiny.yaml", VALID, expected_id="tiny").field_types["note"]
    assert again.adapter is note.adapter
    # the compiled workflow's validator puts pydantic's own in its place on the first call
    compiled = compile_workflow(workflow)
    first = compiled.validators["tries"]
    assert first(3) == 3
    assert compiled.validators["tries"] is not first
    assert compiled.validators["tries"](4) == 4
    with pytest.raises(ValidationError):
        compiled.validators["tries"](-1)  # min: 0


def test_the_hash_ignores_comments_and_layout() -> None:
    reformatted = "# a comment\n" + VALID.replace("separate: [[lead, worker]]", "separate:\n  - [lead,   worker]")
    assert definition_hash(load_workflow_text("tiny.yaml", reformatted).spec) == definition_hash(
        load_workflow_text("tiny.yaml", VALID).spec
    )


def test_the_file_name_must_match(write_workflow: Callable[[str, str], Path]) -> None:
    path = write_workflow("other", VALID)
    with pytest.raises(WorkflowValidationError) as caught:
        load_workflow(path)
    assert [(i.code, i.line, i.col) for i in caught.value.issues] == [("workflow_id_mismatch", 1, 11)]


@pytest.mark.parametrize(
    ("old", "new", "code", "line"),
    [
        ("initial: open", "initial: opne", "unknown_state", 20),
        ("    to: done\n", "    to: dnoe\n", "unknown_state", 36),
        ("    by: worker\n", "    by: wroker\n", "unknown_role", 37),
        ("    needs: [grade]", "    needs: [grde]", "unknown_field", 38),
        ("tries <= params.limit", "tries <= params.limt", "unknown_name", 41),
        ("tries <= params.limit", "grade < 'good'", "scale_order", 41),
        ("after: params.window", "after: 28 dayz", "bad_duration", 24),
        ("(more than {params.limit})", "(more than {params.limt})", "unknown_placeholder", 42),
        ("        fire: nudge", "        fire: nudge_me", "unhandled_trigger", 25),
        ("  tries: {type: integer, default: 0, min: 0}", "  tries: {type: integer, default: -1, min: 0}", "bad_default", 15),
        ("pattern: '^[A-Z]{3}$'", "pattern: '(?=A)'", "bad_pattern", 13),
        ("  grade: [good, bad]", "  grade: []", "empty_scale", 11),
        ("  limit: {type: integer, value: 2}", "  limit: {type: integer, value: two}", "bad_param", 5),
        ('      - set: {tries: "=tries + 1"}', "      - set: {trys: 1}", "unknown_field", 44),
        ('      - set: {tries: "=tries + 1"}', "      - set: {tries: 'x'}", "bad_value", 44),
    ],
)
def test_each_mistake_is_found_on_its_line(old: str, new: str, code: str, line: int) -> None:
    assert old in VALID
    found = problems(VALID.replace(old, new))
    assert (code, line) in found, found


def test_unused_declarations_are_warnings() -> None:
    text = VALID.replace("  note: {type: text}\n", "  note: {type: text}\n  spare: {type: text}\n")
    workflow = load_workflow_text("tiny.yaml", text)
    assert [(w.code, w.severity) for w in workflow.warnings] == [("unused_field", "warning")]


def test_graph_errors() -> None:
    text = VALID.replace("  done:\n    final: true\n", "  done:\n    final: true\n  limbo: {}\n  stuck: {}\n") + (
        "  - trigger: park\n    from: open\n    to: stuck\n    by: lead\n"
    )
    found = problems(text)
    assert ("unreachable_state", 28) in found
    assert ("no_way_out", 29) in found


def test_a_shadowed_candidate_is_an_error() -> None:
    text = VALID + "  - trigger: finish\n    from: open\n    to: done\n    by: worker\n" * 2
    found = problems(text)
    assert ("unreachable_transition", 49) in found


def test_transitions_out_of_final_states() -> None:
    text = VALID + "  - trigger: reopen\n    from: done\n    to: open\n    by: lead\n"
    assert ("transition_from_final", 46) in problems(text)


def test_every_problem_at_once() -> None:
    text = VALID.replace("initial: open", "initial: opne").replace("    by: worker\n", "    by: wroker\n")
    codes = {code for code, _ in problems(text)}
    assert {"unknown_state", "unknown_role"} <= codes

"""The strict YAML reader: YAML 1.2 core scalars, positions, and what format 1 forbids."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.language.yamlsource import read_yaml, resolve_scalar


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("on", "on"),
        ("no", "no"),
        ("yes", "yes"),
        ("off", "off"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("null", None),
        ("~", None),
        ("", None),
        ("0123", 123),
        ("-7", -7),
        ("0o17", 15),
        ("0x1F", 31),
        ("1.5", Decimal("1.5")),
        ("1e3", Decimal("1e3")),
        (".inf", ".inf"),
        (".nan", ".nan"),
        ("12:30", "12:30"),
        ("2026-12-01", "2026-12-01"),
        ("28 days", "28 days"),
    ],
)
def test_plain_scalars_follow_the_core_schema(text: str, value: object) -> None:
    assert resolve_scalar(text) == value
    assert type(resolve_scalar(text)) is type(value)


def test_quoted_scalars_stay_strings() -> None:
    doc = read_yaml("f.yaml", "a: '1'\nb: \"true\"\nc: 'null'\n")
    assert doc.value == {"a": "1", "b": "true", "c": "null"}
    assert doc.issues == []


def test_keys_are_their_text() -> None:
    doc = read_yaml("f.yaml", "1: a\ntrue: b\nno: c\n")
    assert doc.value == {"1": "a", "true": "b", "no": "c"}


def test_positions_of_keys_and_items() -> None:
    doc = read_yaml("f.yaml", "states:\n  a:\n    final: true\nlist:\n  - x\n  - y\n")
    assert doc.key_marks[("states", "a")].line == 2
    assert doc.key_marks[("states", "a")].col == 3
    assert doc.value_marks[("list", 1)].line == 6
    assert doc.value_marks[("list", 1)].col == 5
    # an unknown place resolves to its nearest written ancestor
    assert doc.mark(("states", "a", "missing")).line == 3


@pytest.mark.parametrize(
    ("text", "code", "line", "col"),
    [
        ("a: 1\na: 2\n", "duplicate_key", 2, 1),
        ("a: &x 1\nb: 2\n", "yaml_anchor", 1, 4),
        ("a: &x 1\nb: *x\n", "yaml_alias", 2, 4),
        ("a:\n  <<: {b: 1}\n", "yaml_merge_key", 2, 3),
        ("a: !!str 1\n", "yaml_tag", 1, 4),
        ("a: !custom x\n", "yaml_tag", 1, 4),
        ("? [a, b]\n: 1\n", "yaml_complex_key", 1, 3),
        ("a: 1\n---\nb: 2\n", "yaml_multiple_documents", 2, 1),
        ("a: [1, 2\nb: 3\n", "yaml_syntax", 1, 4),  # at the bracket left open
        ("a:\n\tb: 1\n", "yaml_syntax", 2, 1),
        ("", "empty_file", 1, 1),
        ("# only a comment\n", "empty_file", 1, 1),
    ],
)
def test_forbidden_yaml_is_reported_where_it_is(text: str, code: str, line: int, col: int) -> None:
    doc = read_yaml("f.yaml", text)
    found = [(i.code, i.line, i.col) for i in doc.issues]
    assert (code, line, col) in found, found


def test_every_problem_is_collected() -> None:
    doc = read_yaml("f.yaml", "a: 1\na: 2\nb: &x 3\nc: *x\n")
    assert [i.code for i in doc.issues] == ["duplicate_key", "yaml_anchor", "yaml_alias"]


@pytest.mark.parametrize(
    ("text", "offset", "line", "col"),
    [
        ("when: 'a == b'\n", 5, 1, 13),  # quoted: one column for the quote
        ("when: a == b\n", 5, 1, 12),  # plain
        ("when: |\n  a == 1 or\n  b == 2\n", 12, 3, 5),  # block: second line of content
    ],
)
def test_positions_inside_strings(text: str, offset: int, line: int, col: int) -> None:
    doc = read_yaml("f.yaml", text)
    mark = doc.mark_in_string(("when",), offset)
    assert (mark.line, mark.col) == (line, col)


@pytest.mark.parametrize(
    ("text", "needle", "line", "col"),
    [
        ('when: "a == 1 or\n  bb == 2"\n', "bb", 2, 3),  # double-quoted over two lines
        ("when: >\n  a == 1 or\n  bb == 2\n", "bb", 3, 3),  # folded block
        ("when: a == 1 or\n  bb == 2\n", "bb", 2, 3),  # plain over two lines
        ("when: 'x' \n", "x", 1, 8),
    ],
)
def test_positions_inside_folded_strings(text: str, needle: str, line: int, col: int) -> None:
    doc = read_yaml("f.yaml", text)
    value = doc.value["when"]
    mark = doc.mark_in_string(("when",), value.index(needle))
    assert (mark.line, mark.col) == (line, col)

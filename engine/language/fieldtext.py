"""Reading a field's value from text, by the field's declared type (DESIGN §3.2).

Where values arrive as text (`--set name=value` on the command line), each is read by its
field's type first: a `string` field keeps `0123` as text; an `integer` reads `3`; a
`boolean` reads `true`; dates, datetimes and durations stay text for the engine's strict
validation to read; lists, maps and objects are YAML flow collections (`[a, b]`, `{k: v}`)
read by our strict YAML reader. A value that does not read as its type is passed on as
text, so the engine refuses it naming the field, rather than the reader guessing.

Text is always a value, never "unset": `null` in a text field is the word null, and the
empty text is the empty text. Clearing a field is asked for on its own (`--clear NAME`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.expressions import types as T
from engine.language.workflow import Workflow
from engine.language.yamlsource import read_yaml

_INTEGER = re.compile(r"[-+]?[0-9]+")
_MAX_INTEGER_TEXT = 40  # Python refuses int() of over 4,300 digits; we read far fewer


def read_field_text(workflow: Workflow | None, name: str, text: str) -> Any:
    """The value `text` stands for in field `name` of `workflow` (None: any field, as text).

    Never None: no text unsets a field (`null` is a word, `""` the empty text).
    """
    field = workflow.field_types.get(name) if workflow is not None else None
    return read_typed_text(field.type if field is not None else None, text)


def read_typed_text(type_: T.Type | None, text: str) -> Any:
    if type_ == T.INTEGER and len(text) <= _MAX_INTEGER_TEXT and _INTEGER.fullmatch(text):
        return int(text)  # a longer one stays text, which the field's validator refuses
    if type_ == T.NUMBER:
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    if type_ == T.BOOLEAN and text in ("true", "false"):
        return text == "true"
    if isinstance(type_, (T.ListType, T.MapType, T.ObjectType)):
        doc = read_yaml("--set", text)
        # a collection or the text as given: `null` or nothing is not read as "unset"
        return doc.value if not doc.issues and isinstance(doc.value, (list, dict)) else text
    return text

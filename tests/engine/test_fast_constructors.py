"""The per-event records' `fast` constructors are the dataclass constructors, faster.

They are called positionally on the per-event path (docs/decisions.md, "Keyword arguments,
measured"), so their parameters must be exactly the dataclass's fields, in order, and what
they make must equal what the generated constructor makes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
from typing import Any

import pytest

from engine.results import FireResult
from engine.store.records import HistoryRow, InstanceRecord, StateEntry

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
SAMPLES: dict[type[Any], tuple[Any, ...]] = {
    InstanceRecord: ("i-1", "w", 1, "h" * 64, "s", None, {"a": "1"}, {"r": "p"}, {"r": ("p",)}, 2, 2, "x" * 64, AT, AT, None),
    StateEntry: ("i-1", 2, "s", "t", AT),
    HistoryRow: ("i-1", 2, AT, AT, "p", "r", "go", "s", "t", "w", 1, "h" * 64, "y" * 64, "x" * 64, "z" * 64, b"{}"),
    FireResult: ("i-1", 2, "go", "r", "s", "t", "t", 3, {}, {}, (), (), "z" * 64),
}


@pytest.mark.parametrize("record_type", list(SAMPLES), ids=lambda t: t.__name__)
def test_fast_takes_the_fields_in_order_and_makes_an_equal_record(record_type: type[Any]) -> None:
    fields = [field.name for field in dataclasses.fields(record_type)]
    parameters = list(inspect.signature(record_type.fast).parameters)
    assert parameters == fields[: len(parameters)]
    left_out = fields[len(parameters) :]
    assert all(dataclasses.fields(record_type)[fields.index(name)].default is not dataclasses.MISSING for name in left_out)
    values = SAMPLES[record_type]
    made = record_type.fast(*values)
    assert made == record_type(*values)
    assert type(made) is record_type
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.seq = 99  # still frozen

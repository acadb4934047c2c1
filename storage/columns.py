"""Column types that keep the engine's values exact on every backend.

- `UTCDateTime`: aware UTC datetimes in, aware UTC datetimes out. PostgreSQL stores
  `timestamp with time zone`; SQLite stores `YYYY-MM-DDTHH:MM:SS.ffffffZ` text, fixed width,
  so text order is time order and `WHERE due_at <= :now` works on the column as it is.
- `JSONText`, `JSONTuple`, `JSONTupleMap`: JSON-form data (DESIGN §4.5: str, int, bool,
  None, lists and dicts) as canonical JSON text (sorted keys, no spaces, UTF-8), read back
  as the shapes the records use (tuples where a record holds tuples).

Naive datetimes are refused: a time without its zone is a bug upstream, not something to
guess about.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

from engine import format_time

__all__ = ["JSONText", "JSONTuple", "JSONTupleMap", "UTCDateTime", "dump_json"]


def _as_dict(value: Any) -> Any:
    # json's C encoder takes only real dicts; records may hold any Mapping (a MappingProxy).
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"a {type(value).__name__} is not JSON form")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_as_dict)
# `JSONEncoder.encode` builds a C encoder on every call; these columns are written on every
# event, so build it once (the same trick as engine.canonical).
_C_ENCODE: Callable[[Any, int], Any] | None = (
    json.encoder.c_make_encoder(None, _as_dict, json.encoder.encode_basestring, None, ":", ",", True, False, False)  # type: ignore[attr-defined]
    if getattr(json.encoder, "c_make_encoder", None) is not None
    else None
)


def dump_json(value: Any) -> str:
    """Canonical JSON text of a JSON-form value: sorted keys, compact, non-ASCII kept."""
    if _C_ENCODE is None:  # pragma: no cover - CPython always has the C encoder
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


_load_json = json.loads


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime stored as UTC; always read back aware, in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(DateTime(timezone=True))

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        # Overridden (rather than process_bind_param) to skip a layer of calls on the hot path.
        if dialect.name == "sqlite":
            return _bind_text
        return _bind_aware

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _read_text
        return _read_aware

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        return _bind_text(value) if dialect.name == "sqlite" else _bind_aware(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return _read_text(value) if dialect.name == "sqlite" else _read_aware(value)


def _require_aware(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"a stored time must be an aware datetime, got {value!r}")
    return value


# One event binds the same moment several times (updated_at, at, entered_at, created_at):
# remember the last one formatted, as (moment, text).
_last_bound: tuple[dt.datetime | None, str] = (None, "")


def _bind_text(value: dt.datetime | None) -> str | None:
    global _last_bound
    if value is None:
        return None
    moment, text = _last_bound
    if value is moment:
        return text
    text = format_time(_require_aware(value))
    _last_bound = (value, text)
    return text


def _bind_aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return _require_aware(value).astimezone(dt.UTC)


def _read_text(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value)  # 'Z' gives datetime.UTC itself
    return moment if moment.tzinfo is dt.UTC else moment.astimezone(dt.UTC)


def _read_aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)


class JSONText(TypeDecorator[Any]):
    """Any JSON-form value as canonical JSON text."""

    impl = Text
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return _bind_json

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        return _read_json

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return _bind_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return _read_json(value)


def _bind_json(value: Any) -> str | None:
    return None if value is None else dump_json(value)


def _read_json(value: str | None) -> Any:
    return None if value is None else _load_json(value)


class JSONTuple(JSONText):
    """A tuple of JSON-form values as a JSON array (roles, recipients, reasons)."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        return _read_tuple

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return _read_tuple(value)


def _read_tuple(value: str | None) -> tuple[Any, ...] | None:
    return None if value is None else tuple(_load_json(value))


class JSONTupleMap(JSONText):
    """A mapping of str to tuples as a JSON object of arrays (an instance's `holders`)."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        return _read_tuple_map

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return _read_tuple_map(value)


def _read_tuple_map(value: str | None) -> dict[str, tuple[Any, ...]] | None:
    if value is None:
        return None
    return {key: tuple(items) for key, items in _load_json(value).items()}

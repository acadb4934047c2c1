"""Canonical JSON: the one byte form that history hashes, and the JSON form of instance data.

Two representations of a value exist in the runtime:

- the **typed form** expressions read (`datetime.date`, `Decimal`, `Duration`, aware
  `datetime`), produced by `FieldType.validate`;
- the **JSON form** kept in instance records, history payloads and idempotency results:
  only `str`, `int`, `bool`, `None`, `list` and `dict` with string keys. Dates are
  `YYYY-MM-DD`, datetimes `YYYY-MM-DDTHH:MM:SS.ffffffZ`, numbers decimal strings (never a
  binary float), durations `Duration.canonical()`, and every string is NFC.

Storing the JSON form means a store writes data as JSON text with no knowledge of the
workflow, `verify` compares replayed history with the instance row by plain equality, and
the history payload needs no second encoding. The runtime turns JSON form back into typed
form lazily, field by field, with the revivers of each field's type
(`engine.language.fieldtypes.reviver_for`).

This module is a leaf: it imports nothing of ours, so every layer may use it.

Canonical bytes (DESIGN §4.5): JSON with sorted keys, no spaces, UTF-8, NFC strings.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from engine.errors import QaflowError

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _refuse_type(value: Any) -> Any:
    raise TypeError(f"a {type(value).__name__} is not JSON form")


# `JSONEncoder.encode` builds a new C encoder on every call; history encodes on every event,
# so build the C encoder once. No circular-reference markers: JSON-form values are trees we
# built ourselves.
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)  # CPython's C encoder; not in the type stubs
_C_ENCODE: Any = (
    _make_encoder(None, _refuse_type, json.encoder.encode_basestring, None, ":", ",", True, False, False) if _make_encoder else None
)


def _encode_text(value: Any) -> str:
    if _C_ENCODE is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


@runtime_checkable
class HasCanonicalText(Protocol):
    """A value type that knows its own canonical text (`Duration.canonical()`), so this leaf
    module can write it without importing the layers above."""

    def canonical(self) -> str: ...


class CanonicalError(QaflowError, ValueError):
    """A value has no canonical form (a binary float, a non-finite number, an unknown type).

    A `QaflowError` like every error qaflow raises, and a `ValueError` for callers that catch
    bad values by that name.
    """

    code = "no_canonical_form"


def nfc(text: str) -> str:
    """The NFC form of a string; ASCII text (almost all of it) is returned as is, cheaply.

    Raises:
        CanonicalError: the text holds a lone surrogate (what Python makes of bytes that are
            not UTF-8), which has no UTF-8 form and so could be neither hashed nor stored.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError(f"the text is not valid Unicode (character {exc.start + 1} is a lone surrogate)") from exc
    return unicodedata.normalize("NFC", text)


def format_time(moment: dt.datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` for an aware datetime, converted to UTC."""
    if moment.tzinfo is not dt.UTC:
        if moment.tzinfo is None:
            raise CanonicalError(f"a time must carry its zone, got {moment!r}")
        moment = moment.astimezone(dt.UTC)
    # %-formatting of the parts is three times faster than strftime, and this runs per event
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )


def parse_time(text: str) -> dt.datetime:
    """The inverse of `format_time` (also accepts any ISO 8601 time with a zone)."""
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise CanonicalError(f"a time must carry its zone, got {text!r}")
    return moment.astimezone(dt.UTC)


def decimal_text(number: Decimal) -> str:
    """A finite Decimal as plain decimal text, never with an exponent (1E+2 -> '100')."""
    if not number.is_finite():
        raise CanonicalError(f"{number} is not a finite number")
    exponent = number.as_tuple().exponent
    if abs(number.adjusted()) > _MAX_WRITTEN_DIGITS or (isinstance(exponent, int) and -exponent > _MAX_WRITTEN_DIGITS):
        raise CanonicalError(f"a number of about {max(abs(number.adjusted()), 1)} digits is too large to write out")
    return format(number, "f")


_MAX_WRITTEN_DIGITS = 1000  # a bound on what any value can expand to, whatever made it


def to_json_value(value: Any) -> Any:
    """The JSON form of a typed value (see the module docstring).

    Raises:
        CanonicalError: a float, a non-finite Decimal, a naive datetime or an unknown type.
    """
    kind = type(value)
    if kind is str:
        return nfc(value)
    if value is None or kind is int or kind is bool:
        return value
    if kind is list or kind is tuple:
        return [to_json_value(item) for item in value]
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"a map key must be text, got {key!r}")
            result[nfc(key)] = to_json_value(item)
        return result
    if kind is Decimal:
        return decimal_text(value)
    if kind is dt.date:
        return value.isoformat()
    if kind is dt.datetime:
        return format_time(value)
    if isinstance(value, HasCanonicalText):  # a Duration (engine.time), without importing it
        return value.canonical()
    if kind is float:
        raise CanonicalError(f"{value!r} is a binary float; numbers are integers or decimals")
    raise CanonicalError(f"a {kind.__name__} has no canonical form")


def json_text(value: str | None) -> str:
    """A name as JSON text (escaped as `json.dumps` does, NFC), or null: worked out once per
    definition for the fixed parts of history rows."""
    return "null" if value is None else json.encoder.encode_basestring(nfc(value))


def to_request_value(value: Any) -> Any:
    """Like `to_json_value`, but never fails: what a caller sent, for an idempotency hash.

    A request may hold anything (it has not been validated yet); what can't be canonical is
    tagged with its type and repr, so two different requests still hash differently.
    """
    try:
        return to_json_value(value)
    except CanonicalError:
        if isinstance(value, (list, tuple)):
            return [to_request_value(item) for item in value]
        if isinstance(value, Mapping):
            return {str(key): to_request_value(item) for key, item in value.items()}
        return {"$repr": f"{type(value).__name__}:{value!r}"}


def dumps(value: Any) -> bytes:
    """Canonical bytes of a JSON-form value: sorted keys, no spaces, UTF-8.

    Strings must already be NFC (`to_json_value` makes them so).
    """
    try:
        return _encode_text(value).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise CanonicalError(str(exc)) from exc


def dumps_text(value: Any) -> str:
    """`dumps` as text, for callers assembling a larger canonical document."""
    try:
        return _encode_text(value)
    except (TypeError, ValueError) as exc:
        raise CanonicalError(str(exc)) from exc


def loads(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))

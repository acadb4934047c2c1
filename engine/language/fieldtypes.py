"""Field declarations turned into two things: an expression type and a strict validator.

The checker types expressions with the first; the runtime validates event data with the
second (pydantic, strict: `"1"` is not an integer, `1.5` is not an integer, an unknown key of
an object is refused). Dates, datetimes and durations also accept their ISO / duration
text, because event data arrives as text (`--set`, a YAML or JSON data file).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from typing import Annotated, Any, Literal, NotRequired, Optional, Required

from pydantic import BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError, SchemaError
from typing_extensions import TypedDict

from engine.canonical import parse_time
from engine.errors import DurationError, Loc
from engine.expressions import types as T
from engine.language.definition import FieldSpec
from engine.suggest import did_you_mean
from engine.time.durations import Duration, parse_duration

PRIMITIVES = ("string", "text", "integer", "number", "boolean", "date", "datetime", "duration")
CONTAINERS = ("list", "map", "object")
Report = Callable[[Loc, str, str], None]
Reviver = Callable[[Any], Any]  # JSON form -> typed form, for one field


@dataclass(frozen=True)
class FieldType:
    """One declared field (or object key, or list item): its type and its validator.

    The validator (a pydantic `TypeAdapter`) is built from `python` on first use: building
    one costs about as much as the rest of loading the field, and commands that validate no
    event data (`show`, `history`, `validate`) never use most of them (QUALITY.md P8).
    """

    spec: FieldSpec
    type: T.Type
    python: Any = field(compare=False, repr=False)  # the annotation the validator is built from

    @cached_property
    def adapter(self) -> TypeAdapter[Any]:
        shared = _PLAIN_NAMES.get(id(self.python))
        return _plain_adapter(shared) if shared is not None else TypeAdapter(self.python)

    def validate(self, value: Any) -> Any:
        """The value in its runtime form; raises pydantic's ValidationError when it is wrong."""
        return self.adapter.validate_python(value)


_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date_type", "expected a date written YYYY-MM-DD, got {value}", {"value": repr(value)})


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            value = None
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    raise PydanticCustomError("datetime_type", "expected a date and time with a zone, such as 2026-12-01T09:30:00Z", {})


def _duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise PydanticCustomError("duration_type", "{message}", {"message": exc.message}) from exc


# A number's size is bounded where it enters (DESIGN §4.10): `1e999999999` is a short text
# but a billion digits once written out in the JSON form, which never uses an exponent.
MAX_NUMBER_DIGITS = 40
MAX_NUMBER_TEXT = 100
_TOO_LARGE = 10**MAX_NUMBER_DIGITS  # compared, never written out: cheap for any int


def _number(value: Any) -> Decimal:
    # bool is an int in Python; float is refused so no binary fraction ever enters the data.
    number: Decimal | None = None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= _TOO_LARGE:  # checked before any conversion to decimal text
            raise PydanticCustomError("number_too_large", "a number may have at most {digits} digits", {"digits": MAX_NUMBER_DIGITS})
        number = Decimal(value)
    elif isinstance(value, str) and len(value) <= MAX_NUMBER_TEXT:
        with contextlib.suppress(ArithmeticError):
            number = Decimal(value)
    if number is None:
        raise PydanticCustomError("number_type", "expected a number, got {value}", {"value": repr(value)[:60]})
    if not number.is_finite():
        raise PydanticCustomError("number_type", "expected a finite number, got {value}", {"value": str(number)[:60]})
    _, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int) or max(len(digits), len(digits) + exponent, -exponent) > MAX_NUMBER_DIGITS:
        raise PydanticCustomError(
            "number_too_large",
            "a number may have at most {digits} digits, written out in full",
            {"digits": MAX_NUMBER_DIGITS},
        )
    return number


def _integer(value: Any) -> Any:
    # Strictness stays StrictInt's; this only bounds the size, before any conversion to text
    # (Python refuses to write out an int of over 4,300 digits, and the JSON form would).
    if type(value) is int and abs(value) >= _TOO_LARGE:
        raise PydanticCustomError("number_too_large", "a number may have at most {digits} digits", {"digits": MAX_NUMBER_DIGITS})
    return value


_INTEGER = Annotated[StrictInt, BeforeValidator(_integer)]


# The annotations of the primitive types without a pattern or bounds: every such field
# validates alike, so they share one validator per type, built on first use in the process.
_PLAIN: dict[str, Any] = {
    "string": StrictStr,
    "text": StrictStr,
    "integer": _INTEGER,
    "number": Annotated[Decimal, BeforeValidator(_number)],
    "boolean": StrictBool,
    "date": Annotated[dt.date, BeforeValidator(_date)],
    "datetime": Annotated[dt.datetime, BeforeValidator(_datetime)],
    "duration": Annotated[Any, BeforeValidator(_duration)],
}
_PLAIN_NAMES: dict[int, str] = {id(annotation): name for name, annotation in _PLAIN.items()}


@cache
def _plain_adapter(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(_PLAIN[name])


class FieldTypeBuilder:
    """Builds FieldTypes for one workflow, knowing its scales and named types."""

    def __init__(self, scales: Mapping[str, list[str]], named: Mapping[str, Mapping[str, FieldSpec]], report: Report) -> None:
        self.scales = scales
        self.named = named
        self.report = report
        self._building: list[str] = []  # named types being built, to catch recursion
        self._patterned = False  # whether the type being built has a `pattern` anywhere in it

    def build(self, spec: FieldSpec, loc: Loc) -> FieldType | None:
        self._patterned = False
        python = self._python_type(spec, loc)
        if python is None:
            return None
        field_type = FieldType(spec, self.expression_type(spec), python)
        if self._patterned:
            # Only a pattern can fail to build, and that is the file's error, reported now:
            # such a validator is built at load, the others when first used.
            try:
                field_type.adapter  # noqa: B018 - builds it
            except SchemaError as exc:
                # A pattern the linear-time regex engine refuses (look-around, back-references).
                detail = str(exc).strip().splitlines()[-1].removeprefix("error: ")
                self.report((*loc, "pattern"), "bad_pattern", f"the pattern does not compile: {detail}")
                return None
        return field_type

    def expression_type(self, spec: FieldSpec) -> T.Type:
        name = spec.type
        if name in ("string", "text") and spec.values:
            return T.EnumType(tuple(spec.values))
        if name in PRIMITIVES:
            return T.Primitive(name)
        if name in self.scales:
            return T.ScaleType(name, tuple(self.scales[name]))
        if name in ("list", "map"):
            item = self.expression_type(spec.items) if spec.items else T.ANY
            return T.ListType(item) if name == "list" else T.MapType(item)
        if name == "object":
            return T.ObjectType(tuple((k, self.expression_type(v)) for k, v in (spec.fields or {}).items()))
        if name in self.named and name not in self._building:
            self._building.append(name)
            try:
                fields = tuple((k, self.expression_type(v)) for k, v in self.named[name].items())
            finally:
                self._building.pop()
            return T.ObjectType(fields, name)
        return T.ANY

    def _python_type(self, spec: FieldSpec, loc: Loc) -> Any:
        name = spec.type
        ok = self._check_shape(spec, loc)
        if not ok:
            return None
        if name in ("string", "text"):
            if spec.values:
                return Literal[tuple(spec.values)]
            if spec.pattern:
                self._patterned = True
                return Annotated[StrictStr, Field(pattern=spec.pattern)]
            return _PLAIN[name]
        if name in ("integer", "number", "date") and spec.min is None and spec.max is None:
            return _PLAIN[name]
        if name == "integer":
            return Annotated[_INTEGER, Field(ge=spec.min, le=spec.max)]
        if name == "number":
            return Annotated[Decimal, BeforeValidator(_number), Field(ge=spec.min, le=spec.max)]
        if name == "date":
            low = _date(spec.min) if spec.min is not None else None
            high = _date(spec.max) if spec.max is not None else None
            return Annotated[dt.date, BeforeValidator(_date), Field(ge=low, le=high)]
        if name in ("boolean", "datetime", "duration"):
            return _PLAIN[name]
        if name in self.scales:
            # an empty scale is reported where it is declared; nothing can be built on it
            return Literal[tuple(self.scales[name])] if self.scales[name] else None
        if name in ("list", "map"):
            assert spec.items is not None
            item = self._python_type(spec.items, (*loc, "items"))
            if item is None:
                return None
            return list[item] if name == "list" else dict[StrictStr, item]  # type: ignore[valid-type]
        if name == "object":
            return self._object(spec.fields or {}, (*loc, "fields"), "object")
        # a named type
        if name in self._building:
            self.report((*loc, "type"), "recursive_type", f"type '{name}' contains itself; qaflow types can't be recursive")
            return None
        self._building.append(name)
        try:
            return self._object(self.named[name], ("types", name), name)
        finally:
            self._building.pop()

    def _object(self, fields: Mapping[str, FieldSpec], loc: Loc, name: str) -> Any:
        members: dict[str, Any] = {}
        for key, sub in fields.items():
            python = self._python_type(sub, (*loc, key))
            if python is None:
                return None
            members[key] = Required[python] if sub.required else NotRequired[Optional[python]]  # noqa: UP045
        shape = TypedDict(name, members)  # type: ignore[misc]
        configurable: Any = shape  # pydantic reads the config from this attribute
        configurable.__pydantic_config__ = ConfigDict(extra="forbid", strict=True)
        return configurable

    def _check_shape(self, spec: FieldSpec, loc: Loc) -> bool:
        """Report keys that don't fit the type; False when the field can't be built."""
        name = spec.type
        known = name in PRIMITIVES or name in CONTAINERS or name in self.scales or name in self.named
        if not known:
            choices = [*PRIMITIVES, *CONTAINERS, *self.scales, *self.named]
            self.report((*loc, "type"), "unknown_type", f"unknown type '{name}'{did_you_mean(name, choices)}")
            return False
        fine = True
        if name in ("list", "map") and spec.items is None:
            self.report((*loc, "type"), "bad_field_spec", f"a {name} needs `items:` saying what it holds")
            fine = False
        if name not in ("list", "map") and spec.items is not None:
            self.report((*loc, "items"), "bad_field_spec", f"`items` is only for list and map fields, not {name}")
        if name == "object" and not spec.fields:
            self.report((*loc, "type"), "bad_field_spec", "an object needs `fields:` naming its keys")
            fine = False
        if name != "object" and spec.fields is not None:
            self.report((*loc, "fields"), "bad_field_spec", f"`fields` is only for object fields, not {name}")
        if spec.values is not None and name not in ("string", "text"):
            self.report((*loc, "values"), "bad_field_spec", f"`values` is for string enumerations; {name} can't have it")
        if spec.values is not None and not spec.values:
            self.report((*loc, "values"), "bad_field_spec", "`values` needs at least one value")
            fine = False
        if spec.pattern is not None and name not in ("string", "text"):
            self.report((*loc, "pattern"), "bad_field_spec", f"`pattern` is for strings; {name} can't have it")
        if (spec.min is not None or spec.max is not None) and name not in ("integer", "number", "date"):
            self.report(
                (*loc, "min" if spec.min is not None else "max"),
                "bad_bounds",
                f"`min`/`max` are for integer, number and date fields, not {name}",
            )
            return fine
        for bound in ("min", "max"):
            value = getattr(spec, bound)
            if value is not None and not _bound_fits(name, value):
                self.report(
                    (*loc, bound),
                    "bad_bounds",
                    f"`{bound}` must be {'a date' if name == 'date' else 'a number'} for a {name} field, got {value!r}",
                )
                fine = False
        if fine and spec.min is not None and spec.max is not None and _bound(spec.min) > _bound(spec.max):
            self.report((*loc, "min"), "bad_bounds", f"`min` ({spec.min}) is greater than `max` ({spec.max})")
            fine = False
        return fine


def _bound_fits(type_name: str, value: Any) -> bool:
    if type_name == "date":
        try:
            _date(value)
            return True
        except PydanticCustomError:
            return False
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _bound(value: Any) -> Any:
    return _date(value) if isinstance(value, str) else value


# --- pydantic's messages in our words ---------------------------------------------------


def error_message(error: Mapping[str, Any]) -> str:
    """One pydantic error's message as qaflow words it ("expected ...", not "Input should be ...")."""
    return str(error["msg"]).replace("Input should be", "expected")


def validation_message(exc: ValidationError) -> str:
    """The first problem of a failed validation, with where it is inside the value."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"] if not str(part).startswith(("literal[", "function-")))
    message = error_message(error)
    return f"{where}: {message}" if where else message


# --- reviving stored values -------------------------------------------------------------
# Instance data is kept in JSON form (engine.canonical); these turn a field's JSON form back
# into the typed form its expressions read.


def _revive_number(value: Any) -> Any:
    return None if value is None else Decimal(value)


def _revive_date(value: Any) -> Any:
    return None if value is None else dt.date.fromisoformat(value)


def _revive_datetime(value: Any) -> Any:
    return None if value is None else parse_time(value)


def _revive_duration(value: Any) -> Any:
    return None if value is None else Duration.from_canonical(value)


_PRIMITIVE_REVIVERS: dict[str, Reviver] = {
    "number": _revive_number,
    "date": _revive_date,
    "datetime": _revive_datetime,
    "duration": _revive_duration,
}


def reviver_for(type_: T.Type) -> Reviver | None:
    """How to turn a field's JSON form back into its typed form; None when they are the same.

    Strings, texts, integers, booleans, scale and enumeration values (and containers of only
    those) need nothing, so most reads cost a dictionary lookup.
    """
    if isinstance(type_, T.Primitive):
        return _PRIMITIVE_REVIVERS.get(type_.name)
    if isinstance(type_, T.ListType):
        item = reviver_for(type_.item)
        if item is None:
            return None
        return lambda value: None if value is None else [item(entry) for entry in value]
    if isinstance(type_, T.MapType):
        entry = reviver_for(type_.item)
        if entry is None:
            return None
        return lambda value: None if value is None else {key: entry(item) for key, item in value.items()}
    if isinstance(type_, T.ObjectType):
        members = {key: reviver for key, member in type_.fields if (reviver := reviver_for(member)) is not None}
        if not members:
            return None

        def revive_object(value: Any) -> Any:
            if value is None:
                return None
            result = dict(value)
            for key, reviver in members.items():
                if key in result:
                    result[key] = reviver(result[key])
            return result

        return revive_object
    return None

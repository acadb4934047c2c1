"""What a name in an expression refers to (DESIGN §3.4), and its type.

A name is a root (a field, a computed value, or one of the reserved roots below) followed
by steps: `.key` into an object's declared keys and `['key']` into a map. Each resolved name
also yields the string the lint uses to find unused declarations (see `compile_expression`).
Reserved roots win over fields of the same name; the loader should refuse such fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.errors import ExpressionError
from engine.expressions.scope import Scope
from engine.expressions.syntax import Path
from engine.expressions.typed import ReadSource, TRead
from engine.expressions.typerules import StateType
from engine.expressions.types import (
    ANY,
    BOOLEAN,
    DATETIME,
    STRING,
    ListType,
    MapType,
    ObjectType,
    Type,
)
from engine.suggest import did_you_mean

RESERVED_NAMES = frozenset({"params", "actor", "assignees", "parent", "item", "state", "deadlines"})
_LITERAL_NAMES = ("True", "False", "None")
_ACTOR = {"id": STRING, "roles": ListType(STRING)}
_DEADLINE: dict[str, tuple[ReadSource, Type]] = {
    "due": ("deadline_due", DATETIME),
    "breached": ("deadline_breached", BOOLEAN),
    "met": ("deadline_met", BOOLEAN),
}


def resolve(path: Path, scope: Scope) -> tuple[TRead, str]:
    """The read for a name, and the name the lint records for it.

    Raises:
        ExpressionError: `unknown_name` (with "did you mean") or `not_allowed`.
    """
    root = path.root
    if root == "params":
        key = _key(path, 0, scope.params, "params.")
        return _read(path, "param", key, scope.params[key], 1), f"params.{key}"
    if root == "actor":
        key = _key(path, 0, _ACTOR, "actor.")
        return _read(path, "actor_id" if key == "id" else "actor_roles", key, _ACTOR[key], 1), f"actor.{key}"
    if root == "assignees":
        key = _key(path, 0, scope.roles, "assignees.")
        return _read(path, "assignee", key, STRING, 1), f"assignees.{key}"
    if root == "parent":
        return _parent(path, scope)
    if root == "deadlines":
        key = _key(path, 0, scope.deadlines, "deadlines.")
        part = _key(path, 1, _DEADLINE, f"deadlines.{key}.")
        source, type_ = _DEADLINE[part]
        return _read(path, source, key, type_, 2), f"deadlines.{key}"
    if root == "state":
        return _read(path, "state", "state", StateType(tuple(sorted(scope.states))), 0), "state"
    if root == "item" and scope.item is not None:
        read = _read(path, "item", "item", scope.item, 0)
        return read, f"item.{path.steps[0].key}" if path.steps else "item"
    if root in scope.fields:
        return _read(path, "field", root, scope.fields[root], 0), root
    if root in scope.computed:
        return _read(path, "computed", root, scope.computed[root], 0), f"computed.{root}"
    raise _unknown_root(path, scope)


def _parent(path: Path, scope: Scope) -> tuple[TRead, str]:
    if path.steps and path.steps[0].key == "assignees" and not path.steps[0].is_subscript:
        roles: Iterable[str] | None = scope.parent_roles
        key = _key(path, 1, roles, "parent.assignees.")
        return _read(path, "parent_assignee", key, STRING, 2), f"parent.assignees.{key}"
    fields: Mapping[str, Type] | None = scope.parent_fields
    key = _key(path, 0, fields, "parent.")
    type_ = ANY if fields is None else fields[key]
    return _read(path, "parent_field", key, type_, 1), f"parent.{key}"


def _key(path: Path, index: int, known: Iterable[str] | None, prefix: str) -> str:
    """The name at step `index` below a reserved root; `known` None means anything goes."""
    if index >= len(path.steps):
        raise ExpressionError(
            "unknown_name",
            f"'{path.dotted()}' is not a value on its own: write {prefix}<name>" + _listing(prefix, known),
            path.offset,
        )
    step = path.steps[index]
    if step.is_subscript:
        raise ExpressionError("not_allowed", f"write {prefix}{step.key}, not {path.dotted(index + 1)}", step.offset)
    if known is not None and step.key not in known:
        hint = did_you_mean(prefix + step.key, [prefix + name for name in known])
        raise ExpressionError("unknown_name", f"unknown name '{prefix}{step.key}'{hint}", step.offset)
    return step.key


def _listing(prefix: str, known: Iterable[str] | None) -> str:
    if known is None:
        return ""
    names = sorted(known)
    if not names:
        return " (none are declared)"
    shown = ", ".join(prefix + name for name in names[:6])
    return f" ({shown}{', ...' if len(names) > 6 else ''})"


def _read(path: Path, source: ReadSource, key: str, type_: Type, first_step: int) -> TRead:
    """Step down from the root through declared object keys and map keys."""
    keys: list[str] = []
    for index in range(first_step, len(path.steps)):
        step = path.steps[index]
        above = path.dotted(index)
        if type_ == ANY:
            keys.append(step.key)
            continue
        if isinstance(type_, ObjectType):
            if step.is_subscript:
                raise ExpressionError("not_allowed", f"'{above}' is an object: write {above}.{step.key}", step.offset)
            found = type_.field_type(step.key)
            if found is None:
                hint = did_you_mean(f"{above}.{step.key}", [f"{above}.{name}" for name, _ in type_.fields])
                raise ExpressionError("unknown_name", f"'{above}' has no key '{step.key}'{hint}", step.offset)
            type_ = found
        elif isinstance(type_, MapType):
            if not step.is_subscript:
                raise ExpressionError("not_allowed", f"'{above}' is a map: write {above}[{step.key!r}]", step.offset)
            type_ = type_.item
        else:
            raise ExpressionError(
                "not_allowed",
                f"'{above}' is {_article(type_)}, which has no keys (attribute access on values is not allowed)",
                step.offset,
            )
        keys.append(step.key)
    return TRead(type_, path.offset, source, key, tuple(keys))


def _article(type_: Type) -> str:
    text = type_.describe()
    if text.startswith(("a ", "an ", "one of")):
        return text
    return f"an {text}" if text[0] in "aeiou" else f"a {text}"


def _unknown_root(path: Path, scope: Scope) -> ExpressionError:
    if path.root == "item":
        return ExpressionError("unknown_name", "'item' is only available inside a spawn's for_each", path.offset)
    candidates = [
        *scope.fields,
        *scope.computed,
        *_LITERAL_NAMES,
        *sorted(RESERVED_NAMES),
        *(f"params.{name}" for name in scope.params),
        *(f"assignees.{role}" for role in scope.roles),
    ]
    if scope.item is None:
        candidates.remove("item")
    hint = did_you_mean(path.root, candidates)
    return ExpressionError("unknown_name", f"unknown name '{path.root}'{hint}", path.offset)

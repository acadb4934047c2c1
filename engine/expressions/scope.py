"""What an expression may name (`Scope`) and call (the function registry).

The loader builds a `Scope` from a workflow definition (its fields, params, roles, states,
deadlines, functions); the checker types every expression against it.

The function registry holds the only things an expression can call.
A function has a name, a signature checker (run when the workflow loads, on the argument
types) and an implementation (run when the expression runs). Embedding code registers its
own with plain parameter types; what such a function raises or returns against its return
type becomes a `FunctionError` (engine.expressions.host):

    registry = default_functions()
    registry.register("is_looked_after", Signature((STRING,), BOOLEAN), is_looked_after)

Functions whose types depend on their arguments (`worst`, `worse_than`, ...) register a
checker instead, which inspects the `CallSite` and may return an implementation specialised
for those types (a `Checked`). The registry's `names()` are recorded with each deployed
definition.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engine.errors import ExpressionError
from engine.expressions.typed import TConst, TList, Typed
from engine.expressions.types import Type


@dataclass(frozen=True)
class Signature:
    """Fixed parameter types and a return type: the simple way to type a function."""

    params: tuple[Type, ...]
    returns: Type


class Checked(NamedTuple):
    """What a signature checker may return instead of a bare type: a specialised implementation."""

    returns: Type
    impl: Callable[..., Any]


SignatureChecker = Callable[["CallSite"], "Type | Checked"]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    check: SignatureChecker
    impl: Callable[..., Any]
    takes_context: bool  # the implementation's first argument is the EvalContext
    host: bool = True  # registered by the embedding application: what it raises and returns is checked (expressions.host)


class CallSite:
    """One call being checked: its (already typed) arguments and where it is written."""

    def __init__(
        self,
        name: str,
        args: list[Typed],
        offset: int,
        scope: Scope,
        fit: Callable[[Typed, Type], Typed],
    ) -> None:
        self.name = name
        self.args = args
        self.offset = offset
        self.scope = scope
        self._fit = fit

    def error(self, code: str, message: str, index: int | None = None) -> ExpressionError:
        """An error at argument `index`, or at the call itself."""
        offset = self.offset if index is None or index >= len(self.args) else self.args[index].offset
        return ExpressionError(code, f"{self.name}(): {message}", offset)

    def expect_count(self, least: int, most: int | None = None) -> None:
        most = least if most is None else most
        given = len(self.args)
        if least <= given <= most:
            return
        wanted = str(least) if least == most else f"{least} to {most}" if most < 99 else f"at least {least}"
        plural = "" if wanted == "1" else "s"
        raise self.error("wrong_arguments", f"takes {wanted} argument{plural} ({given} given)")

    def type_of(self, index: int) -> Type:
        return self.args[index].type

    def fit(self, index: int, target: Type) -> None:
        """Check that argument `index` can be used as `target` (a string literal must be in a scale)."""
        self.args[index] = self._fit(self.args[index], target)

    def string_literal(self, index: int, what: str) -> str:
        arg = self.args[index]
        if isinstance(arg, TConst) and arg.is_literal and isinstance(arg.value, str):
            return arg.value
        raise self.error("wrong_arguments", f"argument {index + 1} must be {what} in quotes", index)

    def string_list_literal(self, index: int, what: str) -> tuple[str, ...]:
        arg = self.args[index]
        if isinstance(arg, TList) and all(
            isinstance(item, TConst) and item.is_literal and isinstance(item.value, str) for item in arg.items
        ):
            return tuple(str(item.value) for item in arg.items if isinstance(item, TConst))
        raise self.error("wrong_arguments", f"argument {index + 1} must be a list of {what} in quotes", index)


def check_signature(signature: Signature) -> SignatureChecker:
    def check(call: CallSite) -> Type:
        call.expect_count(len(signature.params))
        for index, param in enumerate(signature.params):
            call.fit(index, param)
        return signature.returns

    return check


class FunctionRegistry:
    """Name -> function. Build one with `default_functions()` and register more on it."""

    def __init__(self) -> None:
        self._specs: dict[str, FunctionSpec] = {}

    def register(
        self,
        name: str,
        signature: Signature | SignatureChecker,
        impl: Callable[..., Any],
        *,
        takes_context: bool = False,
        replace: bool = False,
    ) -> None:
        """Add a function.

        Args:
            name: how expressions call it; a plain identifier not starting with `_`.
            signature: parameter and return types, or a checker called with the `CallSite`.
            impl: called with the argument values (after the EvalContext if `takes_context`).
                It receives None for unset values and may return None. Whatever it raises,
                and a value its return type does not allow, is a `FunctionError` naming it
                (not a refusal): the event fails and nothing changes.
            replace: allow replacing a function already registered under `name`.

        Raises:
            ValueError: for a bad or duplicate name (a programming error, not a workflow's).
        """
        self._add(name, signature, impl, takes_context=takes_context, replace=replace, host=True)

    def _add(
        self,
        name: str,
        signature: Signature | SignatureChecker,
        impl: Callable[..., Any],
        *,
        takes_context: bool,
        replace: bool,
        host: bool,
    ) -> None:
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_") or not name.isascii():
            raise ValueError(f"{name!r} cannot be a function name: use a plain identifier not starting with '_'")
        if name in self._specs and not replace:
            raise ValueError(f"function {name!r} is already registered (pass replace=True to replace it)")
        check = check_signature(signature) if isinstance(signature, Signature) else signature
        self._specs[name] = FunctionSpec(name, check, impl, takes_context, host)

    def get(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name)

    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted: recorded with each deployed definition."""
        return tuple(sorted(self._specs))

    def copy(self) -> FunctionRegistry:
        """An independent registry with the same functions, to extend without touching this one."""
        clone = FunctionRegistry()
        clone._specs = dict(self._specs)
        return clone

    def __contains__(self, name: object) -> bool:
        return name in self._specs


def register_builtin(
    registry: FunctionRegistry,
    name: str,
    signature: Signature | SignatureChecker,
    impl: Callable[..., Any],
    *,
    takes_context: bool = False,
) -> None:
    """Add one of qaflow's own functions (`default_functions`): typed by its checker and
    trusted, so its calls are compiled without the checks a registered function gets."""
    registry._add(name, signature, impl, takes_context=takes_context, replace=False, host=False)


@dataclass(frozen=True)
class Scope:
    """What an expression may name, with types. Built once per workflow by the loader.

    `parent_fields` is None when the workflow's possible parents are not known yet: then any
    `parent.<field>` is allowed and typed `any`. `item` is the type of `item` inside a
    `for_each`, else None (and `item` is an unknown name).
    """

    fields: Mapping[str, Type]
    params: Mapping[str, Type]
    roles: frozenset[str]
    states: frozenset[str]
    deadlines: frozenset[str]
    functions: FunctionRegistry
    workflows: frozenset[str] | None = None
    parent_fields: Mapping[str, Type] | None = None
    parent_roles: frozenset[str] | None = None
    item: Type | None = None
    computed: Mapping[str, Type] = field(default_factory=dict)

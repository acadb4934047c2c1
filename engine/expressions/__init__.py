"""The expression language (DESIGN §3.4): a small typed subset of Python expression syntax.

    compile_expression(text, scope, expected) -> CompiledExpression

runs, in order: the limits on the raw text (`limits.check_text`), Python's own parser on the
bounded text (`limits.parse_bounded`), the allowlist of syntax (`parser`), the type checker
against the workflow's `Scope` (`checker`, `names`, `functions`), and the compiler to closures
(`compiler`). Nothing is ever executed as Python code: a compiled expression only reads the
`EvalContext` it is given and calls registered functions.

Every load-time problem is an `ExpressionError` with a stable code and a 0-based offset into
the text. At run time an expression fails with `ExpressionRuntimeError`, or with a
`FunctionError` when a function the embedding application registered raised or returned a
value its signature does not allow (`host`): a failure of the host, not of the event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ExpressionError, FunctionError
from engine.expressions.checker import Checker
from engine.expressions.compiler import compile_condition, compile_node
from engine.expressions.functions import default_functions
from engine.expressions.limits import check_text, parse_bounded
from engine.expressions.names import RESERVED_NAMES
from engine.expressions.parser import to_syntax
from engine.expressions.scope import CallSite, Checked, FunctionRegistry, Scope, Signature
from engine.expressions.types import ANY, BOOLEAN, EvalContext, Type
from engine.expressions.values import ExpressionRuntimeError

__all__ = [
    "RESERVED_NAMES",
    "CallSite",
    "Checked",
    "CompiledExpression",
    "ExpressionError",
    "ExpressionRuntimeError",
    "FunctionError",
    "FunctionRegistry",
    "Signature",
    "compile_expression",
    "default_functions",
]


@dataclass(frozen=True)
class CompiledExpression:
    """A checked expression, ready to run any number of times.

    `names` lists what the expression reads, for the lint's unused-declaration warnings:
    a top-level field as its bare name (`domains` for `domains.planning.grade`),
    `params.<name>`, `assignees.<role>`, `actor.id`, `actor.roles`, `parent.<field>`,
    `parent.assignees.<role>`, `item` or `item.<key>` (the first key below item), `state`,
    `deadlines.<name>`, and `computed.<name>` for a computed value.
    """

    text: str
    type: Type
    names: frozenset[str]
    _run: Callable[[EvalContext], Any] = field(repr=False, compare=False)

    def evaluate(self, ctx: EvalContext) -> Any:
        """Run the expression for one event.

        Returns:
            The value; always True or False when compiled with `expected=BOOLEAN`.

        Raises:
            ExpressionRuntimeError: division by zero, a date out of range, a value of the
                wrong kind where the type was `any`.
            FunctionError: a registered function raised, or returned a value of another
                type than its signature says.
        """
        try:
            return self._run(ctx)
        except (ExpressionRuntimeError, FunctionError) as exc:
            if exc.expression is None:
                exc.expression = self.text
            raise


def compile_expression(text: str, scope: Scope, expected: Type | None = None) -> CompiledExpression:
    """Check an expression against a scope and compile it.

    Args:
        text: the expression as written (without the leading `=` of a value).
        scope: what the expression may name, built by the loader.
        expected: BOOLEAN for `when`, `checks` and guards; a field's type for an `=` value
            (an integer fits a number, a string literal fits a scale it belongs to, None
            fits anything); None to accept any type.

    Returns:
        The compiled expression; its `type` is `expected` when given, else the inferred one.

    Raises:
        ExpressionError: with a stable `code` and the `offset` of the problem in `text`.
    """
    try:
        check_text(text)
        tree, source = parse_bounded(text)
        checker = Checker(scope)
        typed = checker.check(to_syntax(tree, source, text))
        if expected == BOOLEAN:
            if typed.type not in (BOOLEAN, ANY):
                raise ExpressionError(
                    "not_boolean",
                    f"a condition must be true or false, but this is {typed.type.describe()}",
                    typed.offset,
                )
            return CompiledExpression(text, BOOLEAN, frozenset(checker.names), compile_condition(typed))
        if expected is not None:
            typed = checker.fit(typed, expected)
        type_ = typed.type if expected is None or expected == ANY else expected
        return CompiledExpression(text, type_, frozenset(checker.names), compile_node(typed))
    except ExpressionError as exc:
        # Every offset lands on a character of the text, so the loader can always place it.
        exc.offset = max(0, min(exc.offset, len(text) - 1)) if text else 0
        raise

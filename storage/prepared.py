"""Core statements compiled once per dialect and run straight on the DBAPI cursor.

Why: an event is four to six small statements, and SQLAlchemy's `Connection.execute` spends
some 25-40 µs on each one (execution context, parameter processing, result set-up, event
dispatch) even with its compiled cache, which is more than SQLite spends running them. QUALITY.md
P2 measures a persisted event against raw `sqlite3` replaying our SQL, so the hot path keeps
what SQLAlchemy is for — the statement as a Core construct, rendered by the dialect with its
paramstyle and quoting, the column types' bind and result processors, the pool and the
transaction (`BEGIN IMMEDIATE`, commit, rollback) — and skips the per-call machinery.

A `Prepared` compiles its statement the first time it meets a dialect and remembers the SQL
text, the order of the parameters, and each parameter's and each result column's processor.
`run` then costs one tuple, list or dict of processed values and `cursor.execute`. Driver errors
come out as SQLAlchemy's `DBAPIError` subclasses (`IntegrityError`, `OperationalError`), as
from `Connection.execute`, so callers translate them the same way.

Only plain statements qualify: no expanding (`IN`) or literal-execute parameters, which
SQLAlchemy renders per call; `Prepared` refuses them when it compiles.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Select

__all__ = ["Prepared"]

Processor = Callable[[Any], Any]
_MISSING = object()


class _Compiled:
    """One statement rendered for one dialect."""

    __slots__ = ("binds", "dbapi_error", "getter", "positional", "processed", "results", "single", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str] | None) -> None:
        keys = list(column_keys) if column_keys is not None else None
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=keys))  # DML and SELECT compile to SQL
        sql = compiled.string
        if "POSTCOMPILE" in sql:
            raise TypeError(f"a statement with per-call parameters can't be prepared: {sql}")
        self.sql = sql
        self.positional = bool(compiled.positional)
        # Named paramstyles (psycopg's pyformat): the names the SQL uses, once each. `binds` also
        # holds anonymous parameters under their unrendered keys, which the SQL never mentions.
        names = list(compiled.positiontup or ()) if self.positional else list(dict.fromkeys(compiled.bind_names.values()))
        escaped = getattr(compiled, "escaped_bind_names", None) or {}
        binds: list[tuple[str, str, Processor | None, Any]] = []
        for name in names:
            bind = compiled.binds[name]
            # a required parameter (every column an INSERT or UPDATE sets) has no default to fall back on
            has_default = not bind.required and (bind.value is not None or bind.callable is not None)
            default = bind.effective_value if has_default else _MISSING
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((name, escaped.get(name, name), processor, default))
        self.binds = tuple(binds)
        # The usual case, positional (SQLite's qmark) with every parameter given by name: one
        # C-level itemgetter makes the tuple, then only the parameters with a processor change.
        self.getter: Callable[[Mapping[str, Any]], Any] | None = None
        self.single = len(binds) == 1
        self.processed = tuple((index, bind[2]) for index, bind in enumerate(binds) if bind[2] is not None)
        if self.positional and binds and all(bind[3] is _MISSING for bind in binds):
            self.getter = itemgetter(*(bind[0] for bind in binds))
        self.results: tuple[tuple[int, Processor], ...] = ()
        if isinstance(statement, Select):
            processors = (column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns)
            self.results = tuple((index, processor) for index, processor in enumerate(processors) if processor is not None)
        dbapi = getattr(dialect, "dbapi", None)  # None for a dialect made only to render SQL
        self.dbapi_error: type[Exception] = dbapi.Error if dbapi is not None else Exception


class Prepared:
    """A Core statement to run many times (see the module docstring).

    Args:
        statement: an INSERT, UPDATE, DELETE or SELECT construct.
        column_keys: for INSERT and UPDATE, the columns the parameters will set, in any
            order (SQLAlchemy renders the column list from them).
    """

    __slots__ = ("_by_dialect", "_last", "_lock", "column_keys", "statement")

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = tuple(column_keys) if column_keys is not None else None
        self._by_dialect: dict[tuple[Any, ...], _Compiled] = {}
        self._last: tuple[Dialect, _Compiled] | None = None  # the dialect met last, checked by identity first
        self._lock = threading.Lock()

    def compiled(self, dialect: Dialect) -> _Compiled:
        last = self._last
        if last is not None and last[0] is dialect:
            return last[1]
        key = (type(dialect), dialect.paramstyle, dialect.server_version_info, getattr(dialect, "dbapi", None) is None)
        found = self._by_dialect.get(key)
        if found is None:
            with self._lock:
                found = self._by_dialect.get(key) or _Compiled(self.statement, dialect, self.column_keys)
                self._by_dialect[key] = found
        if dialect.server_version_info is not None:  # a dialect not yet connected may still learn its version
            self._last = (dialect, found)  # one tuple, so a reader on another thread sees both or neither
        return found

    def sql(self, dialect: Dialect) -> str:
        """The SQL text as the dialect renders it (for logs, benchmarks and tests)."""
        return self.compiled(dialect).sql

    def run(self, cursor: Any, dialect: Dialect, params: Mapping[str, Any] | None = None) -> Any:
        """Execute on `cursor` and return it (fetch from it for a SELECT).

        Raises:
            sqlalchemy.exc.DBAPIError: the matching subclass, wrapping the driver's error.
        """
        compiled = self.compiled(dialect)
        values: Any
        given = params or {}
        getter = compiled.getter
        if getter is not None:
            values = getter(given)
            if compiled.single:
                values = (values,)
            if compiled.processed:
                values = list(values)
                for index, process in compiled.processed:
                    values[index] = process(values[index])
        elif compiled.positional:
            values = []
            for name, _, processor, default in compiled.binds:
                value = given[name] if default is _MISSING else given.get(name, default)
                values.append(value if processor is None else processor(value))
        else:
            values = {}
            for name, rendered, processor, default in compiled.binds:
                value = given[name] if default is _MISSING else given.get(name, default)
                values[rendered] = value if processor is None else processor(value)
        try:
            cursor.execute(compiled.sql, values)
        except compiled.dbapi_error as exc:
            wrapped = DBAPIError.instance(compiled.sql, values, exc, compiled.dbapi_error, dialect=dialect)
            wrapped.__cause__ = exc
            raise wrapped from exc
        return cursor

    def rows(self, cursor: Any, dialect: Dialect, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
        """Run a SELECT and return its rows, each a list of processed column values."""
        compiled = self.compiled(dialect)
        fetched = self.run(cursor, dialect, params).fetchall()
        processors = compiled.results
        if not processors:
            return [list(row) for row in fetched]
        rows = []
        for row in fetched:
            values = list(row)
            for index, processor in processors:
                values[index] = processor(values[index])
            rows.append(values)
        return rows

    def first(self, cursor: Any, dialect: Dialect, params: Mapping[str, Any] | None = None) -> list[Any] | None:
        """Run a SELECT and return its first row, processed, or None."""
        compiled = self.compiled(dialect)
        row = self.run(cursor, dialect, params).fetchone()
        if row is None:
            return None
        values = list(row)
        for index, processor in compiled.results:
            values[index] = processor(values[index])
        return values

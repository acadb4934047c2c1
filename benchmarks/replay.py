"""Record qaflow's SQL on SQLite, and replay it on a raw `sqlite3` connection (P2).

Recording: `RecordingStore` is a `SqlStore` whose units of work run their statements through a
cursor proxy that keeps each statement's SQL text and its parameters exactly as `Prepared`
hands them to the driver (after the column types' processors). Alongside, sqlite3's
`set_trace_callback`, installed by a "connect" listener placed before qaflow's own, sees
everything the driver runs on the connection, including what never reaches a cursor: the
pragmas at connect, `BEGIN IMMEDIATE` and `COMMIT`. Each unit of work is checked against the
trace, so the replay runs the same statements in the same order as qaflow did.

Replaying: `RawReplayer` opens a plain `sqlite3` connection with the pragmas qaflow set at
connect (recorded, not assumed) and `isolation_level=None`, and runs each recorded unit of
work as `BEGIN IMMEDIATE`, the statements with their parameters (fetching what a SELECT
returns), `COMMIT`.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from storage import SqlStore, SqlUnitOfWork

__all__ = ["RawReplayer", "Recorder", "RecordingStore", "Statement", "UnitRecord", "copy_database"]


@dataclass(frozen=True)
class Statement:
    sql: str
    params: Any  # a tuple (qmark) or a dict (named), as given to cursor.execute

    @property
    def is_select(self) -> bool:
        return self.sql.lstrip()[:6].upper() == "SELECT"


@dataclass
class UnitRecord:
    """One unit of work: the statements between BEGIN IMMEDIATE and COMMIT."""

    statements: list[Statement] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)  # what sqlite3 saw, BEGIN and COMMIT included


class Recorder:
    """Collects the trace of every connection of one engine, and the cursor statements."""

    def __init__(self) -> None:
        self.connect_trace: list[str] = []  # pragmas and anything else run at connect
        self.units: list[UnitRecord] = []
        self._current: UnitRecord | None = None

    def install(self, engine: Engine) -> None:
        """Trace every new connection of `engine`, from before qaflow's own connect listener."""

        def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
            dbapi_connection.set_trace_callback(self._traced)

        event.listen(engine, "connect", on_connect, insert=True)

    def _traced(self, sql: str) -> None:
        if self._current is not None:
            self._current.trace.append(sql)
        elif sql.upper().startswith("BEGIN"):
            self._current = UnitRecord(trace=[sql])
        else:
            self.connect_trace.append(sql)

    def _executed(self, sql: str, params: Any) -> None:
        if self._current is None:
            raise AssertionError(f"a statement outside a unit of work: {sql}")
        self._current.statements.append(Statement(sql, tuple(params) if isinstance(params, (list, tuple)) else dict(params)))

    def _closed(self) -> None:
        unit, self._current = self._current, None
        if unit is None:
            return
        _check(unit)
        self.units.append(unit)


def _check(unit: UnitRecord) -> None:
    """The trace must be BEGIN IMMEDIATE, then exactly the recorded statements, then COMMIT."""
    trace = unit.trace
    if not trace or trace[0].upper() != "BEGIN IMMEDIATE" or trace[-1].upper() != "COMMIT":
        raise AssertionError(f"unexpected transaction shape: {trace}")
    inner = trace[1:-1]
    if len(inner) != len(unit.statements):
        raise AssertionError(f"the trace has {len(inner)} statements, the cursor {len(unit.statements)}: {trace}")
    for traced, statement in zip(inner, unit.statements, strict=True):
        if traced.split(None, 1)[0].upper() != statement.sql.split(None, 1)[0].upper():
            raise AssertionError(f"trace and cursor disagree: {traced!r} vs {statement.sql!r}")


class _RecordingCursor:
    """A DB-API cursor proxy that reports each execute to the recorder."""

    def __init__(self, cursor: Any, recorder: Recorder) -> None:
        self._cursor = cursor
        self._recorder = recorder

    def execute(self, sql: str, params: Any = ()) -> Any:
        self._recorder._executed(sql, params)
        self._cursor.execute(sql, params)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _RecordingUnitOfWork(SqlUnitOfWork):
    def __init__(self, store: SqlStore, read_only: bool = False) -> None:
        super().__init__(store, read_only)
        if not isinstance(store, RecordingStore):
            raise TypeError("a recording unit of work belongs to a RecordingStore")
        self._recorder = store.recorder

    def __enter__(self) -> _RecordingUnitOfWork:
        super().__enter__()
        self._cursor = _RecordingCursor(self._cursor, self._recorder)
        return self

    def __exit__(self, *args: Any) -> None:
        try:
            super().__exit__(*args)
        finally:
            self._recorder._closed()


class RecordingStore(SqlStore):
    """A `SqlStore` that records the SQL of its units of work (see the module docstring)."""

    def __init__(self, engine: Engine, recorder: Recorder) -> None:
        super().__init__(engine)
        self.recorder = recorder

    unit_of_work_type = _RecordingUnitOfWork


class RawReplayer:
    """A raw `sqlite3` connection replaying recorded units of work, in order."""

    def __init__(self, path: Path, pragmas: list[str], units: list[UnitRecord]) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.cursor = self.connection.cursor()
        for pragma in pragmas:
            self.cursor.execute(pragma)
        # each unit as plain tuples, so the loop does no attribute look-ups
        self._units = [[(s.sql, s.params, s.is_select) for s in unit.statements] for unit in units]
        self.done = 0

    def replay(self, count: int) -> None:
        """Replay the next `count` units of work."""
        cursor = self.cursor
        for unit in self._units[self.done : self.done + count]:
            cursor.execute("BEGIN IMMEDIATE")
            for sql, params, is_select in unit:
                cursor.execute(sql, params)
                if is_select:
                    cursor.fetchall()
            cursor.execute("COMMIT")
        self.done += count
        if self.done > len(self._units):
            raise AssertionError(f"only {len(self._units)} units of work were recorded")

    def close(self) -> None:
        self.cursor.close()
        self.connection.close()


def copy_database(source: Path, target: Path) -> Path:
    """Copy a SQLite database that no connection has open (its WAL checkpointed first)."""
    connection = sqlite3.connect(source, isolation_level=None)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target

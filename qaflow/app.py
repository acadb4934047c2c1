"""Wiring for the command line: one Engine on one store, built from the global options.

The CLI is an operator's tool with direct database access: `--role` claims roles without
any authentication (DESIGN §3.7), and `--now` moves the clock only with
`--allow-clock-override` (§4.7).

The runtime and the database code are imported when a command first asks for an engine, so
the commands on workflow files alone (`validate`, `schema`, `diagram`) never load them.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine import NotFoundError, Workflow, is_workflow_id, load_workflow
from qaflow.errors import UsageError

if TYPE_CHECKING:
    from engine import Clock, Engine
    from storage import SqlStore

HISTORY_KEY_ENV = "QAFLOW_HISTORY_KEY"


@dataclass
class Settings:
    """The global options every command may need."""

    db_url: str
    workflows_dir: str
    now: dt.datetime | None = None
    debug: bool = False
    _stores: list[SqlStore] = field(default_factory=list)

    def engine(self) -> Engine:
        from engine import Engine, FixedClock
        from storage import open_store

        key = os.environ.get(HISTORY_KEY_ENV)
        clock: Clock | None = FixedClock(self.now) if self.now is not None else None
        store = open_store(self.db_url)
        self._stores.append(store)
        return Engine(store, clock=clock, history_key=key.encode("utf-8") if key else None)

    def close(self) -> None:
        """Close the database connections the command opened (called when it ends)."""
        while self._stores:
            self._stores.pop().close()

    def workflow_file(self, workflow_id: str) -> Workflow:
        """The workflow file `workflow_id` in the workflows folder, loaded and checked."""
        if not is_workflow_id(workflow_id):  # an id, never a path: nothing outside the folder
            raise NotFoundError(f"no workflow '{workflow_id}': a workflow id is lower_snake_case, like case_file_audit")
        path = Path(self.workflows_dir) / f"{workflow_id}.yaml"
        if not path.is_file():
            raise NotFoundError(f"no workflow '{workflow_id}': {path} does not exist")
        return load_workflow(path)


def parse_now(text: str) -> dt.datetime:
    """`--now` takes ISO 8601 with `Z` or an offset."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--now takes ISO 8601 with Z or an offset, such as 2026-12-01T09:00:00Z; got {text!r}") from exc
    if moment.tzinfo is None:
        raise UsageError(f"--now needs a zone (Z or an offset): {text!r}")
    return moment.astimezone(dt.UTC)

"""Wiring for the command line: one Engine on one store, and the workflows folder, from the global options.

The CLI is an operator's tool with direct database access: `--role` claims roles without
any authentication (DESIGN §3.7), and `--now` moves the clock only with
`--allow-clock-override` (§4.7).

The workflows folder is `--workflows` (or QAFLOW_WORKFLOWS) when given, else `./workflows`
when it exists, else the catalogue installed with qaflow: the package `qaflow.catalogue`,
which is the repository's `workflows/` folder (pyproject.toml maps one onto the other).

The runtime and the database code are imported when a command first asks for an engine, so
the commands on workflow files alone (`validate`, `schema`, `diagram`) never load them.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from engine import NotFoundError, Workflow, is_workflow_id, load_workflow
from qaflow.errors import InitRefusedError, UsageError

if TYPE_CHECKING:
    from engine import Clock, Engine
    from storage import SqlStore

HISTORY_KEY_ENV = "QAFLOW_HISTORY_KEY"
CATALOGUE_PACKAGE = "qaflow.catalogue"
LOCAL_WORKFLOWS = Path("workflows")
TOP = PurePosixPath()  # the catalogue's own folder, as a path inside it


def catalogue() -> Traversable:
    """The shipped catalogue's files, wherever qaflow is installed (a wheel or `pip install -e .`)."""
    return files(CATALOGUE_PACKAGE)


def catalogue_dir() -> Path:
    """The shipped catalogue as a folder on disk, for the commands that take a workflows folder."""
    found = catalogue()
    if not isinstance(found, Path):  # pip installs packages as folders; a zipped install has none
        raise NotFoundError(
            f"the installed catalogue is not a folder ({found}); copy it with `qaflow init DIR` and pass --workflows DIR",
            kind="catalogue",
            name=str(found),
        )
    return found


@dataclass(frozen=True)
class WorkflowsFolder:
    """The folder commands read workflows from, and why that one (`validate` says both)."""

    path: Path
    source: str  # "--workflows", "found in the current folder" or "the installed catalogue"

    def describe(self) -> str:
        return str(self.path) if self.source == "--workflows" else f"{self.path} ({self.source})"


def workflows_folder(option: str | None) -> WorkflowsFolder:
    """`--workflows`/QAFLOW_WORKFLOWS if given, else ./workflows if it exists, else the installed catalogue."""
    if option is not None:
        return WorkflowsFolder(Path(option), "--workflows")
    if LOCAL_WORKFLOWS.is_dir():
        return WorkflowsFolder(LOCAL_WORKFLOWS, "found in the current folder")
    return WorkflowsFolder(catalogue_dir(), "the installed catalogue")


def catalogue_files(folder: Traversable, under: PurePosixPath = TOP) -> list[tuple[PurePosixPath, Traversable]]:
    """Every file of the catalogue with its path inside it, sorted; not the package's own Python files."""
    found: list[tuple[PurePosixPath, Traversable]] = []
    for entry in folder.iterdir():
        if entry.name == "__pycache__" or entry.name.endswith((".py", ".pyc")):
            continue
        if entry.is_dir():
            found += catalogue_files(entry, under / entry.name)
        else:
            found.append((under / entry.name, entry))
    return sorted(found, key=lambda pair: pair[0])


def in_the_way(directory: Path, relative: PurePosixPath) -> Path | None:
    """What already exists where a copied file would go: the file itself, or a file standing for one of its folders."""
    target = directory.joinpath(*relative.parts)
    if os.path.lexists(target):
        return target
    for parent in reversed(target.parents):
        if parent.is_relative_to(directory) and os.path.lexists(parent) and not parent.is_dir():
            return parent
    return None


def copy_catalogue(directory: Path) -> list[Path]:
    """Copy the installed catalogue into `directory`, creating it; refuse, copying nothing, if any file is in the way."""
    shipped = catalogue_files(catalogue())
    taken = [path for relative, _ in shipped if (path := in_the_way(directory, relative)) is not None]
    if taken:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise InitRefusedError(
            f"{taken[0]} already exists{more}; qaflow init overwrites nothing, so nothing was copied",
            taken=tuple(str(path) for path in taken),
        )
    written: list[Path] = []
    for relative, source in shipped:
        target = directory.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        if target.suffix == ".sh":  # the examples' scripts are meant to be run
            target.chmod(0o755)
        written.append(target)
    return written


@dataclass
class Settings:
    """The global options every command may need."""

    db_url: str
    workflows_dir: str | None = None  # as given; `workflows` says which folder that means
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

    def workflows(self) -> WorkflowsFolder:
        return workflows_folder(self.workflows_dir)

    def close(self) -> None:
        """Close the database connections the command opened (called when it ends)."""
        while self._stores:
            self._stores.pop().close()

    def workflow_file(self, workflow_id: str) -> Workflow:
        """The workflow file `workflow_id` in the workflows folder, loaded and checked."""
        if not is_workflow_id(workflow_id):  # an id, never a path: nothing outside the folder
            raise NotFoundError(
                f"no workflow '{workflow_id}': a workflow id is lower_snake_case, like case_file_audit", kind="workflow", name=workflow_id
            )
        path = self.workflows().path / f"{workflow_id}.yaml"
        if not path.is_file():
            raise NotFoundError(f"no workflow '{workflow_id}': {path} does not exist", kind="workflow", name=workflow_id)
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

"""What the commands that run workflows share: who acts, what data they send, how JSON prints."""

from __future__ import annotations

import getpass
import json
import os
import stat
from pathlib import Path
from typing import Any

import click

from engine import Workflow, did_you_mean, read_yaml
from qaflow.errors import UsageError
from qaflow.setvalues import parse_sets


def reader_of(named: str | None) -> str:
    """The reader recorded in the access log: `--as`, else the operating-system user."""
    if named:
        return named
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (some containers)
        return f"os:uid-{os.getuid()}"


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


def actor_options(func: Any) -> Any:
    """`--as ID --role R...`: who acts. The CLI trusts these: it is an operator's tool."""
    func = click.option("--role", "roles", multiple=True, required=True, help="A role claimed (repeatable). Not authenticated.")(func)
    return click.option("--as", "actor_id", required=True, callback=_check_actor, help="The person acting (an id, never a name).")(func)


def _check_actor(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value or value != value.strip() or not value.isprintable():
        raise click.BadParameter("an actor id is printable text without surrounding spaces, such as aud-7")
    return value


def claimed_roles(workflow: Workflow, roles: tuple[str, ...]) -> frozenset[str]:
    """The `--role`s claimed, each one `workflow` declares: an undeclared one is a usage error
    (exit 2) with "did you mean". `system` passes, for the engine to refuse and log."""
    declared = workflow.spec.roles
    for role in roles:
        if role not in declared and role != "system":
            hint = did_you_mean(role, declared) or f"; its roles are {', '.join(sorted(declared))}"
            shown = role if len(role) <= 40 else role[:40] + "…"
            raise UsageError(f"--role {shown!r}: {workflow.id} declares no such role{hint}")
    return frozenset(roles)


def data_options(func: Any) -> Any:
    func = click.option("--clear", "clears", multiple=True, help="A field to empty (repeatable); `--set f=null` stores the word null.")(
        func
    )
    func = click.option("--assign", "assigns", multiple=True, help="role=person: assign a role on the instance (repeatable).")(func)
    func = click.option(
        "--data-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Event data as a YAML or JSON mapping."
    )(func)
    return click.option("--set", "sets", multiple=True, help="field=value, read by the field's type (repeatable).")(func)


def event_data(workflow: Workflow | None, sets: tuple[str, ...], data_file: Path | None, clears: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if data_file is not None:
        _check_data_file(data_file)
        try:
            text = data_file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{data_file} is not UTF-8 text") from exc
        doc = read_yaml(str(data_file), text)
        if doc.issues:
            raise UsageError(str(doc.issues[0]))
        if not isinstance(doc.value, dict):
            raise UsageError(f"{data_file} must hold a mapping of field: value")
        data.update(doc.value)
    data.update(parse_sets(workflow, sets, clears))
    return data


MAX_DATA_FILE_BYTES = 10_000_000  # bounded before reading; the engine then keeps at most 1 MB of an event (its payload limit)


def _check_data_file(path: Path) -> None:
    """A regular file of bounded size, checked before it is opened: `/dev/zero` would be read
    without end, and opening a FIFO waits for a writer that may never come."""
    try:
        found = path.stat()
    except OSError as exc:
        raise UsageError(f"can't read {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(found.st_mode):
        raise UsageError(f"{path} is not a regular file; --data-file reads a YAML or JSON file")
    if found.st_size > MAX_DATA_FILE_BYTES:
        raise UsageError(f"{path} is {found.st_size} bytes; a data file may be at most {MAX_DATA_FILE_BYTES}")

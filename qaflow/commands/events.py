"""Commands that change or judge instances: deploy, start, fire, available, explain.

Each parses its arguments, calls one engine method and renders the result, as plain lines
(people) or `--json` (tools). Errors are `QaflowError`s, turned into one line and an exit
code by `qaflow.cli`.
"""

from __future__ import annotations

from pathlib import Path

import click

from engine import Actor, load_workflow
from qaflow.app import Settings
from qaflow.commands.common import actor_options, claimed_roles, data_options, echo_json, event_data
from qaflow.commands.definitions import workflow_files
from qaflow.presentation.build import available_json, explain_json, fire_json, start_json
from qaflow.setvalues import parse_assignments


@click.command()
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_obj
def deploy(settings: Settings, directory: Path | None) -> None:
    """Store each workflow version in DIRECTORY (default: the workflows folder) that is not stored yet.

    A version already stored with a different definition is refused: bump `version`.
    """
    engine = settings.engine()
    for path in workflow_files([directory or settings.workflows().path]):
        workflow = load_workflow(path)
        record = engine.deploy(workflow)
        click.echo(f"{record.workflow} version {record.version} {record.hash[:12]}")


@click.command()
@click.argument("workflow")
@actor_options
@data_options
@click.option("--key", help="Idempotency key: the same key and request start nothing twice.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": ...}.')
@click.pass_obj
def start(
    settings: Settings,
    workflow: str,
    actor_id: str,
    roles: tuple[str, ...],
    sets: tuple[str, ...],
    data_file: Path | None,
    assigns: tuple[str, ...],
    clears: tuple[str, ...],
    key: str | None,
    as_json: bool,
) -> None:
    """Start an instance of WORKFLOW (deploying the file's version if it is not stored yet); prints its id."""
    definition = settings.workflow_file(workflow)
    claimed = claimed_roles(definition, roles)
    engine = settings.engine()
    engine.deploy(definition)
    data = event_data(definition, sets, data_file, clears)
    view = engine.start(
        workflow,
        Actor(actor_id, claimed),
        data,
        assign=parse_assignments(assigns, "--assign"),
        idempotency_key=key,
        version=definition.version,
    )
    if as_json:
        echo_json(start_json(view))
    else:
        click.echo(view.id)


@click.command()
@click.argument("instance")
@click.argument("trigger")
@actor_options
@data_options
@click.option("--comment", help="Why, in a sentence; kept in the history.")
@click.option("--key", help="Idempotency key: the same key and request change nothing twice.")
@click.option("--lock-version", type=int, help="Refuse as a conflict if the instance has moved on since.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def fire(
    settings: Settings,
    instance: str,
    trigger: str,
    actor_id: str,
    roles: tuple[str, ...],
    sets: tuple[str, ...],
    data_file: Path | None,
    assigns: tuple[str, ...],
    clears: tuple[str, ...],
    comment: str | None,
    key: str | None,
    lock_version: int | None,
    as_json: bool,
) -> None:
    """Send TRIGGER to INSTANCE as a person in one or more roles."""
    engine = settings.engine()
    deployed = engine.workflow_of(instance)
    claimed = claimed_roles(deployed, roles)
    data = event_data(deployed, sets, data_file, clears)
    result = engine.fire(
        instance,
        trigger,
        Actor(actor_id, claimed),
        data,
        assign=parse_assignments(assigns, "--assign"),
        comment=comment,
        idempotency_key=key,
        lock_version=lock_version,
    )
    if as_json:
        echo_json(fire_json(result))
        return
    moved = f"{result.from_state} -> {result.to_state}" if result.to_state else f"stays {result.state}"
    again = " (replayed: nothing changed)" if result.replayed else ""
    click.echo(f"{result.instance_id} {result.trigger} as {result.role}: {moved}; history row {result.seq}{again}")


@click.command()
@click.argument("instance")
@actor_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def available(settings: Settings, instance: str, actor_id: str, roles: tuple[str, ...], as_json: bool) -> None:
    """Triggers the actor may send to INSTANCE now (checks depend on the data: see `explain`)."""
    engine = settings.engine()
    found = engine.available(instance, Actor(actor_id, claimed_roles(engine.workflow_of(instance), roles)))
    rows = [available_json(option) for option in found]
    if as_json:
        echo_json(rows)
        return
    for option in found:
        targets = ", ".join(t or "(no change of state)" for t in option.targets)
        needs = f"; needs {', '.join(option.needs)}" if option.needs else ""
        click.echo(f"{option.trigger} as {option.role} -> {targets}{needs}")


@click.command()
@click.argument("instance")
@click.argument("trigger")
@actor_options
@data_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def explain(
    settings: Settings,
    instance: str,
    trigger: str,
    actor_id: str,
    roles: tuple[str, ...],
    sets: tuple[str, ...],
    data_file: Path | None,
    assigns: tuple[str, ...],
    clears: tuple[str, ...],
    as_json: bool,
) -> None:
    """Whether TRIGGER would be taken now, and why or why not. Exits 0 whenever it answers."""
    engine = settings.engine()
    deployed = engine.workflow_of(instance)
    claimed = claimed_roles(deployed, roles)
    data = event_data(deployed, sets, data_file, clears)
    found = engine.explain(instance, trigger, Actor(actor_id, claimed), data, assign=parse_assignments(assigns, "--assign"))
    if as_json:
        echo_json(explain_json(found))
    else:
        click.echo(found.summary())

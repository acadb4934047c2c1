"""Commands that read: show, history, list, verify, outbox; and `db upgrade`.

Reads of an instance (`show`, `history`) are recorded in the access log with the reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine import format_time
from qaflow.app import Settings
from qaflow.commands.common import echo_json, reader_of
from qaflow.errors import UsageError
from qaflow.presentation.build import history_json, is_refusal, list_row_json, outbox_json, show_json, verify_json
from qaflow.setvalues import parse_assignments
from storage import upgrade as upgrade_schema


@click.command()
@click.argument("instance")
@click.option("--as", "reader", help="Who is reading, for the access log (default: the operating-system user).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show(settings: Settings, instance: str, reader: str | None, as_json: bool) -> None:
    """Show INSTANCE: state, data, assignees and computed values."""
    view = settings.engine().show(instance, reader=reader_of(reader))
    shown = show_json(view)
    if as_json:
        echo_json(shown)
        return
    click.echo(f"{view.id}  {view.workflow} v{view.version}  state {view.state}  lock_version {view.lock_version}")
    for role, person in sorted(view.assignees.items()):
        click.echo(f"  {role}: {person}")
    for name, value in sorted(shown["data"].items()):
        click.echo(f"  {name} = {json.dumps(value, ensure_ascii=False)}")
    for name, value in sorted(shown["computed"].items()):
        click.echo(f"  ({name}) = {json.dumps(value, ensure_ascii=False)}")


@click.command()
@click.argument("instance")
@click.option("--as", "reader", help="Who is reading, for the access log (default: the operating-system user).")
@click.option("--refusals", is_flag=True, help="Interleave refused attempts from the security log.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def history(settings: Settings, instance: str, reader: str | None, refusals: bool, as_json: bool) -> None:
    """The history of INSTANCE, one row per event."""
    engine = settings.engine()
    entries = engine.history(instance, reader=reader_of(reader))
    rows = history_json(entries, engine.refusals(instance) if refusals else None)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        if is_refusal(row):
            click.echo(f"   - {row['at']}  {row['actor']}  REFUSED {row['trigger']}: {row['message']}")
            continue
        moved = f"{row['from'] or '(start)'} -> {row['to']}" if row["to"] else f"{row['from']} (no change of state)"
        changed = f"  changes: {', '.join(sorted(row['changes']))}" if row["changes"] else ""
        click.echo(f"{row['seq']:>4}  {row['at']}  {row['actor']} as {row['role']}  {row['trigger']}: {moved}{changed}")


@click.command(name="list")
@click.option("--workflow")
@click.option("--state")
@click.option("--limit", type=click.IntRange(min=0, max=1_000_000), default=100, show_default=True, help="0 for all.")
@click.option("--after", help="An id: list the instances after it (for paging).")
@click.option("--assignee", help="Only instances where this person is assigned a role.")
@click.option("--where", "wheres", multiple=True, help="NAME=VALUE: only instances whose computed value NAME is VALUE (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(
    settings: Settings,
    workflow: str | None,
    state: str | None,
    limit: int,
    after: str | None,
    assignee: str | None,
    wheres: tuple[str, ...],
    as_json: bool,
) -> None:
    """List instances, oldest first."""
    where = parse_assignments(wheres, "--where")
    records = settings.engine().instances(workflow=workflow, state=state, assignee=assignee, where=where, after=after, limit=limit)
    rows = [list_row_json(record) for record in records]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']}  {row['workflow']} v{row['version']}  {row['state']}  {row['updated_at']}")


@click.command()
@click.argument("instance", required=False)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a digest of every chain head to FILE, to keep outside the database.",
)
@click.option(
    "--against",
    "against_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also compare with a checkpoint FILE: find deleted instances and rewritten histories.",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def verify(settings: Settings, instance: str | None, checkpoint_file: Path | None, against_file: Path | None, as_json: bool) -> None:
    """Recompute every history chain (or INSTANCE's) and compare replayed history with each instance.

    Exits 1 when any chain is broken, naming the instance and its first bad row, or when
    --against finds an instance deleted or a history rewritten since the checkpoint.
    """
    if checkpoint_file and against_file:
        raise UsageError("--checkpoint and --against go in separate runs")
    engine = settings.engine()
    report = engine.verify(instance)
    findings = []
    if against_file is not None:
        try:
            saved = json.loads(against_file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"{against_file} is not a qaflow checkpoint: {exc}") from exc
        except OSError as exc:
            raise UsageError(f"can't read the checkpoint {against_file}: {exc.strerror or exc}") from exc
        findings = engine.verify_against(saved)
    if checkpoint_file is not None:
        try:
            checkpoint_file.write_text(json.dumps(engine.checkpoint(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"can't write the checkpoint to {checkpoint_file}: {exc.strerror or exc}") from exc
    if as_json:
        echo_json(verify_json(report, findings))
    else:
        for check in report.broken:
            click.echo(f"BROKEN {check.instance_id}: row {check.first_bad_seq}: {check.problem}")
        for finding in findings:
            click.echo(f"CHANGED {finding.instance_id}: {finding.problem}")
        redacted = sum(c.status == "redacted" for c in report.instances)
        click.echo(f"{len(report.instances)} instance(s) checked: {len(report.broken)} broken, {redacted} redacted")
        if against_file is not None:
            click.echo(f"against {against_file}: {len(findings)} instance(s) deleted or rewritten since the checkpoint")
        if checkpoint_file is not None:
            click.echo(f"checkpoint written to {checkpoint_file}: keep it outside the database")
    if not report.ok or findings:
        raise SystemExit(1)


@click.command()
@click.option("--pending", is_flag=True, help="Only messages not sent yet.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def outbox(settings: Settings, pending: bool, as_json: bool) -> None:
    """Messages for people written by `notify` effects, oldest first."""
    messages = settings.engine().outbox(pending_only=pending)
    rows = [outbox_json(message) for message in messages]
    if as_json:
        echo_json(rows)
        return
    for message in messages:
        to = ", ".join(message.recipients) or ", ".join(message.roles)
        flag = " URGENT" if message.urgent else ""
        click.echo(f"{format_time(message.created_at)}  {message.status}{flag}  to {to}: {message.message or message.template}")


@click.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.pass_obj
def upgrade(settings: Settings) -> None:
    """Create or upgrade the database schema to the latest migration."""
    upgrade_schema(settings.db_url)
    click.echo(f"database at the latest schema: {settings.db_url}")

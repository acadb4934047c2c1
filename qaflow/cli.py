"""The `qaflow` command: global options, the command list, and the one place errors are caught.

Every command parses its arguments, calls one library function and renders the result.
A `QaflowError` becomes one line on stderr and its documented exit code (DESIGN §6):
0 done; 1 refused or invalid; 2 usage; 3 not found; 4 conflict. `--debug` re-raises it.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from engine import ConflictError, InvalidActorError, NotFoundError, QaflowError, WorkflowValidationError
from qaflow.app import Settings, parse_now
from qaflow.commands import definitions, events, reads
from qaflow.errors import UsageError


class QaflowGroup(click.Group):
    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's main, but a usage error is one line too (`Error: ...`, exit 2), not a usage page."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QaflowError as exc:
            if ctx.params.get("debug") or (isinstance(ctx.obj, Settings) and ctx.obj.debug):
                raise
            if isinstance(exc, WorkflowValidationError):
                for issue in exc.issues:
                    click.echo(str(issue), err=True)
            else:
                # one line, whatever the message repeats from the user's input
                click.echo(f"Error: {one_line(str(exc))}", err=True)
            ctx.exit(exit_code(exc))


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def exit_code(exc: QaflowError) -> int:
    if isinstance(exc, (UsageError, InvalidActorError)):
        return 2
    if isinstance(exc, NotFoundError):
        return 3
    if isinstance(exc, ConflictError):
        return 4
    return 1


@click.group(cls=QaflowGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--workflows",
    "workflows_dir",
    envvar="QAFLOW_WORKFLOWS",
    default=None,
    show_default="./workflows if it exists, else the installed catalogue",
    type=click.Path(file_okay=False),
    help="Folder of workflow files (or QAFLOW_WORKFLOWS).",
)
@click.option(
    "--db",
    "db_url",
    envvar="QAFLOW_DB",
    default="sqlite:///qaflow.db",
    show_default=True,
    help="Database URL (or QAFLOW_DB): sqlite:///FILE or postgresql+psycopg://...",
)
@click.option("--now", help="Run as if it were this time (ISO 8601 with Z or an offset); needs --allow-clock-override.")
@click.option("--allow-clock-override", is_flag=True, help="Allow --now (tests, demonstrations, recovery).")
@click.option("--debug", is_flag=True, help="Show the traceback of an error instead of one line.")
@click.version_option(package_name="qaflow")
@click.pass_context
def cli(ctx: click.Context, workflows_dir: str | None, db_url: str, now: str | None, allow_clock_override: bool, debug: bool) -> None:
    """qaflow: quality-assurance workflows for children's social care, as YAML state machines.

    The command line is an operator's tool with direct database access: --role claims roles
    without authentication.
    """
    if now is not None and not allow_clock_override:
        raise click.UsageError("--now moves the clock only with --allow-clock-override")
    ctx.obj = Settings(db_url=db_url, workflows_dir=workflows_dir, now=parse_now(now) if now else None, debug=debug)
    ctx.call_on_close(ctx.obj.close)


for command in (definitions.validate, definitions.schema, definitions.init, definitions.diagram, *events.COMMANDS, *reads.COMMANDS):
    cli.add_command(command)


def main() -> None:
    sys.exit(cli.main(prog_name="qaflow", standalone_mode=True))

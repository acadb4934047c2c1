"""The `qaflow` command: global options, the command list, and the one place errors are caught.

Every command parses its arguments, calls one library function and renders the result.
A `QaflowError` becomes one line on stderr and its documented exit code (DESIGN §6):
0 done; 1 refused or invalid; 2 usage; 3 not found; 4 conflict. `--debug` re-raises it.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from engine.errors import ConflictError, NotFoundError, QaflowError
from qaflow.commands import definitions


class QaflowGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QaflowError as exc:
            if ctx.params.get("debug"):
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exit_code(exc))


def exit_code(exc: QaflowError) -> int:
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
    default="workflows",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of workflow files (or QAFLOW_WORKFLOWS).",
)
@click.option("--debug", is_flag=True, help="Show the traceback of an error instead of one line.")
@click.version_option(package_name="qaflow")
@click.pass_context
def cli(ctx: click.Context, workflows_dir: str, debug: bool) -> None:
    """qaflow: quality-assurance workflows for children's social care, as YAML state machines."""
    ctx.obj = {"workflows_dir": workflows_dir, "debug": debug}


cli.add_command(definitions.validate)
cli.add_command(definitions.schema)
cli.add_command(definitions.diagram)


def main() -> None:
    sys.exit(cli.main(prog_name="qaflow", standalone_mode=True))

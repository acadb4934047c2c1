"""The `qaflow` command: global options, the command list, and the one place errors are caught.

Every command parses its arguments, calls one library function and renders the result.
A `QaflowError` becomes one line on stderr and its documented exit code (DESIGN §6):
0 done; 1 refused or invalid (a workflow with errors, a broken chain, a registered
function that failed, a request the database refused); 2 usage (a malformed argument, an
actor or request argument the engine refuses); 3 not found; 4 conflict; 5 the database can't
be used (unreachable, corrupt, missing, a schema from another version). `--debug` re-raises it.
Anything else is a bug and keeps its traceback.

The group is lazy (QUALITY.md P8): `COMMANDS` names each command's module and short help, so
`qaflow --help` lists the commands without importing any of them (nor the engine, nor the
database code), and a command's module is imported only when that command runs. The engine's
errors are imported where an error is handled: a command that raised a `QaflowError` has
loaded them already.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from engine import QaflowError

# name -> (module, attribute, short help), in the order the modules define them. The help is
# the first sentence of the command's docstring, as click would shorten it; a test holds the
# two equal, and checks that `qaflow --help` reads as it would with every command imported.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("qaflow.commands.definitions", "validate", "Check workflow files (or folders of them) and list every problem."),
    "schema": ("qaflow.commands.definitions", "schema", "Print the JSON Schema of workflow files (for editor completion)."),
    "diagram": (
        "qaflow.commands.definitions",
        "diagram",
        "Draw WORKFLOW's states and transitions (Mermaid stateDiagram-v2, or Graphviz DOT).",
    ),
    "init": ("qaflow.commands.definitions", "init", "Copy the shipped workflow catalogue into DIRECTORY (default: ./workflows) to edit."),
    "deploy": (
        "qaflow.commands.events",
        "deploy",
        "Store each workflow version in DIRECTORY (default: the workflows folder) that is not stored yet.",
    ),
    "start": (
        "qaflow.commands.events",
        "start",
        "Start an instance of WORKFLOW (deploying the file's version if it is not stored yet); prints its id.",
    ),
    "fire": ("qaflow.commands.events", "fire", "Send TRIGGER to INSTANCE as a person in one or more roles."),
    "available": (
        "qaflow.commands.events",
        "available",
        "Triggers the actor may send to INSTANCE now (checks depend on the data: see `explain`).",
    ),
    "explain": ("qaflow.commands.events", "explain", "Whether TRIGGER would be taken now, and why or why not."),
    "show": ("qaflow.commands.reads", "show", "Show INSTANCE: state, data, assignees and computed values."),
    "history": ("qaflow.commands.reads", "history", "The history of INSTANCE, one row per event."),
    "list": ("qaflow.commands.reads", "list_", "List instances, oldest first."),
    "verify": (
        "qaflow.commands.reads",
        "verify",
        "Recompute every history chain (or INSTANCE's) and compare replayed history with each instance.",
    ),
    "outbox": ("qaflow.commands.reads", "outbox", "Messages for people written by `notify` effects, oldest first."),
    "db": ("qaflow.commands.reads", "db", "Database schema."),
}


class QaflowGroup(click.Group):
    """A click group whose commands are imported on first use, listed from `COMMANDS` till then."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in COMMANDS:
            module, attribute, _ = COMMANDS[cmd_name]
            command = getattr(_command_module(module), attribute)
            if not isinstance(command, click.Command):  # pragma: no cover - the table names commands
                raise TypeError(f"{module}.{attribute} is not a click command")
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `--help` as click writes it, taking the help of commands not imported yet from `COMMANDS`."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # a stand-in with the table's help shortens it exactly as click shortens a docstring
            command = self.commands.get(name) or click.Command(name, help=COMMANDS[name][2])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
        given = list(args) if args is not None else sys.argv[1:]
        for position, arg in enumerate(given, start=1):
            if not_utf8(arg):
                click.echo(f"Error: argument {position} is not UTF-8 text; give every argument as UTF-8", err=True)
                sys.exit(2)
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
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # main() above turns these into one line
        except Exception as exc:
            from engine import QaflowError, WorkflowValidationError
            from qaflow.app import Settings

            if not isinstance(exc, QaflowError):
                raise
            if ctx.params.get("debug") or (isinstance(ctx.obj, Settings) and ctx.obj.debug):
                raise
            if isinstance(exc, WorkflowValidationError):
                for issue in exc.issues:
                    click.echo(str(issue), err=True)
            else:
                # one line, whatever the message repeats from the user's input
                click.echo(f"Error: {one_line(str(exc))}", err=True)
            ctx.exit(exit_code(exc))


def _command_module(name: str) -> ModuleType:
    """A module of commands, by static imports only (R9: nothing imports a computed name)."""
    if name == "qaflow.commands.definitions":
        from qaflow.commands import definitions

        return definitions
    if name == "qaflow.commands.events":
        from qaflow.commands import events

        return events
    if name == "qaflow.commands.reads":
        from qaflow.commands import reads

        return reads
    raise LookupError(f"no command module {name!r}")  # pragma: no cover - the table names these three


def not_utf8(arg: str) -> bool:
    """Whether a command-line argument came from bytes that are not UTF-8: Python keeps such
    bytes as lone surrogates (`surrogateescape`), which nothing can store or hash."""
    return not arg.isascii() and any("\ud800" <= char <= "\udfff" for char in arg)


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def exit_code(exc: QaflowError) -> int:
    from engine import ConflictError, InvalidActorError, InvalidRequestError, NotFoundError, StorageError
    from qaflow.errors import UsageError

    if isinstance(exc, (UsageError, InvalidActorError, InvalidRequestError)):
        return 2
    if isinstance(exc, NotFoundError):
        return 3
    if isinstance(exc, ConflictError):
        return 4
    if isinstance(exc, StorageError) and exc.unusable:
        return 5  # the database can't be used: unreachable, corrupt, missing, another schema
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
    from qaflow.app import Settings, parse_now  # the engine's names, once a command runs

    if now is not None and not allow_clock_override:
        raise click.UsageError("--now moves the clock only with --allow-clock-override")
    ctx.obj = Settings(db_url=db_url, workflows_dir=workflows_dir, now=parse_now(now) if now else None, debug=debug)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    sys.exit(cli.main(prog_name="qaflow", standalone_mode=True))

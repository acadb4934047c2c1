"""QUALITY.md P8's behavioural guard: what each command imports, never how long it takes.

Each command runs in a fresh interpreter (the import state of this test process says nothing)
and prints the modules it loaded: `--help` loads neither the engine nor the database code,
`validate` no database code, `show` no alembic, and only `db` loads alembic. The speed itself
is measured by `make bench` (benchmarks/p8_cli.py).

Also: `qaflow --help` lists the commands from `qaflow.cli.COMMANDS` exactly as click would
list them with every command imported, and every command is in that table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from qaflow.cli import COMMANDS, cli
from qaflow.commands import definitions, events, reads
from tests.cli_support import start_args

ROOT = Path(__file__).resolve().parents[2]
DATABASE = ("sqlalchemy", "psycopg", "alembic", "storage")

# runs the command as `qaflow` does, then prints every module the process loaded
PROBE = """
import json, sys
from qaflow.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="qaflow", standalone_mode=True)
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(*args: str, db_url: str = "sqlite:///unused.db") -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--db", db_url, "--workflows", str(ROOT / "workflows"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    return {name.split(".")[0] for name in report["modules"]}


def test_help_loads_neither_the_engine_nor_the_database() -> None:
    packages = loaded("--help")
    assert not packages & {"engine", "pydantic", "yaml", "transitions", "holidays", *DATABASE}
    assert {"qaflow", "click"} <= packages  # the probe did run the command line


def test_validate_loads_no_database_code() -> None:
    packages = loaded("validate", str(ROOT / "workflows"))
    assert not packages & set(DATABASE)
    assert not packages & {"holidays", "transitions"}  # no working days are counted, no machine built
    assert "engine" in packages


def test_show_loads_no_alembic(sqlite_url: str) -> None:
    runner = CliRunner()
    started = runner.invoke(cli, ["--db", sqlite_url, "--workflows", str(ROOT / "workflows"), *start_args()])
    assert started.exit_code == 0, started.stderr
    packages = loaded("show", started.stdout.strip(), "--as", "tester", db_url=sqlite_url)
    assert not packages & {"alembic", "mako", "pygments", "psycopg"}  # psycopg only for PostgreSQL URLs
    assert {"engine", "storage", "sqlalchemy", "transitions"} <= packages


def test_only_db_loads_alembic(tmp_path: Path) -> None:
    assert "alembic" in loaded("db", "upgrade", db_url=f"sqlite:///{tmp_path / 'new.db'}")


def test_every_command_is_in_the_table_under_its_own_name() -> None:
    modules = {"qaflow.commands.definitions": definitions, "qaflow.commands.events": events, "qaflow.commands.reads": reads}
    for name, (module, attribute, short_help) in COMMANDS.items():
        command = getattr(modules[module], attribute)
        assert command.name == name
        assert short_help == command.get_short_help_str(limit=10_000), f"COMMANDS[{name!r}] differs from the command's help"
    assert sorted(COMMANDS) == sorted(command.name for command in defined_commands())


def defined_commands() -> list[click.Command]:
    """Every top-level click command the command modules define (one left out of the table
    shows here); a group's subcommands, such as `db upgrade`, belong to their group."""
    found = [value for module in (definitions, events, reads) for value in vars(module).values() if isinstance(value, click.Command)]
    inside = {id(sub) for group in found if isinstance(group, click.Group) for sub in group.commands.values()}
    return [command for command in found if id(command) not in inside]


@pytest.mark.parametrize("width", [80, 100, 200])
def test_help_lists_the_commands_as_click_would_with_every_command_imported(width: int) -> None:
    eager = click.Group(name=cli.name, params=cli.params, help=cli.help, context_settings=cli.context_settings)
    for command in defined_commands():
        eager.add_command(command)
    lazy = type(cli)(name=cli.name, params=cli.params, help=cli.help, context_settings=cli.context_settings)
    expected = CliRunner().invoke(eager, ["--help"], terminal_width=width)
    got = CliRunner().invoke(lazy, ["--help"], terminal_width=width)
    assert got.exit_code == expected.exit_code == 0
    assert got.stdout == expected.stdout

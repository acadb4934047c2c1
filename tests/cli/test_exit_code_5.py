"""Exit code 5: the database can't be used (DESIGN §6) — one line, never a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from qaflow.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def run(db_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--workflows", str(ROOT / "workflows"), "--db", db_url, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stderr


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a SQLite database, only bytes " * 200)


def _no_schema(path: Path) -> None:
    sqlite3.connect(path).close()  # an empty SQLite file: no qaflow tables


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (None, "no database at"),
        (_no_schema, "no qaflow schema"),
        (_garbage, ""),
    ],
    ids=["missing", "no-schema", "corrupt"],
)
def test_a_sqlite_database_that_cannot_be_used_exits_5(tmp_path: Path, make: object, says: str) -> None:
    path = tmp_path / "qaflow.db"
    if callable(make):
        make(path)
    for command in (["show", "01a24293-a335-736b-a7cd-861ab3b05fbe"], ["list"], ["verify"]):
        code, err = run(f"sqlite:///{path}", *command)
        assert code == 5, (command, err)
        assert err.startswith("Error: ") and err.count("\n") == 1 and says in err, err


def test_a_url_qaflow_cannot_use_exits_5() -> None:
    code, err = run("mysql://root@localhost/qaflow", "list")
    assert code == 5 and err.startswith("Error: unsupported database"), err


def test_an_unreachable_postgresql_exits_5() -> None:
    code, err = run("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2", "list")
    assert code == 5 and err.startswith("Error: ") and err.count("\n") == 1, err


def test_a_refusal_is_still_exit_1_and_a_missing_instance_3(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'qaflow.db'}"
    assert run(url, "db", "upgrade")[0] == 0
    code, _ = run(url, "show", "01a24293-a335-736b-a7cd-861ab3b05fbe")
    assert code == 3

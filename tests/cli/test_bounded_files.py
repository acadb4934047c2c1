"""Files named on the command line are checked before they are opened (issue 8, DESIGN §4.10):
`--data-file` takes a regular file of bounded size (`/dev/zero` would be read without end, a
FIFO would wait for ever), and a checkpoint path that can't be read or written is one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from qaflow.cli import cli
from tests.cli_support import start_args

ROOT = Path(__file__).resolve().parents[2]


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--workflows", str(ROOT / "workflows"), "--db", url, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stderr


@pytest.fixture
def url(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    assert run(db, "db", "upgrade")[0] == 0
    return db


def test_a_data_file_that_is_a_device_is_refused_unread(url: str) -> None:
    code, err = run(url, *start_args(), "--data-file", "/dev/zero")
    assert code == 2 and "is not a regular file" in err and err.count("\n") == 1, err


def test_a_data_file_that_is_a_fifo_is_refused_without_waiting(url: str, tmp_path: Path) -> None:
    fifo = tmp_path / "data.fifo"
    os.mkfifo(fifo)
    code, err = run(url, *start_args(), "--data-file", str(fifo))
    assert code == 2 and "is not a regular file" in err, err


def test_a_data_file_too_large_is_refused_unread(url: str, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as out:
        out.truncate(20_000_000)  # sparse: its size is known without writing it
    code, err = run(url, *start_args(), "--data-file", str(big))
    assert code == 2 and "may be at most 10000000" in err, err


def test_a_checkpoint_path_that_cannot_be_written_or_read_is_one_line(url: str) -> None:
    code, err = run(url, "verify", "--checkpoint", "/nonexistent/folder/cp.json")
    assert code == 2 and err.startswith("Error: can't write the checkpoint") and err.count("\n") == 1, err
    code, err = run(url, "verify", "--against", "/nonexistent/folder/cp.json")
    assert code == 2 and err.count("\n") == 1, err

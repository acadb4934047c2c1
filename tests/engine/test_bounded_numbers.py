"""Numbers are bounded where they enter (issue 8, DESIGN §4.10): `1e999999999` is eleven
characters but a billion digits once written out; an integer of 5,000 digits can't even be
written out by Python. Each is a refusal naming the field, in bounded memory."""

from __future__ import annotations

import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

from engine import Actor, Engine, MemoryStore, TransitionRefusedError, load_workflow_text
from engine.canonical import CanonicalError, decimal_text

WORKFLOW = """
workflow: sums
version: 1
roles:
  clerk: Records amounts
fields:
  ref: {type: string, required: true}
  amount: {type: number}
  tally: {type: integer}
start:
  by: [clerk]
  writes: [amount, tally]
initial: open
states:
  open:
  done: {final: true}
transitions:
  - trigger: close
    from: open
    to: done
    by: [clerk]
"""
CLERK = Actor("cl-1", frozenset({"clerk"}))


@pytest.fixture
def engine() -> Engine:
    engine = Engine(MemoryStore())
    engine.deploy(load_workflow_text("sums.yaml", WORKFLOW))
    return engine


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "1e999999999"),
        ("amount", "1e99999"),
        ("amount", Decimal("1e-99999")),
        ("amount", "9" * 5000),
        ("amount", 10**5000),
        ("tally", 10**5000),
        ("amount", "NaN"),
    ],
    ids=["huge-exponent", "large-exponent", "tiny", "long-text", "long-int-as-number", "long-int", "nan"],
)
def test_a_number_too_large_to_write_out_is_refused_in_bounded_memory(engine: Engine, field: str, value: object) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TransitionRefusedError) as refused:
            engine.start("sums", CLERK, {"ref": "R-1", field: value})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.codes == ("invalid_value",), refused.value
    assert peak < 5_000_000, peak  # memory, not time: a bound that holds on any machine
    assert engine.instances() == []


def test_numbers_of_ordinary_size_are_kept_exactly(engine: Engine) -> None:
    view = engine.start("sums", CLERK, {"ref": "R-1", "amount": "1234567.890123", "tally": 10**30})
    assert view.data["amount"] == Decimal("1234567.890123") and view.data["tally"] == 10**30


def test_writing_out_a_number_is_bounded_whatever_made_it() -> None:
    assert decimal_text(Decimal("1E+3")) == "1000"
    with pytest.raises(CanonicalError, match="too large to write out"):
        decimal_text(Decimal("1e999999999"))


def test_the_command_line_refuses_them_too(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from qaflow.cli import cli

    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "sums.yaml").write_text(WORKFLOW, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'q.db'}"
    base = ["--workflows", str(folder), "--db", url]
    assert CliRunner().invoke(cli, [*base, "db", "upgrade"]).exit_code == 0
    for value in ("amount=1e999999999", "tally=" + "9" * 5000):
        result = CliRunner().invoke(cli, [*base, "start", "sums", "--as", "cl-1", "--role", "clerk", "--set", "ref=R-1", "--set", value])
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.stderr.count("\n") == 1 and "refused" in result.stderr

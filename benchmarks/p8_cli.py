"""P8: command-line latency, whole process: `qaflow --help`, `show ID` and `validate workflows`.

Bars (QUALITY.md): `qaflow --help` at most 4x `python -c pass`; `qaflow show ID` and
`qaflow validate workflows` at most 1.5x `python -c "import sqlalchemy"` (the heaviest library
a read needs). Each figure is the median of 7 whole-process runs, qaflow and its baseline
turn about, with the same interpreter (the venv's), so start-up costs and machine noise hit
both alike. `show` reads one case file audit instance from a SQLite database this benchmark
creates in a temporary folder (with the same start arguments as the walkthrough).

qaflow's own modules are byte-compiled first, as an installed package's are (the libraries in
the venv were compiled when pip installed them): with PYTHONDONTWRITEBYTECODE set, an editable
install would otherwise compile qaflow from source on every run, and the figure would measure
Python's compiler.
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.harness import Figure

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7

CASE_FILE_AUDIT = [
    "start",
    "case_file_audit",
    "--as",
    "qa-lead-1",
    "--role",
    "qa_lead",
    *("--set", "child_ref=CF-2041", "--set", "case_type=cp", "--set", "team=North"),
    *("--set", "case_status=open", "--set", "selection_method=random"),
    *("--assign", "practitioner=sw-12", "--assign", "team_manager=tm-3"),
]


def qaflow_command() -> list[str]:
    """The `qaflow` console script beside this interpreter (as a user runs it), else `python -m qaflow`."""
    script = Path(sys.executable).with_name("qaflow")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "qaflow"]


def _run(argv: Sequence[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def _seconds(argv: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def side_by_side(ours: Sequence[str], baseline: Sequence[str], env: dict[str, str], runs: int = RUNS) -> tuple[float, float]:
    """Medians of `runs` whole-process runs of each command, turn about (after one warm-up of each)."""
    _seconds(ours, env)
    _seconds(baseline, env)
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        mine.append(_seconds(ours, env))
        theirs.append(_seconds(baseline, env))
    return statistics.median(mine), statistics.median(theirs)


def run() -> list[Figure]:
    for package in ("engine", "storage", "qaflow"):
        compileall.compile_dir(ROOT / package, quiet=1)
    qaflow = qaflow_command()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="qaflow-p8-") as folder:
        env = {**os.environ, "QAFLOW_DB": f"sqlite:///{Path(folder) / 'p8.db'}", "QAFLOW_WORKFLOWS": str(ROOT / "workflows")}
        env.pop("QAFLOW_HISTORY_KEY", None)
        _run([*qaflow, "db", "upgrade"], env)
        _run([*qaflow, "deploy"], env)
        instance = _run([*qaflow, *CASE_FILE_AUDIT], env).strip()
        cases = [
            ("--help", [*qaflow, "--help"], [python, "-c", "pass"], "python -c pass", 4.0),
            ("show ID", [*qaflow, "show", instance, "--as", "bench"], [python, "-c", "import sqlalchemy"], "import sqlalchemy", 1.5),
            ("validate workflows", [*qaflow, "validate", "workflows"], [python, "-c", "import sqlalchemy"], "import sqlalchemy", 1.5),
        ]
        figures = []
        for name, ours, baseline, against, bar in cases:
            mine, theirs = side_by_side(ours, baseline, env)
            what = f"qaflow {name} vs {against}, whole process, median of {RUNS}"
            figures.append(Figure("P8", what, mine * 1000, theirs * 1000, f"<= {bar}x", mine <= bar * theirs))
        return figures

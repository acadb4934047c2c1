"""P5: validating and compiling every shipped workflow vs PyYAML's pure-Python SafeLoader reading them.

Bar (QUALITY.md): qaflow's in-process `validate` + compile is at most 10x the baseline.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from benchmarks.harness import Figure, interleaved_medians
from engine.expressions.functions import default_functions
from engine.language.loader import load_workflow_text

ROOT = Path(__file__).resolve().parent.parent


def shipped() -> list[tuple[str, str]]:
    files = sorted(p for p in (ROOT / "workflows").glob("*.yaml") if p.name != "programme.yaml")
    return [(str(p), p.read_text(encoding="utf-8")) for p in files]


def run() -> Figure:
    files = shipped()
    functions = default_functions()

    def ours() -> None:
        for path, text in files:
            load_workflow_text(path, text, functions, expected_id=Path(path).stem)

    def baseline() -> None:
        for _, text in files:
            yaml.load(text, Loader=yaml.SafeLoader)

    ours()  # warm caches (calendars, regex compilation) as a running process would have them
    mine, theirs = interleaved_medians(ours, baseline, runs=9, inner=5)
    ratio = mine / theirs
    return Figure("P5", f"validate + compile {len(files)} shipped workflow(s)", mine * 1000, theirs * 1000, "<= 10x", ratio <= 10)

"""QUALITY.md R3: a corpus of broken workflow files, each breaking one rule, each reported on its line.

Every file in `workflows/` is `base.yaml` with one thing broken, and says what the loader must
report in its first line:

    # expect: CODE LINE            an error with this code on this 1-based line
    # expect: CODE LINE:COL        ... and at this 1-based column

An optional second line lists other errors the break unavoidably causes, on other lines:

    # also: CODE LINE, CODE LINE

Any other error on another line fails the test. Warnings are not counted (a declaration the
break leaves unused may warn). Each file's `workflow:` is its file name, so the id check never
fires by accident.

Files the loader gets wrong are kept in `suspected/` (with the same header) until the loader
is fixed; nothing collects them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.errors import Issue, WorkflowValidationError
from engine.language.loader import load_workflow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BASE = HERE / "base.yaml"
CORPUS = HERE / "workflows"
FILES = sorted(CORPUS.glob("*.yaml"))

# Speed is measured in `make bench` (P5, P8), never asserted here: a test that passes on a quiet
# machine and fails on a loaded one blocks every landing (QUALITY.md).

# A fixed sample through the CLI, one from each part of the corpus.
CLI_SAMPLE = (
    "c001_yaml_tab_indent",
    "c030_not_utf8",
    "c042_unknown_key_notify_body",
    "c070_states_as_list",
    "c109_unknown_state_initial",
    "c163_recursive_type",
    "c185_bad_duration_unit_typo",
    "c235_expr_not_in_scale",
)

_EXPECT = re.compile(r"# expect: (?P<code>[a-z0-9_]+) (?P<line>\d+)(?::(?P<col>\d+))?")
_ALSO = re.compile(r"# also: (?P<items>[a-z0-9_]+ \d+(?:, [a-z0-9_]+ \d+)*)")


@dataclass(frozen=True)
class Expectation:
    code: str
    line: int
    col: int | None
    also: frozenset[tuple[str, int]]

    def where(self) -> str:
        return f"{self.line}:{self.col}" if self.col is not None else f"{self.line}"


def expectation(path: Path) -> Expectation:
    """The header of a corpus file (read as bytes: some files are deliberately not UTF-8)."""
    first, second = [*path.read_bytes().split(b"\n", 2), b"", b""][:2]
    match = _EXPECT.fullmatch(first.decode("ascii").rstrip())
    assert match, f"{path.name}: the first line must be '# expect: CODE LINE[:COL]'"
    also: set[tuple[str, int]] = set()
    if second.startswith(b"# also:"):
        also_match = _ALSO.fullmatch(second.decode("ascii").rstrip())
        assert also_match, f"{path.name}: the second line must be '# also: CODE LINE, CODE LINE, ...'"
        for item in also_match.group("items").split(", "):
            code, line = item.split(" ")
            also.add((code, int(line)))
    col = match.group("col")
    return Expectation(match.group("code"), int(match.group("line")), int(col) if col else None, frozenset(also))


def describe(issues: list[Issue]) -> str:
    return "\n".join(f"  {issue.line}:{issue.col} {issue.severity} [{issue.code}] {issue.message}" for issue in issues)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_each_broken_file_is_reported_on_its_line(path: Path) -> None:
    expected = expectation(path)
    with pytest.raises(WorkflowValidationError) as caught:
        load_workflow(path)
    issues = caught.value.issues
    errors = [issue for issue in issues if issue.is_error]
    report = describe(issues)

    assert all(issue.path == str(path) and issue.line >= 1 and issue.col >= 1 for issue in issues), report
    assert any(issue.code == expected.code and issue.line == expected.line and expected.col in (None, issue.col) for issue in errors), (
        f"expected [{expected.code}] at {expected.where()}, got:\n{report}"
    )
    stray = [issue for issue in errors if issue.line != expected.line and (issue.code, issue.line) not in expected.also]
    assert not stray, f"errors on other lines than {expected.line} (not listed in '# also:'):\n{describe(stray)}"
    for code, line in sorted(expected.also):
        assert any(issue.code == code and issue.line == line for issue in errors), f"'# also: {code} {line}' not reported:\n{report}"


def test_the_corpus_is_large_and_varied() -> None:
    codes = {expectation(path).code for path in FILES}
    assert len(FILES) >= 100, len(FILES)
    assert len(codes) >= 45, sorted(codes)
    assert len({path.stem for path in FILES}) == len(FILES)


def test_the_base_workflow_is_valid_without_warnings() -> None:
    workflow = load_workflow(BASE)
    assert workflow.id == "base"
    assert workflow.warnings == ()


@pytest.mark.parametrize("name", CLI_SAMPLE)
def test_a_sample_through_the_command_line(name: str) -> None:
    path = CORPUS / f"{name}.yaml"
    assert path in FILES, f"{name} is not in the corpus"
    expected = expectation(path)
    result = subprocess.run(
        [sys.executable, "-m", "qaflow", "validate", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=ROOT,
        timeout=300,  # a hang guard only, far beyond any real run
        check=False,
    )
    assert result.returncode == 1, result
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    prefix = f"{path}:{expected.line}:" + (f"{expected.col}:" if expected.col is not None else "")
    assert any(line.startswith(prefix) and f"error [{expected.code}]" in line for line in result.stdout.splitlines()), (
        f"no '{prefix} ... error [{expected.code}]' in:\n{result.stdout}"
    )

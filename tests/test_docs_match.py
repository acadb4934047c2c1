"""README.md and docs/ name only what exists: commands, options, modules, files, codes.

Every `qaflow ...` command line, `engine.x` / `storage.x` dotted path, repository path,
`make` target, `QAFLOW_*` variable and lint code written as code in the docs (inline or in
a fenced block) is checked against the code itself: the click command tree, imports, the
file system, the Makefile. Something DESIGN describes but that is not built may be named
only on a line that says "planned" or under a heading that does. The embedding guide
imports from the public API only. The second half keeps docstrings and comments about what
the code does: none names a future issue.

Each check is a function from a document's text to a list of problems, so the tests at the
end can show that every one of them fails on a real drift.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

import engine
from engine import load_workflow, render_diagram
from qaflow.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
PLANNED = re.compile(r"\bplanned\b", re.IGNORECASE)


# --- reading the code out of markdown ------------------------------------------------------


@dataclass(frozen=True)
class Code:
    """One piece of code in a document: an inline span, or one line of a fenced block."""

    doc: Path
    line: int
    text: str
    planned: bool  # its line, or a heading above it, says "planned"
    language: str | None  # the fence's language; None for inline code


def code_in(doc: Path, text: str) -> Iterator[Code]:
    headings: list[tuple[int, str]] = []
    fence: str | None = None  # the open fence's language ("" when none given)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:].strip()
            continue
        section_planned = any(PLANNED.search(title) for _, title in headings)
        planned = section_planned or bool(PLANNED.search(line))
        if fence is not None:
            yield Code(doc, number, line, planned, fence)
            continue
        heading = re.match(r"(#+)\s+(.*)", line)
        if heading:
            level = len(heading.group(1))
            headings = [(lv, title) for lv, title in headings if lv < level] + [(level, heading.group(2))]
            continue
        for span in re.finditer(r"(`+)(.+?)\1", line):
            yield Code(doc, number, span.group(2), planned, None)


def where(code: Code) -> str:
    return f"{code.doc.relative_to(ROOT) if code.doc.is_relative_to(ROOT) else code.doc}:{code.line}"


# --- commands and options ------------------------------------------------------------------

QAFLOW_WORD = re.compile(r"(?<![\w.'-])qaflow(?![\w.'-])")
END_OF_COMMAND = re.compile(r"\s#|\s\|\s|;|&&|\s>")


def _options(command: click.Command) -> dict[str, bool]:
    """Each option name of `command` -> whether it takes a value."""
    names: dict[str, bool] = {"--help": False, "-h": False}
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                names[name] = not (param.is_flag or param.count)
    return names


def check_commands(code: Code) -> list[str]:
    """`qaflow CMD [SUB] --option ...` names a real command and its real options."""
    if code.language == "python" or code.planned:
        return []
    problems: list[str] = []
    text = re.split(r"(?:^|\s)#", code.text, maxsplit=1)[0] if code.language is not None else code.text  # not a comment
    for found in QAFLOW_WORD.finditer(text):
        rest = END_OF_COMMAND.split(text[found.end() :], maxsplit=1)[0]
        tokens = [t.strip("[](),.") for t in rest.split()]
        command: click.Command = cli
        spelled = "qaflow"
        ctx = click.Context(cli)
        skip_value = False
        for token in tokens:
            if skip_value:
                skip_value = False
                continue
            if token.startswith("-"):
                name = token.split("=", 1)[0]
                options = _options(command)
                if name not in options:
                    problems.append(f"{where(code)}: `{spelled}` has no option {name} (mark it planned, or fix it)")
                elif options[name] and "=" not in token and isinstance(command, click.Group):
                    skip_value = True  # a group's option value, such as `--db URL`, is not a command
                continue
            if not isinstance(command, click.Group):
                continue  # an argument of a command
            if not re.fullmatch(r"[a-z][a-z-]*", token):
                break  # a placeholder (`CMD`, `[PATH...]`), not a command name
            sub = command.get_command(ctx, token)
            if sub is None:
                problems.append(f"{where(code)}: `{spelled} {token}` is not a command (mark it planned, or fix it)")
                break
            command, spelled = sub, f"{spelled} {token}"
    return problems


# --- dotted paths, files, make targets, environment variables -------------------------------

DOTTED = re.compile(r"(?<![\w./:-])((?:engine|storage|qaflow)(?:\.[A-Za-z_]\w*)+)")
PATH_TOKEN = re.compile(r"[\w.-]+(?:/[\w.*-]+)*/?")
FILE_ENDINGS = (".py", ".yaml", ".yml", ".sh", ".json", ".md", ".txt", ".toml", ".mako", "/")
MAKE_TARGET = re.compile(r"(?<![\w-])make\s+([a-z][\w-]*)")
ENV_VAR = re.compile(r"\bQAFLOW_[A-Z][A-Z_]*[A-Z]\b")


def resolves(dotted: str) -> bool:
    """An importable module, or an attribute reached from the longest importable module."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(value, attribute):
                return False
            value = getattr(value, attribute)
        return True
    return False


def check_dotted(code: Code) -> list[str]:
    if code.language == "python" or code.planned:
        return []  # in a Python block `engine` is a variable; its imports are checked with ast
    return [f"{where(code)}: `{m}` does not exist" for m in DOTTED.findall(code.text) if not resolves(m)]


def path_candidates(text: str) -> Iterator[str]:
    for raw in text.split():
        token = raw.strip("()[],;:\"'")
        if "/" not in token or "://" in token or token.startswith(("/", "~", ".venv/")):
            continue
        if not PATH_TOKEN.fullmatch(token) or not token.endswith(FILE_ENDINGS):
            continue
        if token.split("/", 1)[0].isupper():
            continue  # a placeholder such as DIR/x.yaml
        yield token


def check_paths(code: Code) -> list[str]:
    if code.planned:
        return []
    problems = []
    for token in path_candidates(code.text):
        # `schema/...` is relative to a workflow file; the README names docs/ files relative to docs/
        bases = (ROOT, code.doc.parent, ROOT / "workflows", ROOT / "docs")
        if not any((base / token).exists() for base in bases):
            problems.append(f"{where(code)}: {token} does not exist")
    return problems


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))


def check_make(code: Code) -> list[str]:
    if code.planned:
        return []
    targets = make_targets()
    return [f"{where(code)}: `make {t}` is not a Makefile target" for t in MAKE_TARGET.findall(code.text) if t not in targets]


def _sources() -> str:
    files = [p for package in ("engine", "storage", "qaflow", "tests") for p in (ROOT / package).rglob("*.py")]
    files += [ROOT / "Makefile", *(ROOT / ".ci").glob("*")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files if p.is_file() and p != Path(__file__).resolve())


def check_env(code: Code, sources: str) -> list[str]:
    if code.planned:
        return []
    return [f"{where(code)}: {name} is read nowhere in the code" for name in ENV_VAR.findall(code.text) if name not in sources]


# --- Python blocks ---------------------------------------------------------------------------

PUBLIC_API = {"engine": set(engine.__all__), "storage": {"open_store"}}


def check_python(doc: Path, text: str, *, public_only: bool) -> list[str]:
    """Each Python block parses and its imports exist; with `public_only`, only the public API."""
    problems: list[str] = []
    block: list[str] = []
    start = 0
    for code in code_in(doc, text):
        if code.language != "python":
            continue
        if block and code.line != start + len(block):
            problems += _check_block(doc, start, block, public_only)
            block = []
        if not block:
            start = code.line
        block.append(code.text)
    if block:
        problems += _check_block(doc, start, block, public_only)
    return problems


def _check_block(doc: Path, start: int, lines: list[str], public_only: bool) -> list[str]:
    here = f"{doc.relative_to(ROOT) if doc.is_relative_to(ROOT) else doc}:{start}"
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError as exc:
        return [f"{here}: the Python block does not parse: {exc.msg}"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if public_only:
                    problems.append(f"{here}: `import {alias.name}`: import names from the public API instead")
                elif not resolves(alias.name):
                    problems.append(f"{here}: module {alias.name} does not exist")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                if public_only and alias.name not in PUBLIC_API.get(module, set()):
                    public = "engine.__all__, storage.open_store"
                    problems.append(f"{here}: `from {module} import {alias.name}` is not the public API ({public})")
                elif not resolves(f"{module}.{alias.name}"):
                    problems.append(f"{here}: `from {module} import {alias.name}` does not exist")
    return problems


# --- the whole check ---------------------------------------------------------------------------


def problems_in(doc: Path, text: str, sources: str) -> list[str]:
    problems: list[str] = []
    for code in code_in(doc, text):
        problems += check_commands(code) + check_dotted(code) + check_paths(code) + check_make(code) + check_env(code, sources)
    problems += check_python(doc, text, public_only=doc.name == "embedding.md")
    return problems


@pytest.fixture(scope="module")
def sources() -> str:
    return _sources()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_docs_name_only_what_exists(doc: Path, sources: str) -> None:
    problems = problems_in(doc, doc.read_text(encoding="utf-8"), sources)
    assert not problems, "\n".join(problems)


def test_every_lint_code_in_the_docs_is_one_the_engine_reports() -> None:
    doc = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    codes = set(re.findall(r"^\| `([a-z_]+)` \| (?:error|warning) \|", doc, re.MULTILINE))
    assert len(codes) > 50
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "engine").rglob("*.py"))
    assert sorted(c for c in codes if f'"{c}"' not in source and f"'{c}'" not in source) == []


def test_every_json_schema_is_listed_and_every_listed_one_exists() -> None:
    folder = ROOT / "docs" / "cli-json"
    listed = set(re.findall(r"`([a-z]+\.schema\.json)`", (folder / "README.md").read_text(encoding="utf-8")))
    assert listed == {p.name for p in folder.glob("*.schema.json")}


@pytest.mark.parametrize("workflow", sorted((ROOT / "workflows").glob("*.yaml")), ids=lambda p: p.stem)
def test_each_workflow_page_shows_the_diagram_the_file_draws(workflow: Path) -> None:
    page = ROOT / "docs" / "workflows" / f"{workflow.stem}.md"
    assert page.exists(), f"{workflow.name} has no page in docs/workflows/"
    drawn = re.search(r"```mermaid\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)
    assert drawn is not None, f"{page.name} has no Mermaid diagram"
    assert drawn.group(1).strip() == render_diagram(load_workflow(workflow).spec).strip()


# --- the checks fail on a real drift ----------------------------------------------------------

FAKE = ROOT / "docs" / "example.md"


def _problems(text: str) -> list[str]:
    return problems_in(FAKE, text, "QAFLOW_DB QAFLOW_HISTORY_KEY")


@pytest.mark.parametrize(
    "text",
    [
        "Run `qaflow tick` every minute.",
        "```sh\n.venv/bin/qaflow simulate case_file_audit script.yaml\n```",
        "`qaflow list --overdue` lists the late ones.",
        "`qaflow --db URL db downgrade`",
        "`qaflow fire ID allocate --as a --role r --retry`",
        "Tests use `engine.memory.MemoryStore()`.",
        "The Engine is `engine.runtime.Engine`; `storage.open_stor` opens one.",
        "Loading starts in `engine/yamlsource.py`.",
        "Scripts live in `workflows/simulations/`.",
        "`make docs` builds them.",
        "Set `QAFLOW_HISTORY_SECRET`.",
        "```python\nfrom engine.runtime import Engine\n```",
        "```python\nfrom engine import Engin\n```",
    ],
)
def test_each_kind_of_drift_is_found(text: str) -> None:
    assert _problems(text), text


@pytest.mark.parametrize(
    "text",
    [
        "`qaflow tick` (planned) runs timers.",
        "## Planned\n\nAlso `qaflow serve`, and `engine.http.App` in `engine/http/app.py`.",
        "`qaflow --db sqlite:///x.db db upgrade`, `qaflow list --where is_inadequate=true --json`",
        "```sh\npython -m qaflow --help   # qaflow nonsense in a comment\nqaflow diagram case_file_audit --format dot | head\n```",
        "`qaflow` alone, `qaflow-demo.db`, `sqlite:///qaflow.db`, `qaflow_tmpl_*`",
        "`engine.__all__`, `engine.expressions`, `storage.open_store`, `engine/runtime/machine.py`, `schema/`",
        "`DIR/programme.yaml`, `/secure/elsewhere/heads.json`, `make test`, `QAFLOW_DB`",
        "```python\nfrom engine import Actor, Engine\nfrom storage import open_store\n"
        "engine = Engine(open_store('x'))\nengine.fire('i', 't', Actor('a', frozenset()))\n```",
    ],
)
def test_what_exists_or_is_marked_planned_passes(text: str) -> None:
    assert _problems(text) == []


# --- comments and docstrings describe the code, not a plan ------------------------------------

FUTURE = re.compile(
    r"\b(issues? adds?|next issue|later issue|(children|time|storage|programme|delivery|access-log|storage-guarantees) issues?"
    r"|arrives? with (the|their|a)\b|comes? with (the|a later)\b|will run them)",
    re.IGNORECASE,
)
# Files allowed to talk of plans, with the reason (none now).
KNOWN: dict[str, str] = {}


def future_talk(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if FUTURE.search(line)]


def _package_files() -> list[Path]:
    found = [p for package in ("engine", "storage", "qaflow") for p in (ROOT / package).rglob("*") if p.suffix in (".py", ".mako")]
    return sorted(found)


@pytest.mark.parametrize("path", [*_package_files(), *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_comment_docstring_or_doc_names_a_future_issue(path: Path) -> None:
    relative = str(path.relative_to(ROOT))
    if relative in KNOWN:
        pytest.skip(KNOWN[relative])
    found = future_talk(path.read_text(encoding="utf-8"))
    assert not found, "say what the code does, or mark it planned:\n" + "\n".join(f"{relative}:{n}: {line}" for n, line in found)


def test_future_talk_is_found() -> None:
    assert future_talk("x = 1  # the next issue adds timers\n") == [(1, "x = 1  # the next issue adds timers")]
    assert future_talk('"""Parents arrive with the children issue."""')
    assert future_talk("a recorded `Issue`, the issues it lists, a later row") == []


def test_the_embedding_guide_may_import_only_the_public_api() -> None:
    guide = ROOT / "docs" / "embedding.md"
    inside = "```python\nfrom engine.runtime.engine import Engine\nimport engine.store.memory\n```"
    assert len(check_python(guide, inside, public_only=True)) == 2  # both exist, neither is the public API
    public = "```python\nfrom engine import Engine, MemoryStore\nfrom storage import open_store\n```"
    assert check_python(guide, public, public_only=True) == []

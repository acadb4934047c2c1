"""The design the folders show is kept: layers, no import circles, the public API.

`make lint` runs import-linter on the real tree; these tests show that the contracts in
`pyproject.toml` really fail on what they forbid (a contract that can't fail proves
nothing), and check what import-linter does not: that no module, at any depth, is in an
import circle (imports under `if TYPE_CHECKING:` included), and that `engine.__all__` is
exactly what the engine exports.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

import engine

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _import_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("engine", "storage", "qaflow", cache_dir=None)
    ours = set(graph.modules)
    return {module: graph.find_modules_directly_imported_by(module) & ours for module in ours}


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_is_in_an_import_circle() -> None:
    assert _circles(_import_graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_public_api_is_exactly_what_the_engine_exports() -> None:
    public = {name for name, value in vars(engine).items() if not name.startswith("_") and not isinstance(value, type(engine))}
    public -= {"annotations", "TYPE_CHECKING", "Any"}  # the module's own typing imports
    assert sorted(engine.__all__) == sorted(public | {"Engine"})  # Engine loads on first use
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    with pytest.raises(AttributeError):
        _ = engine.NoSuchThing  # type: ignore[attr-defined]


def test_checking_workflows_never_loads_the_runtime() -> None:
    runtime = "('engine.runtime', 'transitions')"
    code = f"import sys, engine; engine.load_workflow; print(sorted(m for m in sys.modules if m.startswith({runtime})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    assert done.stdout.strip() == "[]"
    code = "import sys, engine; engine.Engine; print('engine.runtime.engine' in sys.modules, 'transitions' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    assert done.stdout.strip() == "True True"


def _tree_with(tmp_path: Path, edits: dict[str, str]) -> Path:
    """A copy of the three packages and the lint configuration, with lines appended to files."""
    for package in ("engine", "storage", "qaflow"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for relative, line in edits.items():
        path = tmp_path / relative
        path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    return tmp_path


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=tree,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_contracts_hold_on_the_tree() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("edits", "broken"),
    [
        ({"engine/time/clock.py": "import storage"}, "qaflow -> storage -> engine, never the other way"),
        ({"engine/language/graph.py": "from engine.runtime import machine"}, "engine's sub-packages are layered"),
        (
            {  # closed through TYPE_CHECKING, which still counts
                "engine/time/clock.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from engine.time import calendars",
                "engine/time/calendars.py": "from engine.time import clock",
            },
            "no import circles",
        ),
        ({"engine/runtime/roles.py": "import transitions"}, "only the compiled-machine module imports transitions"),
        ({"qaflow/app.py": "from engine.runtime.engine import Engine as _E"}, "qaflow uses the engine's public API only"),
        ({"engine/ids.py": "import sqlalchemy"}, "engine has no SQL, HTTP or terminal code"),
    ],
    ids=["wrong-way", "layer", "circle", "transitions", "private-api", "sql-in-engine"],
)
def test_each_contract_fails_on_what_it_forbids(tmp_path: Path, edits: dict[str, str], broken: str) -> None:
    result = _lint_imports(_tree_with(tmp_path, edits))
    assert result.returncode == 1, result.stdout + result.stderr
    broken_lines = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert broken_lines, result.stdout
    assert any(line.startswith(broken) for line in result.stdout.splitlines()), result.stdout

"""R9: nothing in qaflow can execute or import what a workflow says.

Scans every Python file of the packages for calls and imports that could run text as code
or load objects from bytes. Each allowed exception is listed with its reason; anything new
fails the test, so it gets a reviewer's attention.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "storage", "qaflow")

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "breakpoint"}
FORBIDDEN_ATTRIBUTES = {
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("yaml", "load_all"),
    ("yaml", "unsafe_load_all"),
    ("yaml", "full_load_all"),
    ("pickle", "load"),
    ("pickle", "loads"),
    ("pickle", "Unpickler"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("importlib", "import_module"),
    ("importlib", "__import__"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("os", "system"),
    ("os", "popen"),
}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "subprocess", "importlib", "runpy", "code", "codeop"}
FORBIDDEN_NAMES = {"UnsafeLoader", "FullLoader", "Loader"}  # yaml loaders that construct objects

# (file relative to ROOT, what) -> why: every exception is justified here.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("qaflow/app.py", "from importlib.resources import"): (
        "files() reads the shipped catalogue as data, by the literal package name qaflow.catalogue; it imports only that "
        "package (whose __init__ holds a docstring), never a name from YAML"
    ),
    ("qaflow/app.py", "from importlib.resources.abc import"): "the Traversable type of what files() returns; no import machinery",
}
ALLOWED: set[tuple[str, str]] = set(EXCEPTIONS)


def python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def findings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            found.append((node.lineno, f"call of {node.func.id}()"))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (node.value.id, node.attr) in FORBIDDEN_ATTRIBUTES:
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            found.append((node.lineno, f"yaml loader {node.attr}"))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
            found.append((node.lineno, f"from {node.module} import"))
        elif isinstance(node, ast.ImportFrom) and node.module == "yaml":
            found += [
                (node.lineno, f"from yaml import {a.name}")
                for a in node.names
                if a.name in FORBIDDEN_NAMES | {"load", "unsafe_load", "full_load"}
            ]
    return found


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_execution_or_dynamic_import(path: Path) -> None:
    relative = str(path.relative_to(ROOT))
    bad = [f"{relative}:{line}: {what}" for line, what in findings(path) if (relative, what) not in ALLOWED]
    assert not bad, "code that could run what a workflow says:\n" + "\n".join(bad)


def test_the_scanner_finds_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text(
        "import pickle\nimport importlib\nimport yaml\n"
        "eval('1')\nexec('x=1')\nyaml.load('a', Loader=yaml.Loader)\nyaml.unsafe_load('a')\n"
        "importlib.import_module('os')\n__import__('os')\npickle.loads(b'')\n",
        encoding="utf-8",
    )
    found = {what for _, what in findings(sample)}
    assert {
        "import pickle",
        "import importlib",
        "call of eval()",
        "call of exec()",
        "yaml.load",
        "yaml.unsafe_load",
        "importlib.import_module",
        "call of __import__()",
        "pickle.loads",
        "yaml loader Loader",
    } <= found

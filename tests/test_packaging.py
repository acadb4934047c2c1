"""The wheel is a working qaflow on its own: built, installed into a fresh venv, run away from the checkout.

One wheel and one venv per test session (module-scoped fixtures): `python -m build --wheel`
on a copy of the files the build reads, so the checkout gets no build/ or egg-info and no
stale build/lib can leak into the wheel, then `pip --python VENV install WHEEL` from the
same package index the project's own install uses (pip's cache makes that quick). Every
`qaflow` command then runs with its current folder in a temporary directory that has no
workflows/ and no checkout on sys.path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_support import start_args

ROOT = Path(__file__).resolve().parent.parent
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "engine", "storage", "qaflow", "workflows")
PACKAGES = ("engine", "storage", "qaflow")
CATALOGUE = "qaflow.catalogue"
TIMEOUT = 600  # a hang guard only: a cold pip cache downloads every dependency once


def run_checked(args: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=TIMEOUT, check=False, cwd=cwd, env=env)
    assert done.returncode == 0, f"{args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def shipped_catalogue() -> set[str]:
    """workflows/ as the wheel must carry it: every file but Python bytecode."""
    folder = ROOT / "workflows"
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_the_listed_packages_are_the_tree() -> None:
    """pyproject.toml lists packages (find can't see qaflow.catalogue): every package, and every catalogue folder, is listed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"] == {CATALOGUE: "workflows"}
    in_tree = {".".join(init.parent.relative_to(ROOT).parts) for package in PACKAGES for init in (ROOT / package).rglob("__init__.py")}
    catalogue = ROOT / "workflows"
    in_tree |= {CATALOGUE} | {
        ".".join((CATALOGUE, *d.relative_to(catalogue).parts)) for d in catalogue.rglob("*") if d.is_dir() and d.name != "__pycache__"
    }
    assert sorted(config["packages"]) == sorted(in_tree)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=junk)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    run_checked([sys.executable, "-m", "build", "--wheel", "--outdir", dist, source])
    (built,) = dist.glob("qaflow-*.whl")
    return built


@dataclass(frozen=True)
class Installed:
    venv: Path
    home: Path  # the current folder: no workflows/, no checkout
    env: dict[str, str]

    def qaflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_checked([self.venv / "bin" / "qaflow", *args], cwd=self.home, env=self.env)


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    venv = tmp_path_factory.mktemp("venv")
    # no pip inside the venv: the test's own pip installs into it (--python), which skips ensurepip
    run_checked([sys.executable, "-m", "venv", "--without-pip", "--clear", venv])
    run_checked([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", wheel])
    home = tmp_path_factory.mktemp("council")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QAFLOW_", "PYTHON", "VIRTUAL_ENV"))}
    env["QAFLOW_DB"] = f"sqlite:///{home / 'qaflow.db'}"
    yield Installed(venv, home, env)


def test_the_wheel_carries_the_catalogue_and_the_licence(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"qaflow/catalogue/{name}" for name in shipped_catalogue()} <= names
    assert "qaflow-0.1.0.dist-info/licenses/LICENSE" in names
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "docs/"))]
    metadata = zipfile.ZipFile(wheel).read("qaflow-0.1.0.dist-info/METADATA").decode("utf-8")
    assert "License-Expression: MIT" in metadata
    assert not [line for line in metadata.splitlines() if line.startswith("Requires-Dist: rich")]


def test_the_installed_packages_come_from_the_venv(installed: Installed) -> None:
    where = "import engine, storage, qaflow; print(engine.__file__, storage.__file__, qaflow.__file__)"
    done = run_checked([installed.venv / "bin" / "python", "-c", where], cwd=installed.home, env=installed.env)
    site = installed.venv.resolve()
    assert all(Path(p).resolve().is_relative_to(site) for p in done.stdout.split()), done.stdout


def test_the_installed_qaflow_works_outside_a_checkout(installed: Installed) -> None:
    assert not (installed.home / "workflows").exists()
    done = installed.qaflow("validate")
    assert done.stderr.startswith("1 file(s) checked in ")
    assert done.stderr.endswith("(the installed catalogue): 0 error(s), 0 warning(s)\n")
    assert installed.qaflow("diagram", "case_file_audit").stdout.startswith("stateDiagram-v2\n")
    installed.qaflow("db", "upgrade")
    assert installed.qaflow("deploy").stdout.startswith("case_file_audit version 1 ")
    instance = installed.qaflow(*start_args()).stdout.strip()
    assert installed.qaflow("show", instance, "--json").returncode == 0
    assert installed.qaflow("verify").stdout == "1 instance(s) checked: 0 broken, 0 redacted\n"


def test_the_walkthrough_runs_from_a_councils_own_copy(installed: Installed) -> None:
    # `qaflow init councils/north`, then the main job from that copy: the script finds its
    # workflows and example data beside itself, wherever the copy is
    installed.qaflow("init", "councils/north")
    script = installed.home / "councils" / "north" / "examples" / "case_file_audit_walkthrough.sh"
    env = {**installed.env, "PATH": f"{installed.venv / 'bin'}{os.pathsep}{installed.env.get('PATH', '')}"}
    env.pop("QAFLOW_DB")
    done = run_checked(["bash", script], cwd=installed.home, env=env)
    assert "went from selection to closure" in done.stdout
    assert (installed.home / "qaflow-demo.db").exists()  # in the current folder, not beside the copy


def test_the_wheel_is_typed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"engine/py.typed", "storage/py.typed", "qaflow/py.typed"} <= names


def test_init_then_validate_the_copy(installed: Installed) -> None:
    done = installed.qaflow("init", "council-workflows")
    written = {Path(line).relative_to("council-workflows").as_posix() for line in done.stdout.splitlines()}
    assert written == shipped_catalogue() - {"__init__.py"}
    done = installed.qaflow("validate", "council-workflows")
    assert done.stderr == "1 file(s) checked: 0 error(s), 0 warning(s)\n"


# A consumer of the installed package, as an embedding developer writes one: checked by
# mypy --strict against the venv's site-packages (the project's mypy, told to read the venv
# with --python-executable), then run. The workflow file sits beside it.
CONSUMER = '''
"""A council's own code, using qaflow's engine from the installed wheel."""

from __future__ import annotations

import sys
from pathlib import Path

from engine import Actor, Engine, FireResult, MemoryStore, TransitionRefusedError, load_workflow


def close(engine: Engine, instance_id: str, actor: Actor) -> FireResult | tuple[str, ...]:
    try:
        return engine.fire(instance_id, "close", actor, {"note": "done"})
    except TransitionRefusedError as refused:
        return refused.codes


def main() -> int:
    engine = Engine(MemoryStore())
    engine.deploy(load_workflow(Path(__file__).with_name("tiny.yaml")))
    clerk = Actor("cl-1", frozenset({"clerk"}))
    instance = engine.start("tiny", clerk)
    refused = close(engine, instance.id, Actor("vi-1", frozenset({"visitor"})))
    done = close(engine, instance.id, clerk)
    assert isinstance(done, FireResult) and done.to_state == "done", done
    assert not isinstance(refused, FireResult) and "role_not_held" in refused, refused
    print(done.state, done.lock_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

# the same, wrong: mypy must catch it, so the check above is against real types, not Any
WRONG_CONSUMER = """
from engine import Engine, FireResult, MemoryStore

result: FireResult = Engine(MemoryStore()).start("tiny", "cl-1")
"""

TINY = """
workflow: tiny
version: 1
roles:
  clerk: Does everything
fields:
  note: {type: text}
start:
  by: [clerk]
initial: open
states:
  open:
  done: {final: true}
transitions:
  - trigger: close
    from: open
    to: done
    by: [clerk]
    writes: [note]
"""


def mypy_strict(installed: Installed, name: str, text: str) -> subprocess.CompletedProcess[str]:
    folder = installed.home / "consumer"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    args = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", os.devnull]
    args += ["--python-executable", str(installed.venv / "bin" / "python"), name]
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, check=False, cwd=folder, env=installed.env)


def test_a_consumer_type_checks_strictly_against_the_installed_package(installed: Installed) -> None:
    (installed.home / "consumer").mkdir(exist_ok=True)
    (installed.home / "consumer" / "tiny.yaml").write_text(TINY, encoding="utf-8")
    checked = mypy_strict(installed, "council.py", CONSUMER)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("Success: no issues found in 1 source file")
    ran = run_checked([installed.venv / "bin" / "python", "council.py"], cwd=installed.home / "consumer", env=installed.env)
    assert ran.stdout == "done 2\n"


def test_mypy_reads_the_installed_types(installed: Installed) -> None:
    checked = mypy_strict(installed, "wrong.py", WRONG_CONSUMER)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert 'Argument 2 to "start" of "Engine" has incompatible type "str"; expected "Actor"' in checked.stdout
    assert 'Incompatible types in assignment (expression has type "InstanceView", variable has type "FireResult")' in checked.stdout

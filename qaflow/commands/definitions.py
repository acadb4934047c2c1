"""Commands about workflow files themselves: validate, schema, diagram, and init (a copy of the catalogue)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine import Issue, NotFoundError, Workflow, WorkflowValidationError, load_workflow, render_diagram, workflow_json_schema
from qaflow.app import Settings, copy_catalogue
from qaflow.presentation.build import issue_json

PROGRAMME_FILE = "programme.yaml"


def workflow_files(paths: list[Path]) -> list[Path]:
    """Files named directly, and `DIR/*.yaml` (not subfolders, not the programme) for folders."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.glob("*.yaml") if p.name != PROGRAMME_FILE)
        else:
            files.append(path)
    return files


def check_files(files: list[Path]) -> list[Issue]:
    issues: list[Issue] = []
    for file in files:
        try:
            workflow = load_workflow(file)
        except WorkflowValidationError as exc:
            issues += exc.issues
        else:
            issues += workflow.warnings
    return issues


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as a JSON array.")
@click.pass_obj
def validate(settings: Settings, paths: tuple[Path, ...], as_json: bool) -> None:
    """Check workflow files (or folders of them) and list every problem.

    Each problem is one line, PATH:LINE:COL: error|warning [code] message. Exits 1 when
    there is an error.
    """
    folder = None if paths else settings.workflows()
    files = workflow_files(list(paths) if folder is None else [folder.path])
    issues = check_files(files)
    errors = sum(issue.is_error for issue in issues)
    if as_json:
        click.echo(json.dumps([issue_json(issue) for issue in issues], indent=2))
    else:
        for issue in issues:
            colour = "red" if issue.is_error else "yellow"
            click.echo(f"{issue.path}:{issue.line}:{issue.col}: {click.style(issue.severity, fg=colour)} [{issue.code}] {issue.message}")
        warnings = len(issues) - errors
        where = "" if folder is None else f" in {folder.describe()}"
        click.echo(f"{len(files)} file(s) checked{where}: {errors} error(s), {warnings} warning(s)", err=True)
    if errors:
        raise SystemExit(1)


@click.command()
def schema() -> None:
    """Print the JSON Schema of workflow files (for editor completion)."""
    click.echo(json.dumps(workflow_json_schema(), indent=2, sort_keys=True))


def find_workflow(name: str, settings: Settings) -> Workflow:
    """A workflow by id (in the workflows folder, checked as an id) or by the path of a YAML file."""
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        return settings.workflow_file(name)
    if not path.is_file():
        raise NotFoundError(f"no workflow '{name}': {path} does not exist", kind="workflow", name=name)
    return load_workflow(path)


@click.command()
@click.argument("workflow")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@click.pass_obj
def diagram(settings: Settings, workflow: str, fmt: str) -> None:
    """Draw WORKFLOW's states and transitions (Mermaid stateDiagram-v2, or Graphviz DOT)."""
    try:
        loaded = find_workflow(workflow, settings)
    except WorkflowValidationError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        raise SystemExit(1) from exc
    click.echo(render_diagram(loaded.spec, fmt), nl=False)


@click.command()
@click.argument("directory", required=False, default="workflows", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Copy the shipped workflow catalogue into DIRECTORY (default: ./workflows) to edit.

    Creates the folder; refuses, copying nothing, if any file it would write already exists.
    Prints each file written.
    """
    written = copy_catalogue(directory)
    for path in written:
        click.echo(str(path))
    click.echo(f"{len(written)} file(s) written to {directory}; check them with: qaflow validate {directory}", err=True)

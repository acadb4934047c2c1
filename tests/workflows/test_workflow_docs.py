"""Every shipped workflow validates with no warnings and has a page whose diagram is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.language.diagram import mermaid
from engine.language.loader import load_workflow

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (ROOT / "workflows").glob("*.yaml") if p.name != "programme.yaml")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_workflow_is_clean(path: Path) -> None:
    workflow = load_workflow(path)
    assert workflow.warnings == ()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_page_shows_the_current_diagram(path: Path) -> None:
    page = ROOT / "docs" / "workflows" / f"{path.stem}.md"
    assert page.is_file(), f"{page} is missing: every shipped workflow has a page"
    diagram = mermaid(load_workflow(path).spec)
    assert f"```mermaid\n{diagram}```" in page.read_text(encoding="utf-8"), (
        f"the diagram in {page.name} is stale: paste the output of `qaflow diagram {path.stem}`"
    )

"""State diagrams drawn from a definition: Mermaid `stateDiagram-v2` and Graphviz DOT.

Reads the definition only. `"*"` is drawn as the edges it stands for; `@previous` as an
edge back to each state the source can be entered from; internal events (no `to`) change
no state and are not drawn.
"""

from __future__ import annotations

from engine.language import graph
from engine.language.definition import WorkflowSpec


def edges(spec: WorkflowSpec) -> list[tuple[str, str, str]]:
    """(from, to, trigger) for every state change, in the order the file gives them."""
    before = graph.predecessors(spec)
    result: list[tuple[str, str, str]] = []
    for transition in spec.transitions:
        for source in graph.sources(spec, transition):
            for target in sorted(graph.targets(spec, transition, source, before)):
                edge = (source, target, transition.trigger)
                if edge not in result:
                    result.append(edge)
    return result


def mermaid(spec: WorkflowSpec) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {spec.initial}"]
    lines += [f"    {source} --> {target}: {trigger}" for source, target, trigger in edges(spec)]
    lines += [f"    {name} --> [*]" for name, state in spec.states.items() if state.final]
    return "\n".join(lines) + "\n"


def dot(spec: WorkflowSpec) -> str:
    lines = [f'digraph "{spec.workflow}" {{', "    rankdir=LR;", '    "[*]" [shape=point];']
    for name, state in spec.states.items():
        shape = "doublecircle" if state.final else "box"
        lines.append(f'    "{name}" [shape={shape}];')
    lines.append(f'    "[*]" -> "{spec.initial}";')
    lines += [f'    "{source}" -> "{target}" [label="{trigger}"];' for source, target, trigger in edges(spec)]
    lines.append("}")
    return "\n".join(lines) + "\n"


DIAGRAM_FORMATS = ("mermaid", "dot")


def render_diagram(spec: WorkflowSpec, fmt: str = "mermaid") -> str:
    """The state diagram of a definition as Mermaid `stateDiagram-v2` text (`mermaid`) or DOT (`dot`).

    Raises:
        ValueError: another format.
    """
    if fmt == "mermaid":
        return mermaid(spec)
    if fmt == "dot":
        return dot(spec)
    raise ValueError(f"a diagram is 'mermaid' or 'dot', not {fmt!r}")

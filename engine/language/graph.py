"""Questions about a workflow's state graph, answered from the definition alone.

Used by the lint (unreachable states, dead ends, shadowed transitions, triggers nobody
handles) and later by the compiler, so "*" and "@previous" are expanded in one place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from engine.language.definition import TransitionSpec, WorkflowSpec

PREVIOUS = "@previous"
EVERY = "*"


def final_states(spec: WorkflowSpec) -> frozenset[str]:
    return frozenset(name for name, state in spec.states.items() if state.final)


def sources(spec: WorkflowSpec, transition: TransitionSpec) -> list[str]:
    """The states a transition leaves from, "*" expanded to every non-final state."""
    if EVERY in transition.from_:
        return [name for name, state in spec.states.items() if not state.final]
    return [name for name in transition.from_ if name in spec.states]


def predecessors(spec: WorkflowSpec) -> dict[str, set[str]]:
    """state -> the states a transition can enter it from (what `@previous` can return to)."""
    result: dict[str, set[str]] = {name: set() for name in spec.states}
    for transition in spec.transitions:
        if transition.to in spec.states:
            for source in sources(spec, transition):
                result[transition.to].add(source)
    return result


def targets(spec: WorkflowSpec, transition: TransitionSpec, state: str, before: dict[str, set[str]]) -> set[str]:
    """Where a transition can go from `state` (`@previous`: wherever `state` was entered from)."""
    if transition.to is None:
        return set()
    if transition.to == PREVIOUS:
        return set(before.get(state, ()))
    return {transition.to} if transition.to in spec.states else set()


def reachable(spec: WorkflowSpec, start: str, stop_at: Iterable[str] = ()) -> set[str]:
    """States reachable from `start`; states in `stop_at` are reached but not left."""
    if start not in spec.states:
        return set()
    stops = set(stop_at)
    before = predecessors(spec)
    outgoing = _outgoing(spec)
    seen = {start}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if state in stops:
            continue
        for transition in outgoing.get(state, ()):
            for target in targets(spec, transition, state, before):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
    return seen


def _outgoing(spec: WorkflowSpec) -> dict[str, list[TransitionSpec]]:
    result: dict[str, list[TransitionSpec]] = {}
    for transition in spec.transitions:
        for source in sources(spec, transition):
            result.setdefault(source, []).append(transition)
    return result


def has_way_out(spec: WorkflowSpec, state: str) -> bool:
    """Whether some transition leaves `state` for another state (internal events don't)."""
    before = predecessors(spec)
    return any(
        targets(spec, transition, state, before) - {state} or transition.to == PREVIOUS for transition in _outgoing(spec).get(state, ())
    )


def handles(spec: WorkflowSpec, trigger: str, states: Iterable[str], *, by_system: bool) -> bool:
    """Whether a transition with `trigger` leaves any of `states` (and `system` may fire it)."""
    wanted = set(states)
    for transition in spec.transitions:
        if transition.trigger != trigger:
            continue
        if by_system and "system" not in transition.by:
            continue
        if wanted.intersection(sources(spec, transition)):
            return True
    return False


def triggers(spec: WorkflowSpec) -> set[str]:
    return {transition.trigger for transition in spec.transitions}


def shadowed_by(spec: WorkflowSpec, index: int) -> int | None:
    """The earlier transition that is always taken whenever transition `index` could be.

    An earlier candidate wins when it shares the trigger, covers every source state and role,
    needs no field the later one does not need too, and has no checks.
    """
    later = spec.transitions[index]
    later_sources = set(sources(spec, later))
    later_needs = set(later.needs) | _target_needs(spec, later)
    for position, earlier in enumerate(spec.transitions[:index]):
        if earlier.trigger != later.trigger or earlier.checks or earlier.when:
            continue
        if not later_sources or not later_sources <= set(sources(spec, earlier)):
            continue
        if not set(later.by) <= set(earlier.by):
            continue
        if (set(earlier.needs) | _target_needs(spec, earlier)) <= later_needs:
            return position
    return None


def _target_needs(spec: WorkflowSpec, transition: TransitionSpec) -> set[str]:
    state = spec.states.get(transition.to or "")
    return set(state.needs) if state else set()

"""P1: one in-memory event through `Engine.fire` vs a bare `transitions` `Event.trigger`.

Bar (QUALITY.md): qaflow's `fire` on the in-memory store is at most 4x the bare trigger.

Both sides run the same cycle of 8 events round the 8 states of `bench_workflow.yaml`, in
one process, turn about (`interleaved_medians`), median of 15 runs. The baseline is a plain
`transitions.Machine` with the same states and transitions (no conditions, no callbacks)
and `Event.trigger` on a plain object. qaflow's side does everything an event does: lock,
roles (a directory role, an assignable one), separation of duties, writes, needs, checks,
strict validation of the changed fields, effects, the machine's move, the history row and
payload with their SHA-256 chain, the state entry, and the commit.

qaflow's machine is built by `engine.runtime.machine`: the same transitions `Machine` and
`Event.trigger`, with states that skip dispatching their (always empty) enter/exit callback
lists, about a microsecond of the baseline's trigger (see `_QuietState` there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transitions import Machine, State

from benchmarks.harness import Figure, interleaved_medians
from engine.language.loader import load_workflow
from engine.results import Actor
from engine.runtime.engine import Engine
from engine.store.memory import MemoryStore

HERE = Path(__file__).resolve().parent
WORKFLOW = HERE / "bench_workflow.yaml"

CLERK = Actor("cl-1", frozenset({"clerk"}))
REVIEWER = Actor("rv-1")  # holds `reviewer` by being assigned, not by claiming it
APPROVER = Actor("ap-1", frozenset({"approver"}))

# (trigger, actor, data): one lap of the cycle, drafted -> ... -> archived -> drafted.
CYCLE: list[tuple[str, Actor, dict[str, Any] | None]] = [
    ("submit", CLERK, {"summary": "Quarterly check of the file"}),
    ("triage", REVIEWER, {"due_on": "2099-12-31"}),
    ("begin_review", REVIEWER, None),
    ("review", REVIEWER, {"score": 72, "grade": "good", "notes": ["Clear plan", "Child seen"]}),
    ("approve", APPROVER, None),
    ("publish", APPROVER, None),
    ("archive", CLERK, None),
    ("reopen", CLERK, None),
]
LAPS = 200  # events per timed run = 8 x LAPS


class _Plain:
    """The baseline's model: a plain object with a state attribute."""

    def __init__(self, state: str) -> None:
        self.state = state


def _baseline() -> tuple[Machine, _Plain]:
    workflow = load_workflow(WORKFLOW)
    spec = workflow.spec
    machine = Machine(
        model=None,
        states=[State(name, final=state.final) for name, state in spec.states.items()],
        initial=spec.initial,
        transitions=[{"trigger": t.trigger, "source": t.from_[0], "dest": t.to} for t in spec.transitions],
        auto_transitions=False,
        send_event=True,
        queued=False,
    )
    return machine, _Plain(spec.initial)


def _engine() -> tuple[Engine, str]:
    engine = Engine(MemoryStore())
    engine.deploy(load_workflow(WORKFLOW))
    view = engine.start("bench_workflow", CLERK, data={"ref": "BENCH-1"}, assign={"reviewer": REVIEWER.id})
    return engine, view.id


def run() -> Figure:
    machine, plain = _baseline()
    events = [machine.events[trigger] for trigger, _, _ in CYCLE]
    engine, instance_id = _engine()
    fire = engine.fire

    def ours() -> None:
        for _ in range(LAPS):
            for trigger, actor, data in CYCLE:
                fire(instance_id, trigger, actor, data)

    def baseline() -> None:
        for _ in range(LAPS):
            for event in events:
                event.trigger(plain)

    ours()  # warm up both, as a running process would be
    baseline()
    mine, theirs = interleaved_medians(ours, baseline, runs=15)
    per_event = 1e6 / (LAPS * len(CYCLE))
    ratio = mine / theirs
    if not engine.verify(instance_id).ok:
        raise AssertionError("the benchmark's history does not verify")
    return Figure(
        "P1", "in-memory event: Engine.fire vs transitions Event.trigger", mine * per_event, theirs * per_event, "<= 4x", ratio <= 4, "us"
    )


if __name__ == "__main__":
    print(run().line())

"""P7: memory of one process firing events on 100,000 instances on SQLite.

Bar (QUALITY.md): growth between event 10,000 and 100,000 under 1 MiB (tracemalloc).

One process, one SQLite file (`synchronous=NORMAL`, to keep the run short: durability settings
change fsyncs, not what Python keeps), the fixed benchmark workflow. All instances are
started first (not traced: that is set-up). Then tracemalloc starts and one `submit` is fired
on each instance in turn: event k goes to instance k, so nothing is ever read twice and any
per-instance state the process keeps would show as growth. After a full collection at event
`checkpoint` (10,000) and at the last event (100,000), the traced current size is read; the
growth is the difference. The engine keeps what it legitimately caches (the compiled
definition, statements compiled per dialect), all of it in place before event 10,000.

`python -m benchmarks --quick` runs 10,000 instances with the checkpoint at 1,000 (the line
says which was used); the full QUALITY figure takes about a minute or two here.
"""

from __future__ import annotations

import gc
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import Figure
from benchmarks.p1_event import CLERK, CYCLE, REVIEWER, WORKFLOW
from engine.language.loader import load_workflow
from engine.runtime.engine import Engine
from storage import open_store

INSTANCES = 100_000
CHECKPOINT = 10_000
QUICK_INSTANCES = 10_000
QUICK_CHECKPOINT = 1_000
BAR_KIB = 1024.0
SYNCHRONOUS = "NORMAL"


@dataclass(frozen=True)
class MemoryFigure(Figure):
    """Growth in KiB against an absolute bar (no baseline: `baseline` holds the bar)."""

    detail: str = ""

    def line(self) -> str:
        verdict = "meets" if self.ok else "MISSES"
        return f"{self.id}: {self.what}: growth {self.ours:+.1f} {self.unit}{self.detail} (bar {self.bar}) -> {verdict}"


def _traced_after_collect() -> tuple[int, tracemalloc.Snapshot]:
    gc.collect()
    return tracemalloc.get_traced_memory()[0], tracemalloc.take_snapshot()


def run(instances: int = INSTANCES, checkpoint: int = CHECKPOINT, verbose: bool = False) -> MemoryFigure:
    if not 0 < checkpoint < instances:
        raise ValueError("the checkpoint must fall inside the run")
    trigger, actor, data = CYCLE[0]  # submit: drafted -> submitted, by the clerk
    with tempfile.TemporaryDirectory(prefix="qaflow-p7-") as directory:
        store = open_store(f"sqlite:///{Path(directory) / 'p7.db'}", migrate=True, synchronous=SYNCHRONOUS)
        try:
            engine = Engine(store)
            engine.deploy(load_workflow(WORKFLOW))
            began = time.perf_counter()
            ids = [
                engine.start("bench_workflow", CLERK, data={"ref": f"P7-{n}"}, assign={"reviewer": REVIEWER.id}).id
                for n in range(instances)
            ]
            started = time.perf_counter() - began

            gc.collect()
            tracemalloc.start()
            began = time.perf_counter()
            fire = engine.fire
            for instance_id in ids[:checkpoint]:
                fire(instance_id, trigger, actor, data)
            at_checkpoint, first = _traced_after_collect()
            for instance_id in ids[checkpoint:]:
                fire(instance_id, trigger, actor, data)
            at_end, last = _traced_after_collect()
            fired = time.perf_counter() - began
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            if not engine.verify(ids[-1]).ok:
                raise AssertionError("the last instance's history does not verify")
        finally:
            store.close()

    growth_kib = (at_end - at_checkpoint) / 1024
    if verbose:
        print("  largest changes between the two snapshots:")
        for stat in last.compare_to(first, "lineno")[:5]:
            print(f"    {stat}")
    scale = "QUALITY figure" if instances == INSTANCES and checkpoint == CHECKPOINT else "--quick, not the QUALITY figure"
    detail = (
        f" (traced {at_checkpoint / 1024:.0f} KiB at event {checkpoint:,}, {at_end / 1024:.0f} KiB at event {instances:,}, "
        f"peak {peak / 1024:.0f} KiB; starting {instances:,} instances took {started:.1f} s, firing {instances:,} events "
        f"under tracemalloc {fired:.1f} s)"
    )
    return MemoryFigure(
        "P7",
        f"tracemalloc, one process, one event on each of {instances:,} instances ({scale}), SQLite synchronous={SYNCHRONOUS}, "
        f"events {checkpoint:,} -> {instances:,}",
        growth_kib,
        BAR_KIB,
        "< 1 MiB",
        growth_kib < BAR_KIB,
        "KiB",
        detail=detail,
    )


if __name__ == "__main__":
    print(run(verbose=True).line())

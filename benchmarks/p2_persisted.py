"""P2: one event persisted on SQLite vs raw `sqlite3` replaying qaflow's own recorded SQL.

Bar (QUALITY.md): at least 0.6 of raw's speed with `synchronous=FULL` (the default), at
least 0.3 with `synchronous=NORMAL`.

For each setting:

1. A base database: migrated, `bench_workflow.yaml` deployed, one instance started (as in P1,
   with its reviewer assigned); closed and checkpointed.
2. Recording: on a copy of the base, qaflow (`Engine.fire` on a `SqlStore` made by
   `create_database_engine(url, synchronous=...)`) fires the whole sequence of events the
   benchmark will time, round the 8-state cycle; every unit of work's statements and
   parameters are recorded (`benchmarks.replay`), checked against sqlite3's own trace, and
   the pragmas qaflow set at connect are kept.
3. Timing, turn about in one process (`interleaved_medians`): qaflow fires the same cycle on
   a fresh copy of the base; raw `sqlite3` (`isolation_level=None`, the recorded pragmas)
   replays the recorded events in order on another fresh copy, each as BEGIN IMMEDIATE, the
   statements, COMMIT. Both databases grow alike, event for event. Afterwards the replayed
   database must hold exactly the recorded one's rows.

The figure is a throughput fraction: raw's time per event / qaflow's (1.0 = as fast as raw).
Each timed run is 200 events, so each spans about two of SQLite's WAL auto-checkpoints (an
event writes about 10 WAL frames; the checkpoint comes every 1,000), on both sides alike.
`python -m benchmarks.p2_persisted` also prints the pragmas and each event's statements.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import Figure, interleaved_medians
from benchmarks.p1_event import CLERK, CYCLE, REVIEWER, WORKFLOW
from benchmarks.replay import RawReplayer, Recorder, RecordingStore, UnitRecord, copy_database
from engine.language.loader import load_workflow
from engine.runtime.engine import Engine
from storage import SqlStore, create_database_engine, open_store

BARS = {"FULL": 0.6, "NORMAL": 0.3}
LAPS = 25  # events per timed run = 8 x LAPS: about two WAL auto-checkpoints in each run
RUNS = 9
WARM_LAPS = 1


@dataclass(frozen=True)
class FractionFigure(Figure):
    """A throughput fraction: baseline time / qaflow time, with an "at least" bar."""

    minimum: float = 0.0
    detail: str = ""

    @property
    def ratio(self) -> float:
        return self.baseline / self.ours

    def line(self) -> str:
        verdict = "meets" if self.ok else "MISSES"
        return (
            f"{self.id}: {self.what}: qaflow {self.ours:.1f} {self.unit}, raw sqlite3 {self.baseline:.1f} {self.unit}"
            f"{self.detail}, fraction of raw speed {self.ratio:.3f} (bar {self.bar}) -> {verdict}"
        )


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _base(directory: Path) -> tuple[Path, str]:
    path = directory / "base.db"
    store = open_store(_url(path), migrate=True)
    try:
        engine = Engine(store)
        engine.deploy(load_workflow(WORKFLOW))
        view = engine.start("bench_workflow", CLERK, data={"ref": "BENCH-1"}, assign={"reviewer": REVIEWER.id})
    finally:
        store.close()
    return path, view.id


def _fire_laps(engine: Engine, instance_id: str, laps: int) -> None:
    fire = engine.fire
    for _ in range(laps):
        for trigger, actor, data in CYCLE:
            fire(instance_id, trigger, actor, data)


def _record(base: Path, directory: Path, instance_id: str, synchronous: str, events: int) -> tuple[Recorder, Path]:
    path = copy_database(base, directory / f"recorded-{synchronous}.db")
    recorder = Recorder()
    engine = create_database_engine(_url(path), synchronous=synchronous)
    recorder.install(engine)
    store = RecordingStore(engine, recorder)
    try:
        qaflow = Engine(store)
        qaflow.deploy(load_workflow(WORKFLOW))
        recorder.units.clear()  # keep only the events' units of work
        _fire_laps(qaflow, instance_id, events // len(CYCLE))
    finally:
        store.close()
    if len(recorder.units) != events:
        raise AssertionError(f"recorded {len(recorder.units)} units of work for {events} events")
    return recorder, path


def _pragmas(recorder: Recorder) -> list[str]:
    """The settings qaflow's connect listener ran (`PRAGMA name = value`), in order."""
    return [sql for sql in recorder.connect_trace if sql.upper().startswith("PRAGMA") and "=" in sql]


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(path)
    try:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {name: sorted(connection.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}
    finally:
        connection.close()


def _describe(units: list[UnitRecord]) -> str:
    counts = sorted({len(unit.statements) + 2 for unit in units[: len(CYCLE)]})
    span = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return span


def measure(synchronous: str, directory: Path, verbose: bool = False) -> FractionFigure:
    base, instance_id = _base(directory)
    per_run = LAPS * len(CYCLE)
    total = WARM_LAPS * len(CYCLE) + RUNS * per_run
    recorder, recorded = _record(base, directory, instance_id, synchronous, total)
    pragmas = _pragmas(recorder)
    if not any(p.upper().replace(" ", "") == f"PRAGMASYNCHRONOUS={synchronous}" for p in pragmas):
        raise AssertionError(f"qaflow did not set synchronous={synchronous}: {pragmas}")
    if verbose:
        print(f"  pragmas at connect: {'; '.join(pragmas)}")
        for index, unit in enumerate(recorder.units[: len(CYCLE)]):
            print(f"  event {index + 1} ({CYCLE[index][0]}): " + " | ".join(sql.split(" (")[0][:60] for sql in unit.trace))

    ours_path = copy_database(base, directory / f"qaflow-{synchronous}.db")
    raw_path = copy_database(base, directory / f"raw-{synchronous}.db")
    store: SqlStore = SqlStore(create_database_engine(_url(ours_path), synchronous=synchronous))
    raw = RawReplayer(raw_path, pragmas, recorder.units)
    try:
        qaflow = Engine(store)
        qaflow.deploy(load_workflow(WORKFLOW))
        _fire_laps(qaflow, instance_id, WARM_LAPS)  # warm up both, as a running process would be
        raw.replay(WARM_LAPS * len(CYCLE))
        mine, theirs = interleaved_medians(lambda: _fire_laps(qaflow, instance_id, LAPS), lambda: raw.replay(per_run), runs=RUNS)
        if not qaflow.verify(instance_id).ok:
            raise AssertionError("the benchmark's history does not verify")
    finally:
        raw.close()
        store.close()
    if raw.done != total or _dump(raw_path) != _dump(recorded):
        raise AssertionError("the raw replay did not reproduce the recorded database")

    ours_us, raw_us = mine * 1e6 / per_run, theirs * 1e6 / per_run
    minimum = BARS[synchronous]
    statements = _describe(recorder.units)
    return FractionFigure(
        "P2",
        f"persisted event, SQLite synchronous={synchronous}, {statements} statements/event (BEGIN IMMEDIATE..COMMIT) + "
        f"{len(pragmas)} pragmas at connect, median of {RUNS} interleaved runs of {per_run} events",
        ours_us,
        raw_us,
        f">= {minimum}",
        raw_us / ours_us >= minimum,
        "us/event",
        minimum=minimum,
    )


def run(verbose: bool = False) -> list[Figure]:
    figures: list[Figure] = []
    for synchronous in ("FULL", "NORMAL"):
        with tempfile.TemporaryDirectory(prefix=f"qaflow-p2-{synchronous.lower()}-") as directory:
            figures.append(measure(synchronous, Path(directory), verbose))
    return figures


if __name__ == "__main__":
    for figure in run(verbose=True):
        print(figure.line())

"""Timing helpers shared by the benchmarks: medians of repeated runs, side by side."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured bar: qaflow against its baseline, with the ratio and the verdict."""

    id: str
    what: str
    ours: float
    baseline: float
    bar: str
    ok: bool
    unit: str = "ms"

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline

    def line(self) -> str:
        verdict = "meets" if self.ok else "MISSES"
        return (
            f"{self.id}: {self.what}: qaflow {self.ours:.3f} {self.unit}, baseline {self.baseline:.3f} {self.unit}, "
            f"ratio {self.ratio:.2f} (bar {self.bar}) -> {verdict}"
        )


def median_seconds(work: Callable[[], object], runs: int = 7, inner: int = 1) -> float:
    """The median wall time of `runs` runs of `inner` calls, per call."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(inner):
            work()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def interleaved_medians(first: Callable[[], object], second: Callable[[], object], runs: int = 7, inner: int = 1) -> tuple[float, float]:
    """Medians of two workloads run turn about, so machine noise hits both alike."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        a.append(median_seconds(first, runs=1, inner=inner))
        b.append(median_seconds(second, runs=1, inner=inner))
    return statistics.median(a), statistics.median(b)

"""`make bench`: run every benchmark and print its figure.

Options: `--only P2` (repeatable, or `--only P1,P2`) runs just those bars; `--quick` runs the
slow ones smaller (P7: 10,000 instances instead of 100,000; its line says which was used).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from benchmarks import p1_event, p2_persisted, p5_validate, p7_memory, p8_cli
from benchmarks.harness import Figure


def _p7(quick: bool) -> list[Figure]:
    if quick:
        return [p7_memory.run(p7_memory.QUICK_INSTANCES, p7_memory.QUICK_CHECKPOINT)]
    return [p7_memory.run()]


# id -> run(quick): the figures of that bar, in the order `make bench` prints them
BENCHMARKS: dict[str, Callable[[bool], list[Figure]]] = {
    "P1": lambda quick: [p1_event.run()],
    "P2": lambda quick: p2_persisted.run(),
    "P5": lambda quick: [p5_validate.run()],
    "P7": _p7,
    "P8": lambda quick: p8_cli.run(),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Measure qaflow's performance bars (QUALITY.md).")
    parser.add_argument("--only", action="append", default=[], metavar="ID", help="run only these bars (P1, P2, ...); repeatable")
    parser.add_argument("--quick", action="store_true", help="smaller runs of the slow bars (not the QUALITY figures)")
    args = parser.parse_args(argv)
    chosen = [name.strip().upper() for value in args.only for name in value.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown bar(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    ok = True
    for name in chosen:
        for figure in BENCHMARKS[name](args.quick):
            print(figure.line(), flush=True)
            ok = ok and figure.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: run every benchmark and print its figure."""

from __future__ import annotations

import sys

from benchmarks import p1_event, p5_validate


def main() -> int:
    figures = [p1_event.run(), p5_validate.run()]
    for figure in figures:
        print(figure.line(), flush=True)
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())

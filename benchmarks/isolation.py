"""What reading untrusted workbooks in the isolated reader costs (issue 15).

For each size, the same generated workbook (N projects × 10 milestones × 10 risks) is
read the way an import reads it (safety gate, calamine, every value parsed) in this
process, then through ``importers.reading.read_workbook_isolated`` (a child forked from
the warm fork server, under the OS limits, its answer pickled back), alternately, and
the medians and the added latency are printed. Target: under 150 ms added for 100
projects.

    .venv/bin/python -m benchmarks.isolation [--sizes 100,10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from importers.reading import read_workbook_isolated
from importers.workbook.reader import read_workbook
from importers.workbook.validate import parse_sheet_rows
from pilot.config import Settings, get_settings

# Only what the isolated reader has loaded already at the top level: a module run with
# ``python -m`` is run again in each child before its work (multiprocessing's rule).


def _timed(work: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    work(*args)
    return time.perf_counter() - started


def _read_here(data: bytes, settings: Settings) -> None:
    read_workbook(data, "b.xlsx", settings=settings, rows=parse_sheet_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,10000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from importers.generate import generate_workbook  # openpyxl: not in the children

    settings = get_settings()
    started = time.perf_counter()
    read_workbook_isolated(generate_workbook(1), "warm.xlsx", settings)
    print(f"fork server started and warm in {time.perf_counter() - started:.2f} s (once)")
    print("projects | in process (median) | isolated (median) | added | ratio")
    for size in (int(s) for s in args.sizes.split(",")):
        data = generate_workbook(size)
        runs = args.runs if size <= 1000 else max(1, args.runs // 2)
        inside: list[float] = []
        isolated: list[float] = []
        for _ in range(runs):
            inside.append(_timed(_read_here, data, settings))
            isolated.append(_timed(read_workbook_isolated, data, "b.xlsx", settings))
        a, b = statistics.median(inside), statistics.median(isolated)
        print(
            f"{size:>8} | {a * 1000:>15.0f} ms | {b * 1000:>13.0f} ms | "
            f"{(b - a) * 1000:>+6.0f} ms | {b / a:.2f}"
        )


if __name__ == "__main__":
    main()

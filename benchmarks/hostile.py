"""Time and peak memory of the safety gate and the panorama reader on each hostile case.

.venv/bin/python -m benchmarks.hostile [--million]
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial

from importers.panorama import PanoramaError, read_panorama
from importers.safety import UnsafeFile, check_workbook_bytes
from pilot.config import Settings
from tests.hostile import corpus


def _measure(action: Callable[[], object]) -> tuple[float, float, str]:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        action()
        outcome = "accepted"
    except (UnsafeFile, PanoramaError):
        outcome = "refused"
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 1024 / 1024, outcome


def main() -> None:
    cases = corpus.cases()
    if "--million" in sys.argv:
        cases.append(corpus.million_rows_case())
    print(f"{'case':34} {'bytes':>10} | {'gate s':>7} {'MB':>6} | {'panorama s':>10} {'MB':>6}")
    for case in cases:
        if case.limits:
            continue  # measured with the default limits only
        gate = _measure(partial(check_workbook_bytes, case.data, case.filename, Settings()))
        reader = _measure(partial(read_panorama, case.data, case.filename))
        print(
            f"{case.name:34} {len(case.data):>10} | {gate[0]:7.3f} {gate[1]:6.1f} | "
            f"{reader[0]:10.3f} {reader[1]:6.1f}  {reader[2]}"
        )


if __name__ == "__main__":
    main()

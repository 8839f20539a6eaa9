"""Workbook import: read / validate / apply times and peak memory, beside the raw read
time of the fastest reader, for 100, 1 000 and 10 000 projects (10 milestones and 10
risks each). Targets: the whole import of 10 000 projects within 3× the raw read time
and under 300 MB peak.

    .venv/bin/python -m benchmarks.workbook_import [--sizes 100,1000,10000]

Each size runs on a fresh SQLite database in a temporary folder. Peak memory is the
process's maximum resident set size (``ru_maxrss``) measured in a child process per
size, so sizes do not inherit each other's peak.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import tempfile
import time
from typing import Any


def _raw_read(data: bytes, engine: str) -> float:
    started = time.perf_counter()
    if engine == "calamine":
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in book.sheet_names:
            for _ in book.get_sheet_by_name(name).iter_rows():
                pass
        book.close()
    else:
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for ws in wb.worksheets:
            for _ in ws.iter_rows(values_only=True):
                pass
        wb.close()
    return time.perf_counter() - started


def _run(size: int, queue: Any) -> None:
    folder = tempfile.mkdtemp(prefix="pilot-bench-")
    os.environ["PILOT_VAR_DIR"] = folder
    os.environ["PILOT_DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
    from importers.generate import generate_workbook
    from importers.workbook.reader import read_workbook
    from pilot.db import create_all, get_engine, session_scope
    from pilot.ministries import service as ministries

    data = generate_workbook(size)
    engine = get_engine()
    create_all(engine)
    with session_scope(engine, write=True) as s:
        ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
    raw = {e: min(_raw_read(data, e) for _ in range(2)) for e in ("calamine", "openpyxl")}
    started = time.perf_counter()
    read_workbook(data, "bench.xlsx", engine="openpyxl")
    openpyxl_reader = time.perf_counter() - started
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from importers.intake import submit

    started = time.perf_counter()
    outcome = submit(
        data=data, filename="bench.xlsx", ministry_code="MI", submitted_by="bench", channel="cli"
    )
    total = time.perf_counter() - started
    assert outcome.status == "applied", outcome
    started = time.perf_counter()
    again = submit(
        data=data + b"",
        filename="bench.xlsx",
        ministry_code="MI",
        submitted_by="bench",
        channel="cli",
        dry_run=True,
    )
    dry = time.perf_counter() - started
    queue.put(
        {
            "size": size,
            "mb": len(data) / 1e6,
            "raw_calamine": raw["calamine"],
            "raw_openpyxl": raw["openpyxl"],
            "reader_openpyxl": openpyxl_reader,
            "read": outcome.counts.get("read_ms", 0) / 1000,
            "validate": outcome.counts.get("validate_ms", 0) / 1000,
            "apply": outcome.counts.get("apply_ms", 0) / 1000,
            "total": total,
            "dry_run": dry,
            "dry_status": again.status,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "base_mb": base_rss / 1024,
            "rows": sum(v for k, v in outcome.counts.items() if k.startswith("rows_")),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,10000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print(
        f"{'projets':>8} {'lignes':>7} {'Mo':>5} | {'brut calamine':>13} {'brut openpyxl':>13} | "
        f"{'lecture':>7} {'vérif.':>7} {'écriture':>8} {'total':>7} {'total/brut':>10} | "
        f"{'pic Mo':>7}"
    )
    context = multiprocessing.get_context("spawn")
    for size in sizes:
        queue = context.Queue()
        process = context.Process(target=_run, args=(size, queue))
        process.start()
        r = queue.get()
        process.join()
        print(
            f"{r['size']:>8} {r['rows']:>7} {r['mb']:>5.1f} | {r['raw_calamine']:>12.2f}s "
            f"{r['raw_openpyxl']:>12.2f}s | {r['read']:>6.2f}s {r['validate']:>6.2f}s "
            f"{r['apply']:>7.2f}s {r['total']:>6.2f}s {r['total'] / r['raw_calamine']:>9.1f}× | "
            f"{r['peak_mb']:>7.0f}",
            flush=True,
        )
        print(
            f"{'':>8} (lecteur openpyxl complet : {r['reader_openpyxl']:.2f}s ; essai à blanc "
            f"du même fichier : {r['dry_run']:.2f}s ; mémoire avant l'import : "
            f"{r['base_mb']:.0f} Mo)",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""What follows an import, for 1 000 and 10 000 new projects (10 milestones and 10 risks
each): the upload's answer (the import, its reports' milestone forecasts kept in its
transaction, its follow-up job enqueued), then the follow-up job run by the job queue
(``pilot.jobs.service.run_due``: alerts detected on the projects reported, findings
summary queued), and the daily ``detect_alerts`` on the whole portfolio. While the import
and the job run, a probe in another process (the job's Python work cannot starve it)
opens a tiny write transaction every 20 ms and records how long it waited for SQLite's
write lock: what another import or a request would wait. No target.

    .venv/bin/python -m benchmarks.followup [--sizes 1000,10000]

Each size runs on a fresh SQLite database in a temporary folder.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError


def _probe_loop(url: str, stop: Any, waits: Any) -> None:
    """In a process of its own (so that the job's Python work cannot starve it): a tiny
    write transaction every 20 ms; the longest wait for the lock goes to ``waits``."""
    from pilot import db

    engine = db.make_engine(url)
    longest = 0.0
    while not stop.is_set():
        begun = time.perf_counter()
        try:
            with db.session_scope(engine, write=True) as session:
                session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: waits for the lock
        except OperationalError:
            pass  # waited the whole busy timeout: "database is locked"
        longest = max(longest, time.perf_counter() - begun)
        stop.wait(0.02)
    waits.put(longest)
    engine.dispose()


@contextmanager
def _probe(engine: Engine) -> Iterator[list[float]]:
    """Probe the write lock from another process while the body runs; yields a list that
    holds the longest wait (s) once the body is done."""
    context = multiprocessing.get_context("spawn")
    stop, waits = context.Event(), context.Queue()
    prober = context.Process(
        target=_probe_loop, args=(engine.url.render_as_string(hide_password=False), stop, waits)
    )
    prober.start()
    time.sleep(2)  # the probe's interpreter and its first transaction
    found: list[float] = []
    try:
        yield found
    finally:
        stop.set()
        found.append(waits.get(timeout=120))
        prober.join()


def run(projects: int) -> dict[str, float]:
    folder = tempfile.mkdtemp(prefix="pilot-bench-")
    os.environ["PILOT_VAR_DIR"] = folder
    from pilot import config, db

    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    from importers.generate import generate_workbook
    from importers.intake import submit
    from pilot.alerts.service import detect_alerts
    from pilot.campaigns.service import add_contact
    from pilot.jobs.service import run_due
    from pilot.ministries import service as ministries

    engine = db.get_engine()
    db.create_all(engine)
    with db.session_scope(engine, write=True) as s:
        ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
        add_contact(s, ministry_code="MI", email="dsi@interieur.gouv.fr", actor="bench")
    data = generate_workbook(projects, seed=1)
    with _probe(engine) as import_waits:
        started = time.perf_counter()
        outcome = submit(
            data=data,
            filename="bench.xlsx",
            ministry_code="MI",
            submitted_by="bench",
            channel="cli",
        )
        answered = time.perf_counter() - started
    assert outcome.status == "applied", outcome
    with _probe(engine) as job_waits:
        started = time.perf_counter()
        result = run_due(engine)
        followup = time.perf_counter() - started
    assert (result.done, result.failed) == (1, 0), result
    started = time.perf_counter()
    with db.session_scope(engine, write=True) as s:
        again = detect_alerts(s)
    daily = time.perf_counter() - started
    assert again == []
    engine.dispose()
    return {
        "answer": answered,
        "apply_ms": outcome.counts["apply_ms"] / 1000,
        "followup": followup,
        "import_write_wait": max(import_waits),
        "job_write_wait": max(job_waits),
        "daily_detect": daily,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(size)
        print(
            f"{size:>6} projets : réponse à l'import {r['answer']:.2f} s "
            f"(écriture {r['apply_ms']:.2f} s), suite de l'import (tâche) {r['followup']:.2f} s, "
            f"attente maximale d'une écriture : pendant l'import "
            f"{r['import_write_wait'] * 1000:.0f} ms, pendant la tâche "
            f"{r['job_write_wait'] * 1000:.0f} ms, "
            f"détection quotidienne {r['daily_detect']:.2f} s"
        )


if __name__ == "__main__":
    main()

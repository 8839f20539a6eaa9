"""Time to publish an edition of N projects (all charts, scorecards, pages, PDF booklet,
open data), in one process and with a pool of worker processes, then the incremental
republish after one project changed.

    .venv/bin/python -m benchmarks.publish [--sizes 100 1000] [--workers 2] [--booklet-only]

Synthetic projects (with milestones and risks) are built in memory, so the figures
measure the publishing only; freezing the edition in the database is timed apart
by the test suite's demo (a few hundredths of a second for 72 projects).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from weasyprint import HTML

from pilot.indicators.figures import PortfolioRow, compute_figures, cost_bracket
from pilot.indicators.health import health_from_drift
from scorecards import booklet
from scorecards.drawing import collect_rarely
from scorecards.publish import build
from scorecards.view import EditionSummary, EditionView, ProjectView

MINISTRIES = ["MEF", "MI", "MJ", "MAr", "MEN", "MCAS", "SPM", "MAA", "MEA", "MTES", "MC"]
PHASES = ["Cadrage", "Conception / Réalisation", "Expérimentation", "Déploiement"]
ZONES = [f"Zone fonctionnelle {i}" for i in range(30)]
ON = date(2026, 11, 2)
LAPS: list[str] = []  # each build's elapsed seconds per step


def project(i: int, rng: random.Random) -> ProjectView:
    initial = rng.randint(9, 400) * 1_000_000
    cost = int(initial * rng.uniform(0.9, 1.8))
    start = date(2012, 1, 1) + timedelta(days=rng.randint(0, 3000))
    initial_years = Decimal(rng.randint(20, 90)) / 10
    years = (initial_years * Decimal(str(rng.uniform(0.95, 1.6)))).quantize(Decimal("0.1"))
    budget = (Decimal(cost) - initial) / initial
    schedule = (years - initial_years) / initial_years
    health = health_from_drift(budget, schedule)
    phase = rng.choice(PHASES)
    values: dict[str, Any] = {
        "pilot_id": f"PRJ-{i:05d}",
        "ministry_code": rng.choice(MINISTRIES),
        "ministry_name": "Ministère",
        "name": f"Projet numéro {i}",
        "interministerial": rng.random() < 0.3,
        "description": "Un grand projet numérique de l'État. " * 5,
        "link": "https://www.numerique.gouv.fr/",
        "start": start.isoformat(),
        "phase": phase,
        "functional_zone": rng.choice(ZONES),
        "financing": "Programme 129",
        "confidential": False,
        "entrant": False,
        "weather": rng.choice(["soleil", "nuageux", "orage"]),
        "weather_rosier": False,
        "rebaselined": False,
        "cost_eur": cost,
        "duration_years": str(years),
        "initial_cost_eur": initial,
        "latest_cost_eur": initial,
        "initial_duration_years": str(initial_years),
        "latest_duration_years": str(initial_years),
        "budget_drift_initial": str(round(budget, 4)),
        "schedule_drift_initial": str(round(schedule, 4)),
        "budget_drift_latest": str(round(budget, 4)),
        "schedule_drift_latest": str(round(schedule, 4)),
        "health": health.value if health else None,
        "cost_bracket": cost_bracket(cost, phase),
        "milestones": [
            {
                "name": f"Jalon {k}",
                "baseline": (start + timedelta(days=300 * k)).isoformat(),
                "forecast": (start + timedelta(days=340 * k)).isoformat(),
                "actual": (start + timedelta(days=350 * k)).isoformat() if k < 2 else None,
            }
            for k in range(1, 5)
        ],
        "risks": [
            {
                "title": f"Risque {k}",
                "probability": rng.randint(1, 4),
                "impact": rng.randint(1, 4),
                "mitigated": k % 2 == 0,
            }
            for k in range(3)
        ],
    }
    data = {
        "Ministère porteur": values["ministry_code"],
        "Nom du projet": values["name"],
        "Coût estimé": str(Decimal(cost) / 1_000_000),
        "Date de publication": ON.isoformat(),
    }
    return ProjectView(values["pilot_id"], data, values)


def edition(size: int) -> EditionView:
    rng = random.Random(size)
    rows = [project(i, rng) for i in range(1, size + 1)]
    figures = compute_figures(
        PortfolioRow(
            ministry=r.values["ministry_code"],
            interministerial=r.values["interministerial"],
            phase=r.values["phase"],
            cost_eur=r.values["cost_eur"],
            duration_years=Decimal(r.values["duration_years"]),
            functional_zone=r.values["functional_zone"],
        )
        for r in rows
    ).to_json()
    history = [
        EditionSummary(n, date(2016 + n, 6, 1), f"Édition {n}", figures) for n in range(1, 4)
    ]
    return EditionView("4", 4, ON, "Panorama de référence", False, figures, rows, history)


def cpu_seconds() -> float:
    """CPU time used so far by this process and its finished children (the pool's workers,
    shut down at the end of each publication): unlike the elapsed time, it hardly depends
    on what else the machine runs."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(
    view: EditionView, site: Path, workers: int, booklet: bool | None = None
) -> tuple[float, float, int]:
    """Elapsed and CPU seconds to build ``view`` into ``site``, and scorecards drawn."""
    start, cpu = time.perf_counter(), cpu_seconds()
    report = build(view, site, workers=workers, booklet=booklet)
    LAPS.append(", ".join(f"{name} {s:.1f} s" for name, s in report.seconds.items()))
    return time.perf_counter() - start, cpu_seconds() - cpu, report.drawn


def one_change(view: EditionView, step: int) -> EditionView:
    """``view`` with its first project's current cost raised by ``step`` M€."""
    rows = list(view.rows)
    values = dict(rows[0].values)
    values["cost_eur"] = int(values["cost_eur"]) + step * 1_000_000
    rows[0] = replace(rows[0], values=values)
    return replace(view, rows=rows)


def booklet_times(view: EditionView) -> tuple[float, float, float, float, int]:
    """The booklet alone: CPU seconds to build its HTML, to lay it out, to write the PDF
    (tags included); elapsed seconds for the whole; its pages."""
    start, cpu = time.perf_counter(), time.process_time()
    html = booklet.booklet_html(view)
    cpu_html = time.process_time()
    document = HTML(string=html).render(pdf_variant=booklet.PDF_VARIANT, pdf_tags=True)
    cpu_layout = time.process_time()
    document.write_pdf(pdf_variant=booklet.PDF_VARIANT, pdf_tags=True)
    end = time.process_time()
    return (
        cpu_html - cpu,
        cpu_layout - cpu_html,
        end - cpu_layout,
        time.perf_counter() - start,
        len(document.pages),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--no-single", action="store_true", help="skip the single-process run (pool only)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="incremental republishes timed (median shown)"
    )
    parser.add_argument(
        "--booklet-only", action="store_true", help="time the PDF booklet alone, per size"
    )
    args = parser.parse_args()
    if args.booklet_only:
        collect_rarely()  # as in the pool's worker that lays the booklet out
        for size in args.sizes:
            html, layout, write, seconds, pages = booklet_times(edition(size))
            print(
                f"{size:>5} projets, livret PDF seul : {seconds:7.1f} s ({pages} pages ; CPU "
                f"{html:.1f} s HTML, {layout:.1f} s mise en page, {write:.1f} s écriture du "
                "PDF balisé)",
                flush=True,
            )
        return
    print(f"CPU visibles : {os.cpu_count()} ; workers du pool : {args.workers}", flush=True)
    for size in args.sizes:
        view = edition(size)
        for workers in (args.workers,) if args.no_single else (1, args.workers):
            site = Path(tempfile.mkdtemp(prefix="pilot-bench-"))
            try:
                seconds, cpu, drawn = timed(view, site, workers)
                print(
                    f"{size:>5} projets, {workers} processus : {seconds:7.1f} s "
                    f"(CPU {cpu:.1f} s ; {drawn} fiches dessinées ; étapes : {LAPS[-1]})",
                    flush=True,
                )
                if workers != args.workers:
                    continue
                step = 0
                for booklet in (False, True):
                    times, cpus = [], []
                    for _ in range(args.repeat):
                        step += 1
                        seconds, cpu, drawn = timed(one_change(view, step), site, 1, booklet)
                        times.append(seconds)
                        cpus.append(cpu)
                    what = "avec" if booklet else "sans"
                    print(
                        f"{size:>5} projets, republication après 1 changement ({what} livret "
                        f"PDF) : {statistics.median(times):7.2f} s (CPU "
                        f"{statistics.median(cpus):.2f} s ; médianes de {len(times)} ; "
                        f"{drawn} fiche redessinée)",
                        flush=True,
                    )
            finally:
                shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    main()

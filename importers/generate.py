"""Synthetic ministry workbooks (``pilot generate``): N projects × 10 milestones × 10
risks, with budget lines, for benchmarks and demonstrations. Written in openpyxl's
write-only mode so that 10 000 projects fit in little memory."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook

from importers.workbook.columns import PHASES, SHEETS, WEATHERS, Sheet

MILESTONES_PER_PROJECT = 10
RISKS_PER_PROJECT = 10
BUDGET_YEARS = (2023, 2024)


def _rows(sheet: Sheet, projects: int, rng: random.Random, prefix: str) -> Iterator[list[Any]]:
    today = date.today()
    for n in range(1, projects + 1):
        name = f"{prefix} {n:05d}"
        start = date(2015, 1, 1) + timedelta(days=rng.randrange(2500))
        if sheet.name == "Projets":
            cost = rng.randrange(5, 500) * 1_000_000
            values: dict[str, Any] = {
                "name": name,
                "description": f"Modernisation du système d'information n° {n}",
                "interministerial": rng.choice(("Oui", "Non")),
                "functional_zone": rng.choice(("Ressources humaines", "Finances", "Justice")),
                "programmes": str(100 + n % 300),
                "phase": rng.choice(PHASES[:4]),
                "start_date": start,
                "baseline_cost": cost,
                "baseline_start": start,
                "baseline_end": start + timedelta(days=365 * 4),
                "current_cost": cost + rng.randrange(0, 50) * 1_000_000,
                "forecast_end": start + timedelta(days=365 * 5),
                "weather": rng.choice(WEATHERS),
            }
            yield [values.get(f) for f in sheet.fields]
        elif sheet.name == "Jalons":
            for m in range(MILESTONES_PER_PROJECT):
                planned = start + timedelta(days=120 * (m + 1))
                actual = planned + timedelta(days=rng.randrange(60))
                values = {
                    "project_name": name,
                    "name": f"Jalon {m + 1}",
                    "baseline_date": planned,
                    "forecast_date": planned + timedelta(days=30),
                    "actual_date": actual if actual < today else None,
                }
                yield [values.get(f) for f in sheet.fields]
        elif sheet.name == "Risques":
            for r in range(RISKS_PER_PROJECT):
                values = {
                    "project_name": name,
                    "title": f"Risque {r + 1}",
                    "category": rng.choice(("technique", "achats", "RH")),
                    "probability": rng.randint(1, 4),
                    "impact": rng.randint(1, 4),
                    "owner": "Directeur de projet",
                    "mitigation": "Plan d'action suivi en comité",
                    "status": "ouvert",
                    "trend": "stable",
                    "opened_on": start,
                }
                yield [values.get(f) for f in sheet.fields]
        else:
            for year in BUDGET_YEARS:
                for kind in ("build", "run"):
                    values = {
                        "project_name": name,
                        "year": year,
                        "kind": kind,
                        "planned": rng.randrange(1, 20) * 100_000,
                        "consumed": rng.randrange(0, 20) * 100_000,
                    }
                    yield [values.get(f) for f in sheet.fields]


def generate_workbook(projects: int, seed: int = 0, prefix: str = "Projet synthétique") -> bytes:
    """A workbook of ``projects`` new projects (no PILOT identifier yet), named
    ``<prefix> 00001``…: another prefix makes workbooks one ministry can apply in turn."""
    rng = random.Random(seed)
    book = Workbook(write_only=True)
    for sheet in SHEETS:
        ws = book.create_sheet(sheet.name)
        ws.append([c.header for c in sheet.columns])
        for row in _rows(sheet, projects, rng, prefix):
            ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

"""A ministry with one project, its baseline, a report, milestones, risks and budget."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from importers.workbook.template import build_template
from pilot.db import metadata, session_scope
from pilot.ministries import service as ministries
from pilot.projects import service as projects
from pilot.projects.models import BudgetLine, Milestone, Risk


@dataclass
class Seed:
    ministry_code: str
    project_id: int
    other_project_id: int


@pytest.fixture
def seed(engine: Engine) -> Seed:
    with session_scope(engine, write=True) as s:
        mi = ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
        mj = ministries.create_ministry(s, "MJ", "Ministère de la Justice")
        p = projects.create_project(
            s,
            ministry=mi,
            name="Réseau Radio du Futur",
            on=date(2020, 1, 1),
            actor="test",
            phase="Conception / Réalisation",
            start_date=date(2020, 1, 1),
        )
        other = projects.create_project(
            s, ministry=mj, name="Portalis", on=date(2020, 1, 1), actor="test", phase="Cadrage"
        )
        projects.set_initial_baseline(
            s,
            p,
            approved_on=date(2020, 1, 1),
            cost_eur=100_000_000,
            start_date=date(2020, 1, 1),
            end_date=date(2024, 12, 31),
            actor="test",
        )
        projects.record_report(
            s,
            p,
            reported_on=date(2023, 6, 1),
            actor="test",
            phase="Conception / Réalisation",
            current_cost_eur=120_000_000,
            forecast_end=date(2025, 6, 30),
            weather="nuageux",
        )
        assert p.id is not None and other.id is not None
        s.add(
            Milestone(
                project_id=p.id,
                name="Appel d'offres",
                baseline_date=date(2020, 6, 1),
                forecast_date=date(2020, 9, 1),
                actual_date=date(2020, 9, 15),
            )
        )
        s.add(Milestone(project_id=p.id, name="Mise en service", baseline_date=date(2024, 6, 1)))
        s.add(
            Risk(
                project_id=p.id,
                title="Retard du titulaire",
                probability=3,
                impact=3,
                mitigation="Pénalités",
                status="ouvert",
            )
        )
        s.add(
            BudgetLine(
                project_id=p.id,
                year=2023,
                kind="build",
                planned_eur=10_000_000,
                consumed_eur=8_000_000,
            )
        )
        return Seed("MI", p.id, other.id)


def template_for(engine: Engine, code: str) -> openpyxl.Workbook:
    with session_scope(engine) as s:
        ministry = ministries.get_by_code(s, code)
        assert ministry is not None
        data = build_template(s, ministry)
    return openpyxl.load_workbook(io.BytesIO(data))


def to_bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def set_cells(ws: Any, row: int, values: dict[str, Any]) -> None:
    """Write values in the columns named by their headers (as an agent would)."""
    headers = {c.value: c.column for c in ws[1]}
    for header, value in values.items():
        ws.cell(row=row, column=headers[header]).value = value


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare a database before and after (but the import's
    own record: its row, its findings and the job of its follow-up; and the data version,
    which every write bumps, the import's record included)."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in ("import_file", "finding", "job", "data_version"):
                continue
            rows = conn.execute(text(f'SELECT * FROM "{table.name}"')).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return tables


__all__ = ["Seed", "Session", "dump", "seed", "set_cells", "template_for", "to_bytes"]

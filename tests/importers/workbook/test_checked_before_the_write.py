"""The workbook is checked before the write transaction, with no write lock held; what
changes in the ministry's data before the write begins is seen: the workbook is checked
again under the lock, against the data as it then is."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select
from sqlmodel import col

from importers.intake import submit
from pilot.db import session_scope
from pilot.imports.models import Finding, ImportStatus
from pilot.ministries import service as ministries
from pilot.projects import service as projects
from pilot.projects.models import Project, Report
from tests.importers.workbook.conftest import Seed, set_cells, template_for, to_bytes

NEW = "Plateforme des plaintes en ligne"


def _workbook(engine: Engine) -> bytes:
    book = template_for(engine, "MI")
    set_cells(
        book["Projets"],
        3,
        {"Nom du projet": NEW, "Phase": "Cadrage", "Coût actualisé (€)": 5_000_000},
    )
    return to_bytes(book)


def test_a_project_created_meanwhile_under_the_same_name_rejects_the_workbook(
    engine: Engine, seed: Seed
) -> None:
    data = _workbook(engine)

    def meanwhile(step: str) -> None:
        if step == "enregistrement":  # checked already, the write not begun
            with session_scope(engine, write=True) as s:
                mi = ministries.get_by_code(s, "MI")
                assert mi is not None
                projects.create_project(
                    s, ministry=mi, name=NEW, on=date(2024, 1, 1), actor="agent", phase="Cadrage"
                )

    outcome = submit(
        data=data,
        filename="mi.xlsx",
        ministry_code="MI",
        submitted_by="cli",
        channel="cli",
        progress=meanwhile,
    )
    assert outcome.status == ImportStatus.REJECTED.value, outcome
    with session_scope(engine) as s:
        codes = s.scalars(
            select(col(Finding.code)).where(col(Finding.import_id) == outcome.import_id)
        ).all()
        assert "existing_project" in codes
        assert s.scalar(select(func.count()).where(col(Project.name) == NEW)) == 1
        imported = select(func.count()).where(col(Report.import_id) == outcome.import_id)
        assert s.scalar(imported) == 0  # nothing of the workbook was written


def test_a_change_elsewhere_meanwhile_lets_the_checked_workbook_be_applied(
    engine: Engine, seed: Seed
) -> None:
    data = _workbook(engine)

    def meanwhile(step: str) -> None:
        if step == "enregistrement":  # another ministry's project: not this one's data
            with session_scope(engine, write=True) as s:
                mj = ministries.get_by_code(s, "MJ")
                assert mj is not None
                projects.create_project(
                    s, ministry=mj, name=NEW, on=date(2024, 1, 1), actor="agent", phase="Cadrage"
                )

    outcome = submit(
        data=data,
        filename="mi.xlsx",
        ministry_code="MI",
        submitted_by="cli",
        channel="cli",
        progress=meanwhile,
    )
    assert outcome.status == ImportStatus.APPLIED.value, outcome
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).where(col(Project.name) == NEW)) == 2

"""Template → filled by openpyxl as an agent would → import → the database changed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select
from sqlmodel import col

from importers.intake import submit
from pilot.audit.models import AuditEvent
from pilot.db import session_scope
from pilot.imports.models import ImportFile, ImportStatus
from pilot.projects import service as projects
from pilot.projects.models import Milestone, Project, Report, Risk, format_pilot_id
from tests.importers.workbook.conftest import Seed, set_cells, template_for, to_bytes


def fill_as_an_agent(engine: Engine, seed: Seed) -> bytes:
    book = template_for(engine, "MI")
    ws = book["Projets"]
    assert ws.cell(row=2, column=1).value == format_pilot_id(seed.project_id)
    set_cells(ws, 2, {"Coût actualisé (€)": 130_000_000, "Météo": "orage"})
    set_cells(
        ws,
        3,
        {
            "Nom du projet": "Plateforme des plaintes en ligne",
            "Phase": "En cadrage",
            "Date de début": "01/01/2024",
            "Coût de référence (€)": "12 500 000",
            "Coût actualisé (€)": 12_500_000,
            "Projet interministériel": "Non",
            "Météo": "soleil",
        },
    )
    jalons = book["Jalons"]
    set_cells(
        jalons,
        4,
        {
            "Identifiant PILOT": format_pilot_id(seed.project_id),
            "Jalon": "Bascule nationale",
            "Date de référence": date(2025, 1, 1),
        },
    )
    set_cells(
        jalons,
        5,
        {
            "Nom du projet": "Plateforme des plaintes en ligne",
            "Jalon": "Lancement",
            "Date de référence": date(2024, 3, 1),
        },
    )
    risques = book["Risques"]
    set_cells(risques, 2, {"Statut": "clos", "Date de clôture": "15/03/2024"})
    return to_bytes(book)


def test_a_filled_template_updates_the_database_with_history_and_audit(
    engine: Engine, seed: Seed
) -> None:
    data = fill_as_an_agent(engine, seed)
    outcome = submit(
        data=data, filename="mi.xlsx", ministry_code="MI", submitted_by="cli", channel="cli"
    )
    assert outcome.status == ImportStatus.APPLIED.value, outcome
    assert outcome.errors == 0 and not outcome.duplicate
    assert outcome.counts["projects_created"] == 1
    assert outcome.counts["milestones_created"] == 2
    assert outcome.counts["risks_updated"] == 1
    with session_scope(engine) as s:
        reports = projects.reports(s, seed.project_id)
        assert [r.current_cost_eur for r in reports] == [120_000_000, 130_000_000]
        assert reports[-1].weather == "orage" and reports[-1].import_id == outcome.import_id
        new = s.scalars(
            select(Project).where(col(Project.name) == "Plateforme des plaintes en ligne")
        ).one()
        assert new.phase == "Cadrage" and new.start_date == date(2024, 1, 1)
        initial = projects.initial_baseline(s, new.id or 0)
        assert initial is not None and initial.cost_eur == 12_500_000
        names = set(
            s.scalars(select(col(Milestone.name)).where(col(Milestone.project_id) == new.id))
        )
        assert names == {"Lancement"}
        risk = s.scalars(select(Risk).where(col(Risk.project_id) == seed.project_id)).one()
        assert (risk.status, risk.closed_on) == ("clos", date(2024, 3, 15))
        audit = s.scalars(
            select(AuditEvent).where(col(AuditEvent.import_id) == outcome.import_id)
        ).all()
        assert {(a.entity, a.action) for a in audit} >= {
            ("project", "create"),
            ("report", "report"),
            ("milestone", "create"),
            ("risk", "update"),
            ("baseline", "create"),
        }
        closed = [a for a in audit if a.entity == "risk" and a.field == "status"]
        assert [(a.old_value, a.new_value) for a in closed] == [("ouvert", "clos")]


def test_sending_the_same_file_again_changes_nothing_and_says_so(
    engine: Engine, seed: Seed
) -> None:
    data = fill_as_an_agent(engine, seed)
    first = submit(
        data=data, filename="mi.xlsx", ministry_code="MI", submitted_by="cli", channel="cli"
    )
    assert first.status == "applied"
    with session_scope(engine) as s:
        reports_before = s.scalar(select(func.count()).select_from(Report))
    again = submit(
        data=data, filename="copie.xlsx", ministry_code="MI", submitted_by="cli", channel="cli"
    )
    assert again.duplicate and again.status == ImportStatus.DUPLICATE.value
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Report)) == reports_before
        rows = s.scalars(select(ImportFile).order_by(col(ImportFile.id))).all()
        assert [r.status for r in rows] == ["applied", "duplicate"]
        assert rows[0].sha256 == rows[1].sha256


def test_a_dry_run_counts_the_changes_and_writes_nothing(engine: Engine, seed: Seed) -> None:
    data = fill_as_an_agent(engine, seed)
    outcome = submit(
        data=data,
        filename="mi.xlsx",
        ministry_code="MI",
        submitted_by="cli",
        channel="cli",
        dry_run=True,
    )
    assert outcome.status == ImportStatus.VALIDATED.value
    assert outcome.counts["projects_created"] == 1
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 1
        assert s.scalar(select(func.count()).select_from(Project)) == 2

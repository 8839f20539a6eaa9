"""A project first known "en cadrage" (no cost) takes the first cost a ministry workbook
gives as its initial baseline, with no re-baseline reason asked."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from importers.intake import submit
from pilot.audit.models import AuditEvent
from pilot.db import session_scope
from pilot.ministries import service as ministries
from pilot.projects import service as projects
from pilot.projects.models import BaselineKind
from tests.importers.workbook.conftest import set_cells, template_for, to_bytes


def _row_of(ws: Any, name: str) -> int:
    headers = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        if ws.cell(row=row, column=headers["Nom du projet"]).value == name:
            return row
    raise AssertionError(name)


def test_the_first_known_cost_becomes_the_initial_baseline_without_a_reason(
    engine: Engine,
) -> None:
    with session_scope(engine, write=True) as s:
        mi = ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
        costless = projects.create_project(
            s, ministry=mi, name="SAPHIR", on=date(2016, 11, 1), actor="test", phase="Cadrage"
        )
        projects.set_initial_baseline(
            s,
            costless,
            approved_on=date(2016, 11, 1),
            cost_eur=None,
            start_date=date(2016, 9, 1),
            end_date=None,
            actor="test",
        )
        bare = projects.create_project(
            s, ministry=mi, name="CROCUS", on=date(2016, 11, 1), actor="test", phase="Cadrage"
        )
        ids = {"SAPHIR": costless.id, "CROCUS": bare.id}
    book = template_for(engine, "MI")
    ws = book["Projets"]
    set_cells(
        ws,
        _row_of(ws, "SAPHIR"),
        {
            "Phase": "Conception / Réalisation",
            "Coût de référence (€)": 12_500_000,
            "Fin de référence": date(2019, 8, 31),
            "Coût actualisé (€)": 13_000_000,
        },
    )
    set_cells(
        ws,
        _row_of(ws, "CROCUS"),
        {
            "Phase": "Conception / Réalisation",
            "Date de début": date(2017, 1, 1),
            "Coût actualisé (€)": 4_000_000,
            "Fin prévisionnelle": date(2019, 12, 31),
        },
    )
    outcome = submit(
        data=to_bytes(book),
        filename="mi.xlsx",
        ministry_code="MI",
        submitted_by="cli",
        channel="cli",
    )
    assert outcome.status == "applied", outcome
    with session_scope(engine) as s:
        for name, cost, start, end in (
            ("SAPHIR", 12_500_000, date(2016, 9, 1), date(2019, 8, 31)),
            ("CROCUS", 4_000_000, date(2017, 1, 1), date(2019, 12, 31)),
        ):
            baselines = projects.baselines(s, ids[name] or 0)
            assert len(baselines) == 1, name  # no re-baseline
            initial = baselines[0]
            assert initial.kind == BaselineKind.INITIAL.value
            assert (initial.cost_eur, initial.start_date, initial.end_date) == (cost, start, end)
            assert initial.source == "classeur ministériel"
        events = s.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "baseline", AuditEvent.project_id == ids["SAPHIR"]
            )
        ).all()
        completed = [e for e in events if e.action == "update"]
        assert len(completed) == 1 and completed[0].field == "cost_eur"
        assert completed[0].new_value is not None and completed[0].new_value.startswith("12500000")

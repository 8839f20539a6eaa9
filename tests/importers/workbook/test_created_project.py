"""A project created by workbook keeps everything its row declares, its LOLF programmes
included, up to the published "Financement"; programmes left as they are keep the label
PILOT already had."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select
from sqlmodel import col

from importers.intake import submit
from pilot.db import session_scope
from pilot.editions import service as editions
from pilot.imports.models import ImportStatus
from pilot.projects.models import Project
from tests.importers.workbook.conftest import Seed, set_cells, template_for, to_bytes

NEW = "Plateforme des plaintes en ligne"


def _import(data: bytes) -> None:
    outcome = submit(
        data=data, filename="mi.xlsx", ministry_code="MI", submitted_by="cli", channel="cli"
    )
    assert outcome.status == ImportStatus.APPLIED.value, outcome


def test_a_project_created_by_workbook_keeps_its_row_programmes_included(
    engine: Engine, seed: Seed
) -> None:
    book = template_for(engine, "MI")
    set_cells(
        book["Projets"],
        3,
        {
            "Nom du projet": NEW,
            "Description": "Déposer plainte en ligne.",
            "Lien": "https://www.example.gouv.fr/plainte",
            "Projet interministériel": "Oui",
            "Zone fonctionnelle": "Justice",
            "Programmes LOLF": "166, 216",
            "Phase": "Cadrage",
            "Date de début": date(2024, 1, 1),
            "Coût de référence (€)": 12_500_000,
            "Début de référence": date(2024, 1, 1),
            "Fin de référence": date(2026, 12, 31),
            "Coût actualisé (€)": 13_000_000,
            "Fin prévisionnelle": date(2027, 3, 31),
            "Météo": "soleil",
        },
    )
    _import(to_bytes(book))
    with session_scope(engine) as s:
        new = s.scalars(select(Project).where(col(Project.name) == NEW)).one()
        assert (new.description, new.link, new.interministerial) == (
            "Déposer plainte en ligne.",
            "https://www.example.gouv.fr/plainte",
            True,
        )
        assert (new.functional_zone_label, new.phase, new.start_date) == (
            "Justice",
            "Cadrage",
            date(2024, 1, 1),
        )
        assert (new.programmes, new.financing_label) == ("166,216", "166, 216")
        prepared = editions.prepare_publication(s, published_on=date(2027, 1, 1))
        published = {values["name"]: (row, values) for _, row, values in prepared.rows}
        row, values = published[NEW]
        assert values["programmes"] == [166, 216] and values["financing"] == "166, 216"
        assert row["Financement [programme(s)]"] == "166, 216"
        assert row["Zone fonctionnelle"] == "Justice"


def test_unchanged_programmes_keep_their_label_and_changed_ones_replace_it(
    engine: Engine, seed: Seed
) -> None:
    with session_scope(engine, write=True) as s:
        project = s.get(Project, seed.project_id)
        assert project is not None
        project.programmes, project.financing_label = "176", "Programme 176 (police nationale)"
    book = template_for(engine, "MI")
    assert book["Projets"]["G2"].value == "176"
    set_cells(book["Projets"], 2, {"Météo": "orage"})
    _import(to_bytes(book))
    with session_scope(engine) as s:
        project = s.get(Project, seed.project_id)
        assert project is not None
        assert (project.programmes, project.financing_label) == (
            "176",
            "Programme 176 (police nationale)",
        )
    set_cells(book["Projets"], 2, {"Programmes LOLF": "176, 216"})
    _import(to_bytes(book))
    with session_scope(engine) as s:
        project = s.get(Project, seed.project_id)
        assert project is not None
        assert (project.programmes, project.financing_label) == ("176,216", "176, 216")

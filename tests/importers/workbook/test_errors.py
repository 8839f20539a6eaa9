"""A workbook with errors in every sheet: all of them reported, at the right cells, and
the database unchanged."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from importers.intake import submit
from importers.workbook.findings import Issue
from importers.workbook.reader import WorkbookError, read_workbook
from importers.workbook.report import issues_of, report_workbook
from pilot.db import session_scope
from pilot.imports.models import ImportFile
from pilot.projects.models import format_pilot_id
from tests.importers.workbook.conftest import Seed, dump, set_cells, template_for, to_bytes


def test_errors_in_every_sheet_are_all_reported_and_nothing_changes(
    engine: Engine, seed: Seed
) -> None:
    book = template_for(engine, "MI")
    projets = book["Projets"]
    set_cells(projets, 2, {"Coût de référence (€)": 90_000_000, "Météo": "grêle"})
    set_cells(
        projets,
        3,
        {
            "Identifiant PILOT": format_pilot_id(seed.other_project_id),
            "Nom du projet": "Portalis",
            "Phase": "Cadrage",
        },
    )
    set_cells(
        projets,
        4,
        {"Identifiant PILOT": "PRJ-99999", "Nom du projet": "Fantôme", "Phase": "Cadrage"},
    )
    set_cells(projets, 5, {"Nom du projet": "Sans phase", "Date de début": "32/13/2020"})
    jalons = book["Jalons"]
    tomorrow = date.today() + timedelta(days=2)
    set_cells(jalons, 3, {"Date réelle": tomorrow})
    set_cells(
        jalons,
        4,
        {"Identifiant PILOT": format_pilot_id(seed.project_id), "Jalon": "Appel d'offres"},
    )
    risques = book["Risques"]
    set_cells(risques, 2, {"Mesures de réduction": None, "Probabilité (1 à 4)": 4})
    set_cells(
        risques,
        3,
        {
            "Identifiant PILOT": format_pilot_id(seed.project_id),
            "Risque": "Budget",
            "Probabilité (1 à 4)": 7,
            "Impact (1 à 4)": 1,
        },
    )
    budget = book["Budget"]
    set_cells(budget, 2, {"Montant prévu (€)": "beaucoup", "Année": 1850})
    data = to_bytes(book)
    before = dump(engine)
    outcome = submit(
        data=data, filename="faux.xlsx", ministry_code="MI", submitted_by="cli", channel="cli"
    )
    assert outcome.status == "rejected"
    assert dump(engine) == before
    with session_scope(engine) as s:
        found = {(i.sheet, i.column, i.row, i.code) for i in issues_of(s, outcome.import_id)}
        assert s.exec(select(ImportFile)).one().status == "rejected"
    assert {
        ("Projets", "J", 2, "baseline_changed"),
        ("Projets", "P", 2, "invalid_value"),
        ("Projets", "A", 3, "unknown_project"),
        ("Projets", "A", 4, "unknown_project"),
        ("Projets", "H", 5, "required"),
        ("Projets", "I", 5, "invalid_value"),
        ("Jalons", "F", 3, "future_date"),
        ("Jalons", "C", 4, "duplicate_row"),
        ("Risques", "H", 2, "mitigation_required"),
        ("Risques", "E", 3, "invalid_value"),
        ("Budget", "E", 2, "invalid_value"),
        ("Budget", "C", 2, "invalid_value"),
    } <= found
    assert outcome.errors == len([f for f in found if f[3] != "cost_drop"])
    marked = openpyxl.load_workbook(
        io.BytesIO(report_workbook(data, issues_of_list(engine, outcome.import_id)))
    )
    assert marked.sheetnames[0] == "Anomalies"
    assert marked["Projets"]["P2"].comment is not None
    assert "soleil, nuageux, orage" in marked["Projets"]["P2"].comment.text


def issues_of_list(engine: Engine, import_id: int) -> list[Issue]:
    with session_scope(engine) as s:
        return issues_of(s, import_id)


def test_a_file_that_is_not_a_workbook_is_rejected_in_french(engine: Engine, seed: Seed) -> None:
    for data in (b"", b"hello", b"PK\x03\x04garbage", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"):
        outcome = submit(
            data=data, filename="x.xlsx", ministry_code="MI", submitted_by="cli", channel="cli"
        )
        assert outcome.status == "rejected" and outcome.errors == 1
    try:
        read_workbook(b"not a zip")
    except WorkbookError as error:
        assert "classeur" in str(error)
    else:
        raise AssertionError("expected a WorkbookError")


def test_headers_match_in_any_order_and_case_and_extra_columns_warn(
    engine: Engine, seed: Seed
) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "PROJETS"
    ws.append(["  phase ", "NOM DU PROJET", "cout actualise", "Colonne perso"])
    ws.append(["Cadrage", "Nouveau projet", "1 234,5", "x"])
    outcome = submit(
        data=to_bytes(book),
        filename="x.xlsx",
        ministry_code="MI",
        submitted_by="cli",
        channel="cli",
    )
    assert outcome.status == "applied", outcome
    with session_scope(engine) as s:
        codes = {i.code for i in issues_of(s, outcome.import_id)}
    assert "extra_column" in codes and "missing_sheet" in codes


def test_the_reader_enforces_the_row_limit(
    engine: Engine, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PILOT_MAX_ROWS_PER_SHEET", "3")
    from pilot import config

    config.get_settings.cache_clear()
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Projets"
    ws.append(["Nom du projet", "Phase"])
    for n in range(5):
        ws.append([f"P{n}", "Cadrage"])
    try:
        read_workbook(to_bytes(book))
    except WorkbookError as error:
        assert "limite" in str(error)
    else:
        raise AssertionError("expected a WorkbookError")
    config.get_settings.cache_clear()


def test_an_over_long_cell_is_reported_at_its_cell_and_nothing_changes(
    engine: Engine, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PILOT_MAX_CELL_CHARS", "40")
    from pilot import config

    config.get_settings.cache_clear()
    book = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Description": "x" * 41})
    before = dump(engine)
    outcome = submit(
        data=to_bytes(book),
        filename="long.xlsx",
        ministry_code="MI",
        submitted_by="agent",
        channel="cli",
        engine=engine,
    )
    config.get_settings.cache_clear()
    assert outcome.status == "rejected"
    with session_scope(engine) as session:
        found = [i for i in issues_of(session, outcome.import_id) if i.code == "cell_too_long"]
    header = [c.value for c in book["Projets"][1]]
    letter = openpyxl.utils.get_column_letter(header.index("Description") + 1)
    assert [(i.sheet, i.row, i.column) for i in found] == [("Projets", 2, letter)]
    assert "41 caractères ; la limite est de 40. Raccourcissez-la." in found[0].message
    assert dump(engine) == before  # every table but the import's own record

"""What an agent reads about an import is French and in order: findings sorted by sheet
and row, statuses in French (HTML report, ``pilot imports``), ``--help`` texts, a line
for a clean import, a year's own example, and no hint of another ministry's projects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from importers.intake import submit
from importers.workbook.columns import SHEETS
from importers.workbook.findings import Issue
from importers.workbook.report import STATUS_LABELS, in_reading_order, issues_of
from pilot.cli import app
from pilot.db import session_scope
from pilot.imports.models import ImportStatus
from pilot.projects.models import format_pilot_id
from tests.importers.workbook.conftest import Seed, set_cells, template_for, to_bytes

runner = CliRunner()


def _submit(data: bytes, dry_run: bool = False) -> int:
    outcome = submit(
        data=data,
        filename="mi.xlsx",
        ministry_code="MI",
        submitted_by="cli",
        channel="cli",
        dry_run=dry_run,
    )
    return outcome.import_id


def _messy(engine: Engine, seed: Seed) -> bytes:
    """Errors scattered over the sheets, written in no particular order."""
    book = template_for(engine, "MI")
    set_cells(book["Budget"], 2, {"Année": "deux mille"})
    set_cells(book["Projets"], 2, {"Météo": "grêle"})
    set_cells(book["Risques"], 2, {"Probabilité (1 à 4)": 9})
    set_cells(book["Projets"], 2, {"Phase": "Rêverie"})
    set_cells(book["Jalons"], 3, {"Date réelle": "32/13/2020"})
    set_cells(book["Jalons"], 2, {"Date prévisionnelle": "bientôt"})
    return to_bytes(book)


def test_findings_are_listed_by_sheet_then_row_then_column(engine: Engine, seed: Seed) -> None:
    import_id = _submit(_messy(engine, seed))
    with session_scope(engine) as s:
        issues = issues_of(s, import_id)
    order = [s.name for s in SHEETS]
    places = [(order.index(i.sheet or ""), i.row or 0, i.column or "") for i in issues]
    assert places == sorted(places) and len(places) == 6
    assert [(i.sheet, i.row) for i in issues][:2] == [("Projets", 2), ("Projets", 2)]
    assert [i.column for i in issues][:2] == ["H", "P"]  # Phase before Météo
    result = runner.invoke(app, ["imports", str(import_id)])
    assert result.exit_code == 0, result.output
    listed = [
        (m.group(1), int(m.group(3)))
        for m in re.finditer(r"onglet (\w+) ([A-Z]+)(\d+)", result.output)
    ]
    assert listed == [(i.sheet, i.row) for i in issues]


def test_workbook_findings_come_first_and_unknown_sheets_last() -> None:
    issues = [
        Issue("x", "budget", sheet="Budget", row=2, column="C"),
        Issue("x", "inconnu", sheet="Feuil1", row=1, column="A"),
        Issue("x", "jalons AA", sheet="jalons", row=3, column="AA"),
        Issue("x", "jalons B", sheet="Jalons", row=3, column="B"),
        Issue("x", "classeur"),
    ]
    assert [i.message for i in in_reading_order(issues)] == [
        "classeur",
        "jalons B",
        "jalons AA",
        "budget",
        "inconnu",
    ]


def test_statuses_are_french_in_the_html_report_and_the_imports_listing(
    engine: Engine, seed: Seed, tmp_path: Path
) -> None:
    rejected = _submit(_messy(engine, seed))
    _submit(to_bytes(template_for(engine, "MI")), dry_run=True)
    report = tmp_path / "rapport.html"
    result = runner.invoke(app, ["imports", "--show", str(rejected), "--report", str(report)])
    assert result.exit_code == 0, result.output
    page = report.read_text(encoding="utf-8")
    assert "Statut : rejeté." in page and "rejected" not in page
    listing = runner.invoke(app, ["imports"])
    assert listing.exit_code == 0, listing.output
    assert "rejeté" in listing.output and "validé" in listing.output
    assert not any(s.value in listing.output.split() for s in ImportStatus)
    assert set(STATUS_LABELS) == {s.value for s in ImportStatus}


def test_a_clean_import_still_prints_a_line(engine: Engine, seed: Seed) -> None:
    import_id = _submit(to_bytes(template_for(engine, "MI")), dry_run=True)
    for args in (["imports", str(import_id)], ["imports", "--show", str(import_id)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert f"Import n° {import_id} — mi.xlsx (MI)" in result.output
        assert "validé, aucune anomalie." in result.output
    missing = runner.invoke(app, ["imports", "999"])
    assert missing.exit_code == 1 and "Aucun import n° 999." in missing.output


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("template", "Écrire le classeur d'un ministère"),
        ("import", "Importer le classeur d'un ministère"),
        ("imports", "Lister les imports"),
        ("generate", "Écrire un classeur fictif"),
        ("scheduler", "Lancer les tâches planifiées"),
    ],
)
def test_workbook_commands_explain_themselves_in_french(command: str, expected: str) -> None:
    result = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert expected in result.output
    for english in ("Ministry code", "Validate only", "Where to write", "Only this", "Random"):
        assert english not in result.output


def test_a_wrong_year_is_explained_with_a_year(engine: Engine, seed: Seed) -> None:
    import_id = _submit(_messy(engine, seed))
    with session_scope(engine) as s:
        issues = {(i.sheet, i.field): i.message for i in issues_of(s, import_id)}
    year = issues[("Budget", "year")]
    assert year == (
        "« deux mille » n'est pas un nombre. Indiquez une année de 1990 à 2100 (exemple : 2024)."
    )
    assert "1 234,5" not in year
    assert issues[("Risques", "probability")] == (
        "Indiquez un nombre entier de 1 à 4 (exemple : 3)."
    )


def test_another_ministrys_identifier_gets_the_answer_of_an_unknown_one(
    engine: Engine, seed: Seed
) -> None:
    book = template_for(engine, "MI")
    foreign, unknown = format_pilot_id(seed.other_project_id), "PRJ-99999"
    set_cells(
        book["Projets"], 3, {"Identifiant PILOT": foreign, "Nom du projet": "A", "Phase": "Cadrage"}
    )
    set_cells(
        book["Projets"], 4, {"Identifiant PILOT": unknown, "Nom du projet": "B", "Phase": "Cadrage"}
    )
    set_cells(book["Jalons"], 4, {"Identifiant PILOT": foreign, "Jalon": "J"})
    set_cells(book["Jalons"], 5, {"Identifiant PILOT": unknown, "Jalon": "J"})
    import_id = _submit(to_bytes(book))
    with session_scope(engine) as s:
        found = {(i.sheet, i.row): i for i in issues_of(s, import_id)}
    for sheet, first in (("Projets", 3), ("Jalons", 4)):
        a, b = found[(sheet, first)], found[(sheet, first + 1)]
        assert a.code == b.code == "unknown_project"
        assert a.message.replace(foreign, "ID") == b.message.replace(unknown, "ID")
        assert "ministère" not in a.message.replace("votre ministère", "")

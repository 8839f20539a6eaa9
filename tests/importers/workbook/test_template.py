"""The template every demo ministry gets: protection read back from the file (only PILOT's
columns locked, in the prefilled rows and the prepared empty rows), formats, drop-down
lists and autofilter over the whole table, readable headers, a Lisez-moi sheet explaining
every column; and the demo's own workbooks import as they are."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine
from sqlmodel import col, select

from importers.intake import submit
from importers.panorama import import_panorama_file
from importers.workbook.columns import ALL_SHEETS, README_SHEET, SHEETS, Kind, Sheet, column_letter
from importers.workbook.template import (
    DATE_FORMAT,
    EMPTY_ROWS,
    MONEY_FORMAT,
    build_template,
    header_height,
    ministry_rows,
)
from pilot.db import make_engine, metadata, session_scope
from pilot.demo import add_demo_follow_up
from pilot.imports.models import ImportStatus
from pilot.ministries.models import Ministry
from pilot.timeutil import today
from tests.conftest import PANORAMA_DIR


@dataclass
class Template:
    code: str
    data: bytes
    prefilled: dict[str, int]  # sheet name → prefilled rows
    book: openpyxl.Workbook = field(default_factory=openpyxl.Workbook)


def load_demo(engine: Engine) -> None:
    """The demo's data: the two real editions and the fictitious follow-up."""
    with session_scope(engine, write=True) as s:
        for name in ("panorama-2016-11.csv", "panorama-2017-06.csv"):
            import_panorama_file(s, PANORAMA_DIR / name)
        assert add_demo_follow_up(s, today=today()) > 0


def demo_templates_of(engine: Engine) -> list[Template]:
    templates = []
    with session_scope(engine) as s:
        for ministry in s.exec(select(Ministry).order_by(col(Ministry.code))):
            data = build_template(s, ministry)
            rows = ministry_rows(s, ministry)
            templates.append(
                Template(
                    ministry.code,
                    data,
                    {name: len(found) for name, found in rows.items()},
                )
            )
    assert len(templates) >= 10
    assert sum(t.prefilled["Projets"] for t in templates) >= 50
    return templates


@pytest.fixture(scope="module")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Template]]:
    """The template of every demo ministry, read back by openpyxl (built once for the
    module, from a SQLite database of its own: the file does not depend on the backend)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    load_demo(engine)
    templates = demo_templates_of(engine)
    for template in templates:
        template.book = openpyxl.load_workbook(io.BytesIO(template.data))
    engine.dispose()
    yield templates


def _last_row(template: Template, sheet: Sheet) -> int:
    return 1 + template.prefilled[sheet.name] + EMPTY_ROWS


def _column_cells(ws: Worksheet, index: int, last: int) -> Iterator[openpyxl.cell.Cell]:
    for (cell,) in ws.iter_rows(min_row=2, max_row=last, min_col=index + 1, max_col=index + 1):
        yield cell


def test_only_pilot_columns_are_locked_in_prefilled_and_empty_rows(
    demo_templates: list[Template],
) -> None:
    locked_columns = {(s.name, c.header) for s in SHEETS for c in s.columns if c.locked}
    assert locked_columns == {("Projets", "Identifiant PILOT")}
    for template in demo_templates:
        for sheet in SHEETS:
            ws = template.book[sheet.name]
            assert ws.protection.sheet, (template.code, sheet.name)
            last = _last_row(template, sheet)
            for index, column in enumerate(sheet.columns):
                wrong = [
                    cell.coordinate
                    for cell in _column_cells(ws, index, last)
                    if cell.protection.locked != column.locked
                ]
                assert not wrong, (template.code, sheet.name, column.header, wrong[:5])
                letter = column_letter(index)
                assert ws.column_dimensions[letter].protection.locked == column.locked


def test_formats_drop_downs_and_autofilter_cover_the_whole_table(
    demo_templates: list[Template],
) -> None:
    formats = {Kind.DATE: DATE_FORMAT, Kind.MONEY: MONEY_FORMAT}
    for template in demo_templates:
        for sheet in SHEETS:
            ws = template.book[sheet.name]
            last = _last_row(template, sheet)
            end = column_letter(len(sheet.columns) - 1)
            assert ws.auto_filter.ref == f"A1:{end}{last}"
            assert ws.freeze_panes == "C2"
            validated = {
                str(ref): validation
                for validation in ws.data_validations.dataValidation
                for ref in validation.sqref.ranges
            }
            for index, column in enumerate(sheet.columns):
                letter = column_letter(index)
                if column.kind in formats:
                    wrong = [
                        cell.coordinate
                        for cell in _column_cells(ws, index, last)
                        if cell.number_format != formats[column.kind]
                    ]
                    assert not wrong, (template.code, sheet.name, column.header, wrong[:5])
                if column.choices or column.kind in (Kind.BOOL, Kind.YEAR):
                    assert f"{letter}2:{letter}{last}" in validated, (sheet.name, column.header)


def test_headers_are_whole_and_the_readme_explains_every_column_with_an_example(
    demo_templates: list[Template],
) -> None:
    book = demo_templates[0].book
    assert book.sheetnames == [README_SHEET, *(s.name for s in ALL_SHEETS)]
    for sheet in ALL_SHEETS:
        ws = book[sheet.name]
        assert [c.value for c in ws[1]] == [c.header for c in sheet.columns]
        assert all(c.alignment.wrap_text for c in ws[1])
        height = ws.row_dimensions[1].height
        assert height is not None and height == header_height(sheet) and height >= 2 * 15
        for index, column in enumerate(sheet.columns):
            width = ws.column_dimensions[column_letter(index)].width
            longest_word = max(len(w) for w in column.header.split())
            assert width >= longest_word + 2, (sheet.name, column.header)
    readme = book[README_SHEET]
    rows = [tuple(r) for r in readme.iter_rows(values_only=True)]
    header = rows.index(
        ("Onglet", "Colonne", "Obligatoire", "Explication", "Valeurs permises", "Exemple")
    )
    explained = {(r[0], r[1]): r for r in rows[header + 1 :]}
    for sheet in ALL_SHEETS:
        for column in sheet.columns:
            row = explained[(sheet.name, column.header)]
            assert row[3] == column.help and row[4] and row[5], (sheet.name, column.header)
    assert any(f"{EMPTY_ROWS} lignes vides" in str(r[0]) for r in rows[:header])


def test_every_demo_ministry_workbook_imports_as_it_is(engine: Engine) -> None:
    load_demo(engine)
    for template in demo_templates_of(engine):
        outcome = submit(
            data=template.data,
            filename=f"{template.code}.xlsx",
            ministry_code=template.code,
            submitted_by="test",
            channel="cli",
            dry_run=True,
        )
        assert outcome.status == ImportStatus.VALIDATED.value, (template.code, outcome)
        assert outcome.errors == 0, (template.code, outcome)

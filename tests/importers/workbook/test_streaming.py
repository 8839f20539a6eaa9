"""Rows parsed while they stream from the reader (``validate.parse_sheet_rows``, what
``intake.submit`` uses) give exactly what reading the raw rows and then validating them
gives: the same findings in the same order, the same parsed rows, the same identifiers
referenced. The streaming path caches parsed cells per column and leaves any row with
something to report to the careful path; these tests feed it what could fool a cache."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.generate import generate_workbook
from importers.workbook.columns import SHEETS, Column, Kind
from importers.workbook.reader import Engine, read_workbook
from importers.workbook.state import MinistryState
from importers.workbook.validate import Validated, parse_sheet_rows, referenced_ids, validate
from pilot.config import Settings, get_settings

TODAY = date(2024, 6, 1)
# Cells that a per-column cache could confuse: True == 1 == 1.0, empty and blank texts,
# unknown markers, values too long, invalid values repeated, dates and datetimes.
TRICKY: list[Any] = [
    None,
    "",
    "   ",
    "NA",
    "En cadrage",
    True,
    False,
    1,
    1.0,
    0,
    0.0,
    2,
    3.5,
    -4,
    "2",
    " 1 234,5 ",
    "beaucoup",
    "x" * 40,
    "  Projet  Alpha ",
    "Projet Alpha",
    "Projet Bêta",
    "PRJ-00001",
    "PRJ-00002",
    "РRJ-00001",  # Cyrillic Р
    42,
    "Oui",
    "non",
    "soleil",
    "Orage",
    "Cadrage",
    "ouvert",
    "clos",
    "build",
    "run",
    2024,
    2024.0,
    1850,
    "01/02/2020",
    "32/13/2020",
    "janvier 2015",
    date(2020, 1, 1),
    datetime(2020, 1, 1, 12, 30),
    date(2030, 1, 1),
    time(10, 30),
]


def _settings() -> Settings:
    return get_settings().model_copy(update={"max_cell_chars": 30})


def _state() -> MinistryState:
    state = MinistryState(ministry_id=1)
    state.names["projet beta"] = 2
    return state


def _book(cells: dict[str, list[list[Any]]], drop: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    assert book.active is not None
    book.remove(book.active)
    for sheet in SHEETS:
        ws = book.create_sheet(sheet.name)
        headers = [c.header for c in sheet.columns if c.header != drop]
        ws.append(headers)
        for row in cells.get(sheet.name, []):
            ws.append(row[: len(headers)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _both(data: bytes, engine: Engine = "calamine") -> tuple[Validated, Validated, set[int]]:
    config = _settings()
    raw = read_workbook(data, "t.xlsx", settings=config, engine=engine)
    streamed = read_workbook(data, "t.xlsx", settings=config, engine=engine, rows=parse_sheet_rows)
    ids = referenced_ids(streamed)
    assert ids == referenced_ids(raw)
    return (
        validate(raw, _state(), today=TODAY),
        validate(streamed, _state(), today=TODAY),
        ids,
    )


def _rows(result: Validated) -> list[list[tuple[Any, ...]]]:
    return [
        [(r.row, r.values, r.project) for r in rows]
        for rows in (result.projects, result.milestones, result.risks, result.budget)
    ]


def _assert_same(data: bytes, engine: Engine = "calamine") -> Validated:
    expected, streamed, _ = _both(data, engine)
    assert streamed.issues == expected.issues
    assert _rows(streamed) == _rows(expected)
    assert streamed.present == expected.present
    return streamed


# Values that parse (or read as empty) for each kind of column: rows made of them take
# the fast path, until a value from TRICKY (unreadable, too long, a bool…) spoils the sheet.
EMPTY: list[Any] = [None, "", "   ", "NA"]
VALID: dict[Kind, list[Any]] = {
    Kind.TEXT: ["Projet Alpha", "  Projet  Alpha ", "Projet Bêta", 2, 2024.0, date(2020, 1, 1)],
    Kind.PILOT_ID: ["PRJ-00001", "PRJ-00002", 42],
    Kind.MONEY: [0, 0.0, 1, 1.0, 1_500_000, " 1 234,5 "],
    Kind.DATE: [date(2020, 1, 1), datetime(2020, 1, 1, 12, 30), "01/02/2020", "janvier 2015"],
    Kind.BOOL: ["Oui", "non", 1],
    Kind.SCORE: [1, 1.0, 2, 4.0, "3"],
    Kind.YEAR: [2024, 2024.0, "2023"],
}


def _pool(column: Column) -> list[Any]:
    if column.kind == Kind.CHOICE:
        return [*column.choices, *(c.upper() for c in column.choices)]
    return VALID[column.kind]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_streamed_parsing_finds_exactly_what_row_by_row_parsing_finds(data: st.DataObject) -> None:
    cells: dict[str, list[list[Any]]] = {}
    for sheet in SHEETS:
        count = data.draw(st.integers(min_value=0, max_value=12), label=f"{sheet.name} rows")
        spoiled = data.draw(st.booleans(), label=f"{sheet.name} spoiled")
        # few distinct values per column, so that the cache is hit, the same value in valid
        # and invalid rows
        pools = [
            data.draw(
                st.lists(
                    st.sampled_from(_pool(c) + EMPTY + (TRICKY if spoiled else [])),
                    min_size=1,
                    max_size=4,
                )
            )
            for c in sheet.columns
        ]
        cells[sheet.name] = [
            [data.draw(st.sampled_from(pool)) for pool in pools] for _ in range(count)
        ]
    _assert_same(_book(cells))


def test_a_bool_never_takes_the_parsed_value_of_an_equal_number() -> None:
    risk = ["", "Projet Alpha", "Risque", "", 1.0, 1, "", "plan"]
    cells: dict[str, list[list[Any]]] = {
        "Projets": [["", "Projet Alpha", "", "", "", "", "", "Cadrage"]],
        "Risques": [risk, [*risk[:2], "Autre", "", True, True, "", "plan"], risk],
    }
    streamed = _assert_same(_book(cells))
    assert [i.row for i in streamed.issues if i.code == "invalid_value"] == [3, 3]


def test_a_missing_required_column_blocks_every_row_the_same_way() -> None:
    cells: dict[str, list[list[Any]]] = {
        "Projets": [["", "Projet Alpha", "", "", "", "", "", "Cadrage"]],
        "Jalons": [["", "Projet Alpha", date(2020, 1, 1)], ["", "Projet Alpha", ""]],
    }
    _assert_same(_book(cells, drop="Jalon"))


def test_a_generated_workbook_streams_through_the_fast_path_alike() -> None:
    data = generate_workbook(30, seed=3)
    streamed = _assert_same(data)
    assert len(streamed.risks) == 300 and all(r.project is not None for r in streamed.risks)
    _assert_same(data, engine="openpyxl")

"""The import reads the workbook in the isolated reader, then checks and writes it in one
write transaction: its findings and what it writes are exactly those of reading the whole
workbook, checking it, then applying it; an error anywhere, or a failure, leaves the
database as it was."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Connection, Engine, Table, bindparam, text
from sqlmodel import Session, col, select

from importers.generate import generate_workbook
from importers.intake import ImportOutcome, submit
from importers.workbook import apply as apply_module
from importers.workbook.apply import Writer, apply
from importers.workbook.columns import BUDGET, Sheet
from importers.workbook.reader import WorkbookError, read_workbook
from importers.workbook.state import load_state
from importers.workbook.validate import Checker, parse_sheet_rows, referenced_ids, validate
from pilot import config
from pilot.db import metadata, session_scope
from pilot.imports.models import Finding, ImportFile
from pilot.ministries import service as ministries
from pilot.projects import bulk
from pilot.projects.models import format_pilot_id
from pilot.timeutil import today
from tests.importers.workbook.conftest import Seed, set_cells, to_bytes
from tests.importers.workbook.test_roundtrip import fill_as_an_agent

NOW = datetime(2024, 5, 6, 7, 8, 9, 123456)
Dump = dict[str, list[tuple[Any, ...]]]


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same timestamps in the reference run and in the import."""
    monkeypatch.setattr(apply_module, "utcnow", lambda: NOW)


# the import's own record, its follow-up's job and what the follow-up writes (the milestone
# forecasts in the import's transaction, the rest when the job runs: tested in
# tests/campaigns), and the data version (bumped by every write: the import's record too)
SKIPPED = {
    "import_file",
    "finding",
    "alert",
    "milestone_forecast",
    "outbox_message",
    "job",
    "data_version",
}
FOLLOW_UP_TABLES = ("alert", "milestone_forecast", "outbox_message", "job")


def _dump(conn: Connection) -> Dump:
    """Every row of every table (and SQLite's AUTOINCREMENT counters), with the types
    SQLite stored."""
    tables: Dump = {}
    sqlite = conn.dialect.name == "sqlite"
    for table in metadata.sorted_tables:
        if table.name in SKIPPED:
            continue
        columns = ", ".join(f'"{c.name}"' for c in table.columns)
        if sqlite:
            columns += ", " + ", ".join(f'typeof("{c.name}")' for c in table.columns)
        rows = conn.execute(text(f'SELECT {columns} FROM "{table.name}"')).all()
        tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    if sqlite:
        rows = conn.execute(
            text("SELECT name, seq FROM sqlite_sequence WHERE name NOT IN :skipped").bindparams(
                bindparam("skipped", expanding=True)
            ),
            {"skipped": list(FOLLOW_UP_TABLES)},
        ).all()
        tables["sqlite_sequence"] = sorted(tuple(r) for r in rows)
    return tables


def _dump_now(engine: Engine) -> Dump:
    with engine.connect() as conn:
        return _dump(conn)


def _next_import_id(engine: Engine) -> int:
    with engine.connect() as conn:
        last = conn.execute(text("SELECT max(id) FROM import_file")).scalar() or 0
        if conn.dialect.name == "sqlite":
            seq = conn.execute(
                text("SELECT seq FROM sqlite_sequence WHERE name = 'import_file'")
            ).scalar()
            last = max(last, seq or 0)
    return int(last) + 1


Finding_ = tuple[Any, ...]


def _reference(
    engine: Engine, data: bytes, code: str, import_id: int
) -> tuple[str, list[Finding_], dict[str, int], Dump]:
    """Status, findings, counts and database of the import as it was before it was
    streamed: the whole workbook read, then checked, then applied, in one transaction
    (rolled back here)."""
    workbook = read_workbook(data, "envoi.xlsx", rows=parse_sheet_rows)
    with Session(engine) as session:
        ministry = ministries.get_by_code(session, code)
        assert ministry is not None and ministry.id is not None
        session.add(  # what the audit events and reports refer to
            ImportFile(
                id=import_id,
                kind="workbook",
                ministry_id=ministry.id,
                filename="envoi.xlsx",
                sha256="0" * 64,
                size_bytes=len(data),
                stored_path="-",
                submitted_by="cli",
                channel="cli",
                status="received",
            )
        )
        session.flush()
        state = load_state(session, ministry.id, referenced_ids(workbook))
        validated = validate(workbook, state, today=today())
        counts = {f"rows_{n.lower()}": len(s.rows) for n, s in workbook.sheets.items()}
        if validated.errors == 0:
            counts |= apply(
                session, validated, state, actor="cli", import_id=import_id, today=today()
            )
        tables = _dump(session.connection())
        session.rollback()
    counts |= {"errors": validated.errors, "warnings": validated.warnings}
    findings = [
        (
            i.sheet[:100] if i.sheet else None,
            i.row,
            i.column,
            i.field,
            i.value,
            i.code,
            i.message,
            i.severity.value,
        )
        for i in validated.issues
    ]
    return ("rejected" if validated.errors else "applied"), findings, counts, tables


def _findings(engine: Engine, import_id: int) -> list[Finding_]:
    with session_scope(engine) as s:
        rows = s.exec(
            select(Finding).where(Finding.import_id == import_id).order_by(col(Finding.id))
        ).all()
        return [
            (f.sheet, f.row, f.column, f.field, f.value, f.code, f.message, f.severity)
            for f in rows
        ]


def _submit(data: bytes, code: str = "MI", *, dry_run: bool = False) -> ImportOutcome:
    return submit(
        data=data,
        filename="envoi.xlsx",
        ministry_code=code,
        submitted_by="cli",
        channel="cli",
        dry_run=dry_run,
    )


def _without_timings(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if not k.endswith("_ms")}


def _reordered(data: bytes, order: list[str]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    book._sheets = [book[name] for name in order] + [
        ws for ws in book.worksheets if ws.title not in order
    ]
    return to_bytes(book)


def _edited(data: bytes, edit: Callable[[openpyxl.Workbook], None]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    edit(book)
    return to_bytes(book)


def _budget_error(book: openpyxl.Workbook) -> None:
    set_cells(book["Budget"], book["Budget"].max_row, {"Année": "l'an prochain"})


def _cites_the_next_new_project(engine: Engine) -> Callable[[openpyxl.Workbook], None]:
    """A Jalons row citing, by its identifier, the id the import will give a new project
    of the Projets sheet: unknown when the workbook was checked (it must stay so)."""
    with engine.connect() as conn:
        next_id = (conn.execute(text("SELECT max(id) FROM project")).scalar() or 0) + 1

    def edit(book: openpyxl.Workbook) -> None:
        jalons = book["Jalons"]
        set_cells(jalons, 2, {"Identifiant PILOT": format_pilot_id(next_id)})

    return edit


def _cases(engine: Engine, seed: Seed) -> Iterator[tuple[str, bytes]]:
    agent = fill_as_an_agent(engine, seed)
    generated = generate_workbook(25)
    yield "agent", agent
    yield "generated", generated
    yield "reordered", _reordered(generated, ["Budget", "Risques", "Projets", "Jalons"])

    def extra_columns(book: openpyxl.Workbook) -> None:
        for name in ("Projets", "Budget"):
            book[name].cell(row=1, column=book[name].max_column + 1).value = f"Notes {name}"

    yield (
        "reading warnings in two sheets, reordered",
        _reordered(_edited(generated, extra_columns), ["Budget", "Jalons", "Projets", "Risques"]),
    )
    yield "error in the last sheet", _edited(generated, _budget_error)
    yield (
        "error in the last sheet read first",
        _reordered(_edited(generated, _budget_error), ["Budget", "Projets", "Jalons", "Risques"]),
    )
    fresh = generate_workbook(25, prefix="Autre projet")  # its projects are all new
    yield "cites the next new id", _edited(fresh, _cites_the_next_new_project(engine))

    def foreign(book: openpyxl.Workbook) -> None:
        set_cells(book["Risques"], 3, {"Identifiant PILOT": format_pilot_id(seed.other_project_id)})
        set_cells(book["Risques"], 4, {"Identifiant PILOT": "PRJ-99999"})

    yield "foreign and unknown ids in Risques", _edited(agent, foreign)

    def duplicate_column(book: openpyxl.Workbook) -> None:
        risques = book["Risques"]
        risques.cell(row=1, column=risques.max_column + 1).value = "Risque"

    yield "a reading error in Risques", _edited(generated, duplicate_column)
    yield "no Projets sheet", _edited(agent, lambda book: book.remove(book["Projets"]))


def test_the_import_finds_and_writes_what_the_whole_workbook_checked_then_applied_did(
    engine: Engine, seed: Seed
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL sequences are not rolled back: the reference run moves them")
    for name, data in _cases(engine, seed):  # each built once the previous one is imported
        import_id = _next_import_id(engine)
        status, findings, counts, tables = _reference(engine, data, "MI", import_id)
        outcome = _submit(data)
        assert outcome.import_id == import_id, name
        assert outcome.status == status, name
        assert _findings(engine, import_id) == findings, name
        assert _without_timings(outcome.counts) == counts, name
        assert _dump_now(engine) == tables, name


def test_an_error_in_the_last_sheet_writes_nothing(
    engine: Engine, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    sheet = Writer.sheet

    def spy(self: Writer, which: Sheet) -> None:
        written.append(which.name)
        sheet(self, which)

    monkeypatch.setattr(Writer, "sheet", spy)
    before = _dump_now(engine)
    outcome = _submit(_edited(generate_workbook(25), _budget_error))
    assert (outcome.status, outcome.errors) == ("rejected", 1)
    assert written == []  # the whole workbook is checked before anything is written
    assert _dump_now(engine) == before
    assert [f[5] for f in _findings(engine, outcome.import_id)] == ["invalid_value"]


def test_sheets_in_another_order_are_read_in_the_fixed_order_with_the_same_result(
    engine: Engine, seed: Seed
) -> None:
    data = generate_workbook(25)
    reordered = _reordered(data, ["Risques", "Budget", "Jalons", "Projets"])
    dry = _submit(data, dry_run=True)
    outcome = _submit(reordered)
    assert (dry.status, outcome.status) == ("validated", "applied")
    assert _findings(engine, outcome.import_id) == _findings(engine, dry.import_id)
    assert outcome.counts["milestones_created"] == dry.counts["milestones_created"] == 250
    assert outcome.counts["budget_lines_created"] == dry.counts["budget_lines_created"]
    again = _submit(_reordered(data, ["Budget", "Projets", "Risques", "Jalons"]))
    assert (again.status, again.errors) == ("rejected", 25)  # each project exists already
    assert {f[5] for f in _findings(engine, again.import_id)} == {"existing_project"}


def test_a_failed_insert_rolls_everything_back(
    engine: Engine, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = [0]
    insert_rows = bulk.insert_rows

    def failing(*args: Any, **kwargs: Any) -> list[int]:
        calls[0] += 1
        if calls[0] == 4:
            raise RuntimeError("disque plein")
        return insert_rows(*args, **kwargs)

    monkeypatch.setattr(bulk, "insert_rows", failing)
    before = _dump_now(engine)
    outcome = _submit(generate_workbook(25))
    assert (outcome.status, outcome.errors) == ("failed", 1)
    assert [f[5] for f in _findings(engine, outcome.import_id)] == ["internal_error"]
    assert _dump_now(engine) == before


def test_a_failure_while_checking_a_later_sheet_rolls_everything_back(
    engine: Engine, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = Checker.check

    def failing(self: Checker, sheet: Sheet) -> None:
        if sheet is BUDGET:
            raise RuntimeError("bug")
        check(self, sheet)

    monkeypatch.setattr(Checker, "check", failing)
    before = _dump_now(engine)
    outcome = _submit(generate_workbook(25))
    assert outcome.status == "failed"
    assert _dump_now(engine) == before


def test_a_sheet_too_long_to_read_rejects_the_file_with_the_first_sheet_in_file_order(
    engine: Engine, seed: Seed, apply_limits: Callable[[dict[str, int]], config.Settings]
) -> None:
    apply_limits({"max_rows_per_sheet": 60})  # Jalons and Risques have 100 rows each
    data = _reordered(generate_workbook(10), ["Risques", "Projets", "Jalons", "Budget"])
    with pytest.raises(WorkbookError) as expected:
        read_workbook(data, "envoi.xlsx", rows=parse_sheet_rows)
    assert "Risques" in str(expected.value)
    before = _dump_now(engine)
    outcome = _submit(data)
    assert (outcome.status, outcome.errors) == ("rejected", 1)
    assert [f[5:7] for f in _findings(engine, outcome.import_id)] == [
        ("unreadable", str(expected.value))
    ]
    assert _dump_now(engine) == before


def _table(name: str) -> Table:
    return metadata.tables[name]

"""The isolated reader: a parser that aborts, exhausts memory or CPU, hangs or answers too
much ends only its child process; the caller (server, scheduler, command line) gets a
French error and goes on. The real abort of calamine on a far cell is run for real,
through every channel (HTTP upload, GraphQL dry run, command line, inbox)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from importers.inbox import scan_inbox
from importers.intake import submit
from importers.isolation import IsolationError, Limits, run_isolated
from importers.panorama import PanoramaError, import_panorama_file
from importers.workbook.reader import WorkbookError
from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.cli import app as cli
from pilot.config import Settings
from pilot.db import session_scope
from pilot.imports.models import Finding, ImportFile
from pilot.ministries import service as ministries
from tests.api.multipart import post_graphql_upload
from tests.hostile import corpus
from tests.hostile.support import table_counts
from tests.importers.workbook.conftest import Seed
from tests.importers.workbook.misbehaving import abort, add, allocate, answer, refuse, sleep, spin
from tests.importers.workbook.test_hostile import workbook_table

MB = 1024 * 1024
LIMITS = Limits(memory_bytes=512 * MB, cpu_seconds=5, wall_seconds=20, result_bytes=MB)
UNREADABLE = "illisible ou trop volumineux"
# Gate limits raised so far that the far cell reaches calamine, which then asks for
# 1,2 GB (XFD1048576 asks for 512 GiB): the isolated reader's own limits must hold.
NO_GATE = {
    "max_rows_per_sheet": 2_000_000,
    "max_columns": 20_000,
    "max_sheet_cells": 10**13,
    "reader_memory_bytes": 768 * MB,
}


def test_the_child_returns_the_value_and_raises_the_exception_of_the_function() -> None:
    assert run_isolated(add, 2, 3, limits=LIMITS) == 5
    with pytest.raises(WorkbookError, match="onglet"):
        run_isolated(refuse, "un onglet manque", limits=LIMITS)


@pytest.mark.parametrize(
    ("function", "args", "limits", "reason"),
    [
        (abort, (), LIMITS, "crashed"),
        (allocate, (2048 * MB,), LIMITS, "memory"),
        (spin, (), Limits(512 * MB, 1, 20, MB), "cpu"),
        (sleep, (30,), Limits(512 * MB, 5, 1, MB), "timeout"),
        (answer, (2 * MB,), LIMITS, "too_large"),
    ],
    ids=["abort", "memory", "cpu", "wall_time", "answer_too_large"],
)
def test_a_child_that_misbehaves_ends_alone_with_a_french_error(
    function: Callable[..., object], args: tuple[object, ...], limits: Limits, reason: str
) -> None:
    started = time.monotonic()
    with pytest.raises(IsolationError) as caught:
        run_isolated(function, *args, limits=limits)
    assert caught.value.reason == reason
    assert UNREADABLE in str(caught.value)
    assert time.monotonic() - started < limits.wall_seconds + 10
    assert run_isolated(add, 1, 1, limits=LIMITS) == 2  # and the next one runs as usual


# --- The real abort of the parser, through every channel ----------------------------------


def far_cell_workbook() -> bytes:
    return corpus.by_name("far_cell_XFD1048576", workbook_table()).data


def _failed_with_finding(engine: Engine, import_id: int) -> ImportFile:
    with session_scope(engine) as s:
        row = s.get(ImportFile, import_id)
        assert row is not None
        findings = s.exec(select(Finding).where(Finding.import_id == import_id)).all()
        s.expunge(row)
    assert row.status == "failed", row.status
    assert [f.code for f in findings] == ["unreadable"]
    assert UNREADABLE in findings[0].message
    assert Path(row.stored_path).read_bytes() == far_cell_workbook()  # kept unchanged
    return row


def test_the_parser_aborting_on_a_far_cell_fails_the_import_and_keeps_the_file(
    engine: Engine, seed: Seed, apply_limits: Callable[[dict[str, int]], Settings]
) -> None:
    apply_limits(NO_GATE)
    # the import's own rows, and the job that mails its findings summary, are what changes
    kept = ("import_file", "finding", "job")
    before = {k: v for k, v in table_counts(engine).items() if k not in kept}
    for dry_run in (True, False):
        outcome = submit(
            data=far_cell_workbook(),
            filename="projets.xlsx",
            ministry_code="MI",
            submitted_by="test",
            channel="cli",
            dry_run=dry_run,
        )
        _failed_with_finding(engine, outcome.import_id)
    after = {k: v for k, v in table_counts(engine).items() if k not in kept}
    assert after == before


def test_the_gate_refuses_the_far_cell_with_its_address_by_default(
    engine: Engine, seed: Seed
) -> None:
    outcome = submit(
        data=far_cell_workbook(),
        filename="projets.xlsx",
        ministry_code="MI",
        submitted_by="test",
        channel="cli",
    )
    assert outcome.status == "rejected"
    with session_scope(engine) as s:
        messages = [
            f.message
            for f in s.exec(select(Finding).where(Finding.import_id == outcome.import_id)).all()
        ]
    assert len(messages) == 1 and "XFD1048576" in messages[0] and "si loin" in messages[0]


def test_the_server_survives_the_parser_abort_over_http_and_graphql(
    engine: Engine, seed: Seed, apply_limits: Callable[[dict[str, int]], Settings]
) -> None:
    apply_limits(NO_GATE)
    with session_scope(engine, write=True) as s:
        mi = ministries.get_by_code(s, "MI")
        _, token = auth.create_token(s, actor="test", name="dnum", role=Role.MINISTRY, ministry=mi)
    headers = {"Authorization": f"Bearer {token}"}
    client = TestClient(create_app())
    response = client.post(
        "/workbook/upload", headers=headers, files={"file": ("mi.xlsx", far_cell_workbook())}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "failed"
    _failed_with_finding(engine, response.json()["import_id"])
    answer = post_graphql_upload(
        client,
        "mutation($file: Upload!) { uploadWorkbook(file: $file, dryRun: true) { status } }",
        far_cell_workbook(),
        headers=headers,
        filename="mi.xlsx",
    )
    body = answer.json()
    assert body["data"]["uploadWorkbook"]["status"].lower() == "failed", body
    assert client.get("/healthz").status_code == 200


def test_the_command_line_survives_the_parser_abort(
    engine: Engine, seed: Seed, apply_limits: Callable[[dict[str, int]], Settings], tmp_path: Path
) -> None:
    apply_limits(NO_GATE)
    path = tmp_path / "projets.xlsx"
    path.write_bytes(far_cell_workbook())
    result = CliRunner().invoke(cli, ["import", str(path), "--ministry", "MI"])
    assert UNREADABLE in result.output, result.output
    assert result.exit_code != 0


def test_the_inbox_moves_a_file_that_aborts_the_parser_to_rejected_with_its_report(
    engine: Engine, seed: Seed, apply_limits: Callable[[dict[str, int]], Settings]
) -> None:
    settings = apply_limits(NO_GATE)
    folder = settings.inbox_path / "MI"
    folder.mkdir(parents=True)
    dropped = folder / "projets.xlsx"
    dropped.write_bytes(far_cell_workbook())
    past = time.time() - 60
    os.utime(dropped, (past, past))
    results = scan_inbox(settings, engine)
    assert [r.outcome.status for r in results] == ["failed"]
    rejected = sorted(p.name for p in (folder / "rejected").iterdir())
    assert len(rejected) == 2 and any(n.endswith("-rapport.xlsx") for n in rejected), rejected
    assert not dropped.exists()
    assert scan_inbox(settings, engine) == []  # nothing given back, nothing imported again


def test_a_panorama_file_that_aborts_the_parser_is_refused_in_french(
    engine: Engine, apply_limits: Callable[[dict[str, int]], Settings], tmp_path: Path
) -> None:
    apply_limits(NO_GATE | {"reader_cpu_seconds": 3})  # openpyxl pads 16 384 columns a row
    path = tmp_path / "panorama.xlsx"
    path.write_bytes(corpus.by_name("far_cell_XFD1048576").data)
    with session_scope(engine, write=True) as s, pytest.raises(PanoramaError) as caught:
        import_panorama_file(s, path)
    assert UNREADABLE in str(caught.value)

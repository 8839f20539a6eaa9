"""Faults during an import: the database down, a scheduler killed mid-import.

Nothing is lost (the file stays in the inbox, or comes back to it) and nothing is
half-written (the interrupted import's transaction never commits); the interrupted
import's row does not stay "received": past the staleness bound it is marked "failed"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from importers.generate import generate_workbook
from importers.inbox import PROCESSING, scan_inbox
from importers.intake import STALE_IMPORT_SECONDS, fail_interrupted_imports, submit
from pilot.config import Settings
from pilot.db import make_engine, session_scope
from pilot.imports.models import Finding, ImportFile
from pilot.projects.models import Project
from pilot.timeutil import utcnow
from tests.importers.workbook.conftest import Seed, dump, set_cells, template_for, to_bytes

ROOT = Path(__file__).resolve().parents[3]
INTERRUPTED = "L'import a été interrompu avant sa fin (processus arrêté) : rien n'a été appliqué."


def _findings(engine: Engine, import_id: int | None) -> list[tuple[str, str, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(Finding).where(Finding.import_id == import_id)).all()
        return [(f.code, f.severity, f.message) for f in rows]


def _drop(settings: Settings, name: str, data: bytes) -> Path:
    folder = settings.inbox_path / "MI"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


def _workbook(engine: Engine) -> bytes:
    book = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Coût actualisé (€)": 120_000_000})
    return to_bytes(book)


def test_database_down_leaves_the_file_in_the_inbox_for_the_next_run(
    engine: Engine, seed: Seed, settings: Settings
) -> None:
    path = _drop(settings, "envoi.xlsx", _workbook(engine))
    down = make_engine("postgresql+psycopg://pilot@127.0.0.1:1/pilot")  # nothing listens
    assert scan_inbox(settings, down) == []
    assert path.exists()  # given back under its own name, for the next run
    assert not any((path.parent / PROCESSING).iterdir())
    results = scan_inbox(settings, engine)
    assert [r.outcome.status for r in results] == ["applied"]


def test_a_claim_left_by_a_dead_scheduler_is_given_back_and_imported(
    engine: Engine, seed: Seed, settings: Settings
) -> None:
    folder = settings.inbox_path / "MI" / PROCESSING
    folder.mkdir(parents=True)
    claimed = folder / "a1b2c3d4e5f6-envoi.xlsx"
    claimed.write_bytes(_workbook(engine))
    past = time.time() - 60  # it had settled in the inbox before it was claimed
    os.utime(claimed, (past, past))
    assert scan_inbox(settings, engine) == []  # a fresh claim may still be running
    results = scan_inbox(settings, engine, stale_claim_seconds=0)
    assert [r.outcome.status for r in results] == ["applied"]
    assert not any(folder.iterdir())


def _received(engine: Engine, channel: str, age_seconds: float) -> int:
    with session_scope(engine, write=True) as session:
        row = ImportFile(
            filename="envoi.xlsx",
            sha256="0" * 64,
            size_bytes=1,
            stored_path="uploads/00/0.xlsx",
            submitted_by=channel,
            channel=channel,
            received_at=utcnow() - timedelta(seconds=age_seconds),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def test_an_import_left_received_past_the_bound_is_marked_failed_a_younger_one_is_not(
    engine: Engine, seed: Seed
) -> None:
    old_cli = _received(engine, "cli", STALE_IMPORT_SECONDS + 60)
    old_inbox = _received(engine, "inbox", STALE_IMPORT_SECONDS + 60)
    running = _received(engine, "http", STALE_IMPORT_SECONDS - 60)
    assert fail_interrupted_imports(engine) == [old_cli, old_inbox]
    assert fail_interrupted_imports(engine) == []  # once only
    with session_scope(engine) as session:
        status = {
            r.id: (r.status, r.finished_at is not None) for r in session.exec(select(ImportFile))
        }
    assert status == {
        old_cli: ("failed", True),
        old_inbox: ("failed", True),
        running: ("received", False),
    }
    assert _findings(engine, old_cli) == [
        ("interrupted", "error", f"{INTERRUPTED} Renvoyez le fichier.")
    ]
    given_back = "Le fichier a été remis dans la boîte de dépôt pour être importé de nouveau."
    assert _findings(engine, old_inbox) == [("interrupted", "error", f"{INTERRUPTED} {given_back}")]
    assert _findings(engine, running) == []


def test_an_import_that_outlives_the_bound_applies_nothing(engine: Engine, seed: Seed) -> None:
    before = dump(engine)

    def marked_interrupted_meanwhile(step: str) -> None:
        if step == "lecture":  # before the write transaction: another process marks it
            assert len(fail_interrupted_imports(engine, older_than=0)) == 1

    outcome = submit(
        data=_workbook(engine),
        filename="envoi.xlsx",
        ministry_code="MI",
        submitted_by="cli",
        channel="cli",
        engine=engine,
        progress=marked_interrupted_meanwhile,
    )
    assert (outcome.status, outcome.errors) == ("failed", 1)
    assert dump(engine) == before  # the row says nothing was applied: true
    assert [code for code, _, _ in _findings(engine, outcome.import_id)] == ["interrupted"]


@pytest.mark.slow
def test_scheduler_killed_mid_import_changes_nothing_and_the_file_is_imported_later(
    engine: Engine, seed: Seed, settings: Settings
) -> None:
    projects = 3_000
    _drop(settings, "gros-envoi.xlsx", generate_workbook(projects, seed=7))
    before = dump(engine)
    env = {
        **os.environ,
        "PILOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "PILOT_VAR_DIR": str(settings.var_dir),
    }
    script = "from importers.inbox import scan_inbox; scan_inbox(settle_seconds=0)"
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        with session_scope(engine) as session:
            while session.exec(select(func.count()).select_from(ImportFile)).one() == 0:
                assert worker.poll() is None, "the import finished before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.05)
                session.rollback()
        time.sleep(1.0)  # reading, validating or applying: somewhere in the middle
        assert worker.poll() is None, "the import finished before it could be killed"
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    assert dump(engine) == before  # nothing half-written
    claimed = list((settings.inbox_path / "MI" / PROCESSING).iterdir())
    assert len(claimed) == 1  # the file is kept
    with session_scope(engine) as session:
        (interrupted,) = session.exec(select(ImportFile)).all()
    assert interrupted.status == "received"  # until the next run
    results = scan_inbox(settings, engine, stale_claim_seconds=0)
    assert [r.outcome.status for r in results] == ["applied"]
    with session_scope(engine) as session:
        rows = session.exec(select(ImportFile).order_by(ImportFile.id)).all()  # type: ignore[arg-type]
    assert [(r.id, r.status) for r in rows] == [
        (interrupted.id, "failed"),
        (results[0].outcome.import_id, "applied"),
    ]
    given_back = "Le fichier a été remis dans la boîte de dépôt pour être importé de nouveau."
    assert _findings(engine, interrupted.id) == [
        ("interrupted", "error", f"{INTERRUPTED} {given_back}")
    ]
    with session_scope(engine) as session:
        count = session.exec(select(func.count()).select_from(Project)).one()
    assert count == 2 + projects

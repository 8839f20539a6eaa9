"""Faults during an import: the database down, a scheduler killed mid-import.

Nothing is lost (the file stays in the inbox, or comes back to it) and nothing is
half-written (the interrupted import's transaction never commits)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from importers.generate import generate_workbook
from importers.inbox import PROCESSING, scan_inbox
from pilot.config import Settings
from pilot.db import make_engine, session_scope
from pilot.imports.models import ImportFile
from pilot.projects.models import Project
from tests.importers.workbook.conftest import Seed, dump, set_cells, template_for, to_bytes

ROOT = Path(__file__).resolve().parents[3]


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
    results = scan_inbox(settings, engine, stale_claim_seconds=0)
    assert [r.outcome.status for r in results] == ["applied"]
    with session_scope(engine) as session:
        count = session.exec(select(func.count()).select_from(Project)).one()
    assert count == 2 + projects

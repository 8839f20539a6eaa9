"""Each ministry finds its inbox folder as soon as the scheduler starts."""

from __future__ import annotations

from sqlalchemy import Engine

from importers.inbox import ensure_folders
from pilot.config import Settings
from pilot.db import session_scope
from pilot.ministries import service as ministries
from pilot.scheduler import inbox_job
from tests.importers.workbook.conftest import Seed


def test_the_scheduler_creates_one_inbox_folder_per_ministry(
    engine: Engine, seed: Seed, settings: Settings
) -> None:
    root = settings.inbox_path
    assert not (root / "MI").exists()
    inbox_job()  # the scheduler's first run, at start
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["MI", "MJ"]
    assert ensure_folders(settings, engine) == []  # nothing left to create
    with session_scope(engine, write=True) as s:
        ministries.create_ministry(s, "MC", "Ministère de la Culture")
    assert ensure_folders(settings, engine) == [root / "MC"]
    (root / "MI" / "notes.txt").write_text("déjà là", encoding="utf-8")
    ensure_folders(settings, engine)
    assert (root / "MI" / "notes.txt").read_text(encoding="utf-8") == "déjà là"

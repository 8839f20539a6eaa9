"""The round trip through LibreOffice: a filled workbook re-saved as .xlsx and .ods
still imports with the same changes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from importers.intake import submit
from pilot.db import session_scope
from pilot.projects import service as projects
from tests.importers.workbook.conftest import Seed
from tests.importers.workbook.test_roundtrip import fill_as_an_agent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("libreoffice") is None, reason="libreoffice not installed"),
]


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_workbook_resaved_by_libreoffice_imports(
    engine: Engine, seed: Seed, tmp_path: Path, fmt: str
) -> None:
    source = tmp_path / "in" / "mi.xlsx"
    source.parent.mkdir()
    source.write_bytes(fill_as_an_agent(engine, seed))
    out = tmp_path / "out"
    subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    converted = out / f"mi.{fmt}"
    outcome = submit(
        data=converted.read_bytes(),
        filename=converted.name,
        ministry_code="MI",
        submitted_by="cli",
        channel="cli",
    )
    assert outcome.status == "applied", outcome
    assert outcome.counts["projects_created"] == 1
    assert outcome.counts["milestones_created"] == 2
    assert outcome.counts["risks_updated"] == 1
    with session_scope(engine) as s:
        latest = projects.reports(s, seed.project_id)[-1]
        assert (latest.current_cost_eur, latest.weather) == (130_000_000, "orage")

"""The intake channels: CLI, HTTP upload and template download, the inbox (and two
inbox scanners racing for the same files, on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import col
from typer.testing import CliRunner

from importers.inbox import scan_inbox
from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.cli import app
from pilot.config import Settings
from pilot.db import session_scope
from pilot.imports.models import ImportFile
from pilot.ministries import service as ministries
from tests.importers.workbook.conftest import Seed, set_cells, template_for, to_bytes

runner = CliRunner()


def filled(engine: Engine, seed: Seed, cost: int = 130_000_000) -> bytes:
    book = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Coût actualisé (€)": cost})
    return to_bytes(book)


def test_cli_template_import_and_imports(engine: Engine, seed: Seed, tmp_path: Path) -> None:
    out = tmp_path / "mi.xlsx"
    result = runner.invoke(app, ["template", "--ministry", "MI", str(out)])
    assert result.exit_code == 0, result.output
    out.write_bytes(filled(engine, seed))
    result = runner.invoke(app, ["import", str(out), "--ministry", "MI", "--dry-run"])
    assert result.exit_code == 0 and "essai à blanc" in result.output, result.output
    report = tmp_path / "rapport.html"
    result = runner.invoke(app, ["import", str(out), "--ministry", "MI", "--report", str(report)])
    assert result.exit_code == 0 and "importé" in result.output, result.output
    assert "<table>" in report.read_text(encoding="utf-8")
    result = runner.invoke(app, ["imports"])
    assert result.exit_code == 0 and "appliqué" in result.output and "validé" in result.output


def test_generate_writes_a_workbook_that_imports(
    engine: Engine, seed: Seed, tmp_path: Path
) -> None:
    out = tmp_path / "gen.xlsx"
    assert runner.invoke(app, ["generate", "--projects", "3", str(out)]).exit_code == 0
    result = runner.invoke(app, ["import", str(out), "--ministry", "MI"])
    assert result.exit_code == 0, result.output
    assert "30 jalons ajoutés" in result.output and "30 risques ajoutés" in result.output


def test_http_template_download_and_upload_with_a_ministry_token(
    engine: Engine, seed: Seed
) -> None:
    with session_scope(engine, write=True) as s:
        mi = ministries.get_by_code(s, "MI")
        _, token = auth.create_token(s, actor="test", name="dnum", role=Role.MINISTRY, ministry=mi)
    client = TestClient(create_app())
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/workbook/template").status_code == 401
    response = client.get("/workbook/template", headers=headers)
    assert response.status_code == 200 and response.content.startswith(b"PK")
    forbidden = client.get("/workbook/template?ministry=MJ", headers=headers)
    assert forbidden.status_code == 403
    data = filled(engine, seed)
    response = client.post("/workbook/upload", headers=headers, files={"file": ("mi.xlsx", data)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "applied" and body["counts"]["reports"] == 1
    again = client.post("/workbook/upload", headers=headers, files={"file": ("mi.xlsx", data)})
    assert again.json()["duplicate"] is True
    report = client.get(
        f"/workbook/imports/{body['import_id']}/report?format=html", headers=headers
    )
    assert report.status_code == 200 and "Import n°" in report.text


def _drop(settings: Settings, code: str, name: str, data: bytes, age: float = 10) -> Path:
    folder = settings.inbox_path / code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


def test_the_inbox_moves_files_with_a_report_and_skips_files_being_written(
    engine: Engine, seed: Seed, settings: Settings
) -> None:
    _drop(settings, "MI", "bon.xlsx", filled(engine, seed))
    _drop(settings, "MI", "faux.xlsx", b"pas un classeur")
    # Still being written: its time keeps moving, so it never settles during this scan,
    # however long the other imports take on a loaded machine.
    _drop(settings, "MI", "en-cours.xlsx", b"PK partial", age=-60)
    results = scan_inbox(settings, engine)
    assert sorted(r.outcome.status for r in results) == ["applied", "rejected"]
    folder = settings.inbox_path / "MI"
    processed = sorted(p.name for p in (folder / "processed").iterdir())
    rejected = sorted(p.name for p in (folder / "rejected").iterdir())
    assert len(processed) == 2 and any(n.endswith("bon-rapport.xlsx") for n in processed)
    assert len(rejected) == 2 and any(n.endswith("faux.xlsx") for n in rejected)
    assert (folder / "en-cours.xlsx").exists()  # still being written: left alone


def test_two_scanners_racing_never_import_a_file_twice(
    engine: Engine, seed: Seed, settings: Settings
) -> None:
    for n in range(6):
        _drop(settings, "MI", f"envoi-{n}.xlsx", filled(engine, seed, cost=100_000_000 + n))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def scanner() -> None:
        try:
            barrier.wait()
            scan_inbox(settings, engine)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=scanner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with session_scope(engine) as s:
        count = s.scalar(select(func.count()).select_from(ImportFile))
        statuses = s.scalars(select(col(ImportFile.status)).order_by(col(ImportFile.id))).all()
    assert count == 6, statuses
    assert set(statuses) == {"applied"}

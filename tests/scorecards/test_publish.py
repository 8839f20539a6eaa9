"""``pilot publish`` on the demo data: site, PDF booklet and open data, incrementally."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf.generic import Destination
from sqlmodel import Session, select
from typer.testing import CliRunner

from importers.panorama import read_panorama
from pilot.cli import app
from pilot.config import Settings
from pilot.db import get_engine
from pilot.editions import service as editions
from pilot.indicators.figures import compute_figures
from pilot.projects.models import Project, Report
from pilot.scheduler import editions_job
from scorecards import opendata
from scorecards.booklet import booklet_html
from scorecards.drawing import MIN_PER_WORKER, YOUNG_OBJECTS, Booklet, draw_all
from scorecards.publish import (
    DrawingError,
    publication_lock,
    publish_draft,
    publish_edition,
    render_unwritten_editions,
    republish_draft_if_changed,
)
from scorecards.view import ProjectView, edition_view
from tests.scorecards.conftest import PUBLISHED_ON


def _booklet_projects(pdf: PdfReader) -> list[str | None]:
    """The PILOT identifier on the page of each of the booklet's bookmarks but the first
    (the contents), in order."""
    found: list[str | None] = []
    for mark in pdf.outline[1:]:
        assert isinstance(mark, Destination)
        page = pdf.get_destination_page_number(mark)
        assert page is not None
        shown = re.search(r"identifiant (PRJ-\d+)", pdf.pages[page].extract_text())
        found.append(shown.group(1) if shown else None)
    return found


def _key(figures: dict) -> tuple:
    return (
        figures["projects"],
        figures["interministerial"],
        str(figures["total_cost_bn"]),
        None if figures["mean_duration_years"] is None else str(figures["mean_duration_years"]),
    )


@pytest.mark.slow
def test_publish_writes_site_pdf_and_open_data(demo: Session, tmp_path: Path) -> None:
    publication = publish_edition(get_engine(), tmp_path, published_on=PUBLISHED_ON)
    number, report = publication.number, publication.report
    demo.commit()
    folder = tmp_path / "editions" / str(number)
    edition = editions.get_edition(demo, number)
    rows = edition.figures["projects"]
    assert report.drawn == rows and report.reused == 0
    assert (tmp_path / "index.html").exists() and (tmp_path / "archives.html").exists()
    assert len(list((folder / "projets").glob("*.html"))) == rows
    assert len(list((folder / "fiches").glob("*.svg"))) == rows
    for name in opendata.listing(folder / "donnees", "panorama"):
        assert (folder / "donnees" / name["name"]).stat().st_size > 0
    assert len(opendata.listing(folder / "donnees", "panorama")) == 8
    # The history of every published edition, rebuilt at the publication.
    history = (tmp_path / "donnees" / "historique.csv").read_text("utf-8")
    numbers = [r["Numéro d'édition"] for r in csv.DictReader(io.StringIO(history))]
    assert set(numbers) == {"1", "2", str(number)} and numbers.count(str(number)) == rows
    # Each file linked with its format and size, on the edition's page and the data page.
    edition_page = (folder / "index.html").read_text("utf-8")
    assert (
        'href="donnees/panorama-excel.csv" download>panorama-excel.csv</a> — CSV, ' in edition_page
    )
    assert "Pour un Excel en français : point-virgule, virgule décimale" in edition_page
    data_page = (tmp_path / "donnees-ouvertes.html").read_text("utf-8")
    assert 'href="donnees/historique.xlsx" download>historique.xlsx</a> — XLSX, ' in data_page
    assert f'href="editions/{number}/donnees/panorama.csv"' in data_page
    assert re.search(r"panorama\.json</a> — JSON, [0-9]+,[0-9]\u00a0ko", data_page)
    assert len(list((folder / "fiches").glob("*.png"))) == rows
    pdf = PdfReader(folder / f"panorama-{number}.pdf")
    catalog: Any = pdf.trailer["/Root"]
    assert catalog["/Lang"] == "fr" and "/StructTreeRoot" in catalog
    assert pdf.metadata is not None and f"Édition n° {number}" in str(pdf.metadata.title)
    # A bookmark for each project, its text kept as text.
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    shown = _booklet_projects(pdf)
    assert None not in shown and sorted(map(str, shown)) == sorted(manifest["projects"])
    assert f"panorama-{number}.pdf" in (folder / "index.html").read_text(encoding="utf-8")
    home = (folder / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr"' in home and "dsfr/dsfr.min.css" in home
    assert (tmp_path / "dsfr" / "dsfr.min.css").exists()


@pytest.mark.slow
def test_a_pool_writes_pages_and_booklet_as_scorecards_come(demo: Session, tmp_path: Path) -> None:
    publication = publish_edition(get_engine(), tmp_path, published_on=PUBLISHED_ON, workers=2)
    number, report = publication.number, publication.report
    folder = tmp_path / "editions" / str(number)
    rows = report.projects
    assert report.drawn == rows
    pages = list((folder / "projets").glob("*.html"))
    assert len(pages) == rows
    for page in pages:  # every page with its images
        for fmt in ("png", "svg"):
            assert (folder / "fiches" / f"{page.stem}.{fmt}").stat().st_size > 0
    # The booklet's project pages in the edition's order, though drawn in any order.
    pdf = PdfReader(folder / f"panorama-{number}.pdf")
    shown = _booklet_projects(pdf)
    view = edition_view(demo, editions.get_edition(demo, number))
    assert shown == [row.pilot_id for row in view.rows]


@pytest.mark.slow
def test_reimporting_the_published_csv_gives_the_same_key_figures(
    demo: Session, tmp_path: Path
) -> None:
    number = publish_edition(get_engine(), tmp_path, published_on=PUBLISHED_ON).number
    edition = editions.get_edition(demo, number)
    data = (tmp_path / "editions" / str(number) / "donnees" / "panorama.csv").read_bytes()
    panorama = read_panorama(data, "panorama.csv")
    again = compute_figures(r.portfolio_row() for r in panorama.rows)
    assert _key(again.to_json()) == _key(edition.figures)
    assert again.by_cost_bracket == edition.figures["by_cost_bracket"]
    assert again.by_ministry == edition.figures["by_ministry"]
    assert panorama.published_on() == PUBLISHED_ON


@pytest.mark.slow
def test_open_data_never_holds_a_formula_and_matches_its_schema(
    demo: Session, tmp_path: Path
) -> None:
    from frictionless import Resource, Schema, validate

    pnr = demo.exec(select(Project).where(Project.name == "PNR")).one()
    pnr.description = "=1+1 malicieux"
    demo.commit()
    number = publish_edition(get_engine(), tmp_path, published_on=PUBLISHED_ON).number
    folder = tmp_path / "editions" / str(number) / "donnees"
    text = (folder / "panorama.csv").read_text(encoding="utf-8")
    records = list(csv.reader(io.StringIO(text)))
    assert records[0] == opendata.HEADERS
    cells = [c for r in records[1:] for c in r]
    assert "'=1+1 malicieux" in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    # The workbook writes the text as a text cell, never a formula, and unchanged.
    sheet = load_workbook(folder / "panorama.xlsx").worksheets[0]
    types = {c.value: c.data_type for row in sheet.iter_rows(min_row=2) for c in row}
    assert types["=1+1 malicieux"] == "s" and "'=1+1 malicieux" not in types
    assert not any(t == "f" for t in types.values())
    schema = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    resource = Resource(
        path="panorama.csv", basepath=str(folder), schema=Schema.from_descriptor(schema)
    )
    result = validate(resource)
    assert result.valid, result.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    pnr_row = next(r for r in records[1:] if r[2] == "PNR")
    assert pnr_row[opendata.HEADERS.index("Identifiant PILOT")] == pnr.pilot_id


@pytest.mark.slow
def test_a_confidential_project_is_published_without_its_figures(
    demo: Session, tmp_path: Path
) -> None:
    number = publish_edition(get_engine(), tmp_path, published_on=PUBLISHED_ON).number
    vitam = demo.exec(select(Project).where(Project.name == "VITAM")).one()
    data = json.loads(
        (tmp_path / "editions" / str(number) / "donnees" / "panorama.json").read_text("utf-8")
    )
    row = next(p for p in data["projets"] if p["Identifiant PILOT"] == vitam.pilot_id)
    assert row["Coût estimé"] == "NA" and row["Coût actuel (M€)"] is None
    assert row["Chiffres non communiqués"] == "Oui"
    page = (tmp_path / "editions" / str(number) / "projets" / f"{vitam.pilot_id}.html").read_text(
        "utf-8"
    )
    assert "Chiffres non communiqués" in page


@pytest.mark.slow
def test_the_draft_is_republished_only_when_data_changed(
    demo: Session, tmp_path: Path, engine: object, settings: Settings
) -> None:
    today = date(2026, 11, 3)
    first = republish_draft_if_changed(site_root=tmp_path, today=today)
    assert first is not None and first.drawn == first.projects
    assert republish_draft_if_changed(site_root=tmp_path, today=today) is None
    # The next day, nothing changed: still nothing to do.
    assert republish_draft_if_changed(site_root=tmp_path, today=date(2026, 11, 4)) is None
    pnr = demo.exec(select(Project).where(Project.name == "PNR")).one()
    demo.add(
        Report(
            project_id=pnr.id or 0,
            reported_on=today,
            phase="Déploiement",
            current_cost_eur=80_000_000,
            weather="soleil",
        )
    )
    demo.commit()
    again = republish_draft_if_changed(site_root=tmp_path, today=today)
    assert again is not None and again.drawn == 1 and again.reused == again.projects - 1
    page = (settings.draft_path / "projets" / f"{pnr.pilot_id}.html").read_text("utf-8")
    assert "80,0\u00a0M€" in page
    assert not (tmp_path / "index.html").exists()  # the draft never becomes the home page
    assert not (tmp_path / "brouillon").exists()  # nor is it under the public site
    assert not list(settings.draft_path.glob("*.pdf"))  # nor has a booklet


@pytest.mark.slow
def test_draft_and_edition_share_unchanged_scorecards(demo: Session, tmp_path: Path) -> None:
    publish_draft(demo, tmp_path, today=PUBLISHED_ON)
    report = publish_edition(get_engine(), tmp_path, published_on=PUBLISHED_ON).report
    assert report.drawn == 0


def test_publish_command_dry_run_writes_nothing(
    demo: Session, settings: Settings, engine: object
) -> None:
    result = CliRunner().invoke(app, ["publish", "--dry-run", "--published-on", "2026-11-02"])
    assert result.exit_code == 0, result.output
    assert "Simulation : l'édition n° 3" in result.output
    assert len(editions.list_editions(demo)) == 2
    assert not settings.site_path.exists()


@pytest.mark.slow
def test_publish_command_writes_the_edition(
    demo: Session, settings: Settings, engine: object
) -> None:
    result = CliRunner().invoke(app, ["publish", "--published-on", "2026-11-02", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Édition n° 3 publiée" in result.output
    assert (settings.site_path / "editions" / "3" / "panorama-3.pdf").exists()


def test_publish_command_with_nothing_to_publish_says_so_in_french(
    settings: Settings, engine: object
) -> None:
    result = CliRunner().invoke(app, ["publish"])
    assert result.exit_code == 1
    assert "rien à publier" in result.output


@pytest.mark.slow
def test_publish_command_refuses_an_edition_too_near_the_last_unless_forced(
    demo: Session, settings: Settings, engine: object
) -> None:
    first = CliRunner().invoke(app, ["publish", "--published-on", "2026-11-02"])
    assert first.exit_code == 0, first.output
    too_soon = CliRunner().invoke(app, ["publish", "--published-on", "2026-11-20"])
    assert too_soon.exit_code == 1
    assert "L'édition n° 3 a été publiée le 02/11/2026, à 18 jours d'écart" in too_soon.output
    assert "au moins 30 jours" in too_soon.output and "--force" in too_soon.output
    assert not (settings.site_path / "editions" / "4").exists()
    forced = CliRunner().invoke(app, ["publish", "--published-on", "2026-11-20", "--force"])
    assert forced.exit_code == 0, forced.output
    assert (
        "Attention : Le titre « Panorama des grands projets numériques de l'État — 11/2026 »"
        in (forced.output)
    )
    assert (settings.site_path / "editions" / "4" / "panorama-4.pdf").exists()


@pytest.mark.slow
def test_the_scheduled_job_writes_a_published_edition_that_has_no_site(
    demo: Session, settings: Settings, engine: object
) -> None:
    # Frozen and committed, but the writing of its site never happened (a crash).
    number = editions.publish_current(demo, published_on=PUBLISHED_ON).number
    demo.commit()
    editions_job()
    folder = settings.site_path / "editions" / str(number)
    assert (folder / f"panorama-{number}.pdf").exists()
    assert (folder / "donnees" / "panorama.csv").exists()
    # The open-data editions get their pages too, once.
    assert (settings.site_path / "editions" / "1" / "index.html").exists()
    assert render_unwritten_editions() == []


def _site_files(site: Path) -> dict[str, bytes]:
    """The public site as a reader sees it (not the scorecards' cache, nor the lock)."""
    return {
        str(p.relative_to(site)): p.read_bytes()
        for p in site.rglob("*")
        if p.is_file() and ".cache" not in p.parts and p.name != ".publication.lock"
    }


def _no_worker_left(parent: int, within: float = 10.0) -> bool:
    """Whether ``parent``'s pool workers are gone within ``within`` seconds (a killed
    worker takes a moment to exit)."""
    deadline = time.monotonic() + within
    while _workers_of(parent):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _workers_of(parent: int) -> list[int]:
    """The pool's spawned workers among ``parent``'s children (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_a_publication_whose_drawing_worker_dies_fails_cleanly_and_leaves_the_site(
    demo: Session, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    publish_edition(get_engine(), site, published_on=PUBLISHED_ON)
    before = _site_files(site)
    shutil.rmtree(site / ".cache")  # every scorecard to draw again, by the pool
    outcome: dict[str, BaseException | None] = {}

    def publish() -> None:
        try:
            publish_edition(
                get_engine(), site, published_on=date(2026, 11, 20), force=True, workers=2
            )
            outcome["error"] = None
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=publish)
    thread.start()
    deadline = time.monotonic() + 120
    while not (workers := _workers_of(os.getpid())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers, "no worker started"
    os.kill(workers[0], signal.SIGKILL)
    thread.join(timeout=300)
    assert not thread.is_alive(), "the publication hangs after its worker died"
    error = outcome["error"]
    assert isinstance(error, DrawingError), error
    assert "s'est arrêté brutalement" in str(error) and "le site n'a pas été modifié" in str(error)
    assert _site_files(site) == before  # the previous site, untouched
    assert _no_worker_left(os.getpid())  # the pool is shut down
    # The edition is committed, without a site: the scheduler's job writes it later.
    latest = editions.get_edition(demo, "latest").number
    assert not (site / "editions" / str(latest)).exists()


def test_publications_of_one_site_take_turns_on_its_lock_file(tmp_path: Path) -> None:
    order: list[str] = []
    with publication_lock(tmp_path):
        with publication_lock(tmp_path):  # the thread holding it may take it again
            order.append("held")

        def other() -> None:
            with publication_lock(tmp_path):
                order.append("other")

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive()  # waits for the lock
        order.append("released")
    thread.join(timeout=10)
    assert order == ["held", "released", "other"]
    assert (tmp_path / ".publication.lock").exists()


def test_drawing_workers_import_neither_the_web_application_nor_a_database() -> None:
    """What a spawned worker imports: the drawing modules and their function, by name."""
    from scorecards import drawing

    assert pickle.loads(pickle.dumps(drawing.draw_scorecards)) is drawing.draw_scorecards
    code = (
        "import sys, scorecards.drawing\n"
        "from pilot.db import get_engine\n"
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'pilot.web', 'pilot.api', 'fastapi', 'starlette', 'granian', 'psycopg'))),"
        " get_engine.cache_info().currsize)"  # no database engine made, so no connection
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert found.stdout.strip() == "[] 0", found.stdout


@pytest.mark.slow
def test_a_booklet_still_laid_out_past_its_allowance_stops_the_pool(
    demo: Session, tmp_path: Path
) -> None:
    """The booklet is laid out by the pool beside the scorecards, and may take
    ``Booklet.seconds`` from its start: once the scorecards are drawn, a booklet past that
    time has its workers killed."""
    view = edition_view(demo, editions.get_edition(demo, "latest"))
    heavy = replace(view, rows=view.rows * 10)  # a booklet of some 700 pages: a minute or more
    target = tmp_path / "livret.pdf"
    rows = view.rows[: MIN_PER_WORKER * 2]
    started = time.monotonic()
    with pytest.raises(DrawingError, match="Livret PDF toujours en cours de mise en page après"):
        draw_all(
            rows,
            [f"k{i}" for i in range(len(rows))],
            tmp_path / "cache",
            2,
            lay_out=Booklet(booklet_html(heavy), target, seconds=1.0),
        )
    assert time.monotonic() - started < 60
    assert len(list((tmp_path / "cache").glob("*.png"))) == len(rows)  # the cards were drawn
    assert not target.exists()
    assert _no_worker_left(os.getpid())  # the pool is shut down


@pytest.mark.slow
def test_a_publication_draws_with_the_configured_workers_by_default(
    demo: Session, tmp_path: Path, apply_limits: Any
) -> None:
    """The DINUM space and GraphQL publish without naming workers: the pool has
    ``PILOT_DRAWING_WORKERS`` of them (default: one per CPU)."""
    apply_limits({"drawing_workers": 2})
    seen: set[int] = set()
    thread = threading.Thread(
        target=publish_edition, args=(get_engine(), tmp_path), kwargs={"published_on": PUBLISHED_ON}
    )
    thread.start()
    while thread.is_alive():
        seen.update(_workers_of(os.getpid()))
        time.sleep(0.05)
    assert len(seen) == 2
    assert (tmp_path / "editions").exists()


def record_collector(rows: Sequence[ProjectView], keys: Sequence[str], cache: str) -> int:
    """A pool task (module level, so that a spawned worker imports it): writes the
    worker's collector settings instead of drawing."""
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()[0]
    Path(cache, f"gc-{os.getpid()}.txt").write_text(f"{frozen} {threshold}")
    return len(rows)


@pytest.mark.slow
def test_drawing_workers_freeze_their_imports_and_collect_rarely(
    demo: Session, tmp_path: Path
) -> None:
    view = edition_view(demo, editions.get_edition(demo, "latest"))
    rows = view.rows[: MIN_PER_WORKER * 2]
    draw_all(rows, [row.pilot_id for row in rows], tmp_path, 2, task=record_collector)
    found = [p.read_text().split() for p in tmp_path.glob("gc-*.txt")]
    assert found and all(int(frozen) > 10_000 for frozen, _ in found)  # matplotlib's objects
    assert all(int(threshold) == YOUNG_OBJECTS for _, threshold in found)
    assert gc.get_threshold()[0] < YOUNG_OBJECTS  # the publishing process keeps its own


@pytest.mark.slow
def test_a_booklet_left_in_the_cache_by_a_failed_publication_is_pruned(
    demo: Session, tmp_path: Path
) -> None:
    left = tmp_path / ".cache" / "fiches" / "livret-0123abcd.pdf"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"%PDF-1.7 from a publication whose drawing failed")
    publication = publish_edition(get_engine(), tmp_path, published_on=PUBLISHED_ON)
    assert (tmp_path / "editions" / str(publication.number) / "manifest.json").exists()
    assert not left.exists()
    assert not list(left.parent.glob("livret-*"))  # this publication's booklet moved out too

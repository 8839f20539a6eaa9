"""Publishing an edition (or the draft): charts, scorecards, pages, PDF booklet, open data.

Incremental: each project's content hash (``ProjectView.content_hash``) names its drawn
scorecard in a cache shared by every edition (``<site>/.cache/fiches/<hash>.{png,svg}``)
and is recorded per edition in ``manifest.json``. Only projects whose hash is not in the
cache are drawn (by a pool of worker processes: ``scorecards.drawing``); only pages whose
hash changed are rewritten.

Order: every missing scorecard is drawn into the cache first; only then is anything of the
site written, so a publication whose drawing fails leaves the site as it was. No database
transaction is open while drawing or writing: the rows are read first, in a short read
transaction. Publications of one site take turns on a file lock
(``<site>/.publication.lock``).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from scorecards import booklet as booklet_module
from scorecards import charts as charts_module
from scorecards import opendata, pages, site
from scorecards.drawing import STALL_SECONDS, Booklet, DrawingError, cache_paths, draw_all
from scorecards.view import DRAFT_SLUG, EditionView, ProjectView, draft_view, edition_view

__all__ = ["DrawingError", "PublishReport", "build", "publish_edition"]

log = logging.getLogger(__name__)

# Bump when the drawing or the pages change, so every cached scorecard is redrawn.
RENDER_VERSION = "12"
MANIFEST = "manifest.json"
LOCK_FILE = ".publication.lock"
# Time a booklet may take to lay out, beyond the pool's ``STALL_SECONDS``: about ten times
# what a project's page takes on an idle machine.
BOOKLET_SECONDS_PER_PROJECT = 0.5


@dataclass
class PublishReport:
    folder: Path
    projects: int = 0
    drawn: int = 0
    reused: int = 0
    pages_written: int = 0
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def default_draft_root() -> Path:
    from pilot.config import get_settings

    return get_settings().draft_path


def edition_folder(site_root: Path, view: EditionView, draft_root: Path | None = None) -> Path:
    """Where an edition is written; the draft is DINUM's, outside the public site (served
    at ``/panorama/brouillon/`` to DINUM only)."""
    if view.slug == DRAFT_SLUG:
        return draft_root or default_draft_root()
    return site_root / "editions" / view.slug


def _hash(row: ProjectView) -> str:
    return f"{RENDER_VERSION}-{row.content_hash()}"


_held = threading.local()  # the sites whose lock this thread holds


@contextmanager
def publication_lock(site_root: Path) -> Iterator[None]:
    """Hold the site's publication lock (an exclusive ``flock`` on
    ``<site>/.publication.lock``): publications of one site, from any process, take turns.
    Re-entered by the thread that holds it, it does nothing more."""
    key = str(site_root.resolve())
    held: set[str] = getattr(_held, "sites", set())
    _held.sites = held
    if key in held:
        yield
        return
    site_root.mkdir(parents=True, exist_ok=True)
    with open(site_root / LOCK_FILE, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _place_file(source: Path, target: Path) -> None:
    """Hard-link a cached file into the site (copy when links are not possible)."""
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    tmp.replace(target)


def _write_project_page(
    view: EditionView,
    row: ProjectView,
    cache: Path,
    keys: dict[str, str],
    place: site.Place,
    folder: Path,
) -> int:
    """Place a project's scorecard (PNG, SVG) in the edition's ``folder``, then write its
    page (after: a reader never sees a page without its image). Returns the pages written."""
    paths = cache_paths(cache, keys[row.pilot_id])
    for fmt in ("png", "svg"):
        _place_file(paths[fmt], folder / "fiches" / f"{row.pilot_id}.{fmt}")
    html = site.project_page(view, row, charts_module.scorecard_text(row), place)
    return int(site.write_if_changed(folder / "projets" / f"{row.pilot_id}.html", html))


def _load_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if data.get("render_version") == RENDER_VERSION else {}


def build(
    view: EditionView,
    site_root: Path,
    *,
    workers: int | None = None,
    root_index: bool | None = None,
    booklet: bool | None = None,
    draft_root: Path | None = None,
) -> PublishReport:
    """Write everything an edition (or the draft) publishes, redrawing only what changed,
    under the site's publication lock.

    ``root_index``: also make this edition the site's home page; ``booklet``: also write
    the PDF booklet (both default to: when it is a published edition).
    """
    if workers is None:
        from pilot.config import get_settings

        workers = get_settings().drawing_workers
    with publication_lock(site_root):
        return _build(
            view,
            site_root,
            workers=workers,
            root_index=(not view.draft) if root_index is None else root_index,
            booklet=(not view.draft) if booklet is None else booklet,
            draft_root=draft_root or default_draft_root(),
        )


def _build(
    view: EditionView,
    site_root: Path,
    *,
    workers: int,
    root_index: bool,
    booklet: bool,
    draft_root: Path,
) -> PublishReport:
    folder = edition_folder(site_root, view, draft_root)
    report = PublishReport(folder=folder, projects=len(view.rows))
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.seconds[name] = report.seconds.get(name, 0.0) + now - clock
        clock = now

    # 1. Every missing scorecard drawn into the cache (not part of the site), the portfolio
    # charts meanwhile: should drawing fail, nothing of the site has changed.
    cache = site_root / ".cache" / "fiches"
    keys = {row.pilot_id: _hash(row) for row in view.rows}
    missing = [
        row
        for row in view.rows
        if not all(p.exists() for p in cache_paths(cache, keys[row.pilot_id]).values())
    ]
    report.drawn, report.reused = len(missing), len(view.rows) - len(missing)
    manifest_before = _load_manifest(folder)
    # The booklet is laid out again only when its HTML changed (or its file is gone), by
    # the pool beside the scorecards, into the scorecards' cache: it joins the site in
    # step 2 (one left there by a publication that failed is pruned with the scorecards).
    booklet_path = folder / site.pdf_name(view)
    booklet_key = lay_out = None
    if booklet:
        booklet_html = booklet_module.booklet_html(view)
        booklet_key = booklet_module.html_hash(booklet_html)
        if booklet_key != manifest_before.get("booklet") or not booklet_path.exists():
            lay_out = Booklet(
                booklet_html,
                cache / f"livret-{booklet_key}.pdf",
                STALL_SECONDS + BOOKLET_SECONDS_PER_PROJECT * len(view.rows),
            )
    portfolio: list[charts_module.Chart] = []
    draw_all(
        missing,
        [keys[row.pilot_id] for row in missing],
        cache,
        workers,
        meanwhile=lambda: portfolio.extend(charts_module.portfolio_charts(view)),
        lay_out=lay_out,
    )
    lap("fiches, graphiques et livret PDF")

    # 2. The site.
    legacy = site_root / DRAFT_SLUG  # where the draft was, before it left the public site
    if legacy.resolve() != draft_root.resolve():
        shutil.rmtree(legacy, ignore_errors=True)
    site.copy_assets(site_root)
    folder.mkdir(parents=True, exist_ok=True)
    previous = manifest_before.get("projects", {})
    cards = folder / "fiches"
    cards.mkdir(exist_ok=True)
    project_pages = folder / "projets"
    project_pages.mkdir(exist_ok=True)
    for chart in portfolio:
        chart.save(folder / "graphiques")
    lap("graphiques")
    place = (
        site.Place(root="../../../", ed="../")
        if view.slug != DRAFT_SLUG
        else site.Place(root="../../", ed="../")
    )
    # Each changed page after its scorecard: a reader never sees a page without its image.
    for row in view.rows:
        if (
            previous.get(row.pilot_id) != keys[row.pilot_id]
            or not (project_pages / f"{row.pilot_id}.html").exists()
        ):
            report.pages_written += _write_project_page(view, row, cache, keys, place, folder)
    lap("pages projets")

    # The open data before the home page, which gives each file's size.
    report.files += opendata.write_all(view, folder / "donnees")
    data_files = opendata.listing(folder / "donnees", opendata.EDITION_BASE)
    lap("données ouvertes")

    if lay_out is not None:
        _place_file(lay_out.target, booklet_path)
        lay_out.target.unlink()
    if booklet:
        report.files.append(booklet_path)
    else:
        booklet_path.unlink(missing_ok=True)

    # The edition's home page, then the site's, last: they link to everything above.
    home_place = (
        site.Place(root="../../", ed="")
        if view.slug != DRAFT_SLUG
        else site.Place(root="../", ed="")
    )
    home = site.edition_home(view, portfolio, home_place, booklet=booklet, data_files=data_files)
    if site.write_if_changed(folder / "index.html", home):
        report.pages_written += 1
    if root_index:
        ed = f"editions/{view.slug}/"
        home = site.edition_home(
            view,
            portfolio,
            site.Place(root="", ed=ed),
            booklet=booklet,
            data_files=data_files,
        )
        site.write_if_changed(site_root / "index.html", home)
    lap("pages")

    for stale in set(previous) - set(keys):
        for path in (
            project_pages / f"{stale}.html",
            cards / f"{stale}.png",
            cards / f"{stale}.svg",
        ):
            path.unlink(missing_ok=True)

    manifest = {
        "render_version": RENDER_VERSION,
        "edition": view.slug,
        "content_hash": view.content_hash(),
        "projects": keys,
        "booklet": booklet_key,
    }
    site.write_if_changed(
        folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    )
    _prune_cache(site_root, cache, draft_root)
    lap("manifeste")
    return report


def _prune_cache(site_root: Path, cache: Path, draft_root: Path) -> None:
    """Drop cached scorecards that no edition's manifest refers to any more (and a
    booklet a failed publication left there)."""
    used: set[str] = set()
    folders = [draft_root, *(site_root / "editions").glob("*")]
    for folder in folders:
        used.update(_load_manifest(folder).get("projects", {}).values())
    for path in cache.glob("*.*"):
        if path.stem not in used and not path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)


# --- Entry points for the CLI and the scheduler --------------------------------------------


@dataclass(frozen=True)
class Publication:
    """A published edition: its number, what writing it did, and the warnings that had to
    be forced (``force``), if any."""

    number: int
    report: PublishReport
    warnings: list[str]


def publish_edition(
    engine: Engine | None,
    site_root: Path,
    *,
    published_on: date,
    number: int | None = None,
    force: bool = False,
    actor: str = "publish",
    workers: int | None = None,
) -> Publication:
    """The one publication path (``pilot publish``, the ``publishEdition`` mutation): freeze
    the current portfolio as the next edition and commit, in its own short write
    transaction; then read the frozen rows in a short read transaction, and write the
    edition's site, PDF and open data outside any transaction (imports are not held up while
    the site is drawn). Refused (``PublicationError``) when too near another edition, unless
    ``force``. Should writing fail after the commit, the scheduler's job writes the edition
    later (``render_unwritten_editions``), and ``pilot render --edition N`` can too."""
    from pilot.db import session_scope
    from pilot.editions import service as editions

    with session_scope(engine, write=True) as session:
        warnings = editions.publication_warnings(session, published_on) if force else []
        edition = editions.publish_current(
            session, published_on=published_on, number=number, force=force, actor=actor
        )
        n = edition.number
    report = render_published(engine, n, site_root, workers=workers)
    return Publication(number=n, report=report, warnings=warnings)


# An edition folder without a manifest, changed this recently, is being written (by a
# publication, in this process or another): the scheduled job leaves it alone this time.
WRITING_GRACE_SECONDS = 900


def _unwritten(folder: Path) -> bool:
    if (folder / MANIFEST).exists():
        return False
    try:
        changed = folder.stat().st_mtime
    except FileNotFoundError:
        return True
    return time.time() - changed > WRITING_GRACE_SECONDS


def render_unwritten_editions(
    engine: Engine | None = None, site_root: Path | None = None, *, workers: int | None = None
) -> list[int]:
    """Write the published editions that have no site yet (no manifest in their folder):
    one whose writing failed after its commit, an edition loaded from the open data. The
    scheduler runs it; returns the numbers written. A folder without a manifest that
    changed in the last ``WRITING_GRACE_SECONDS`` is being written: left for next time."""
    from pilot.config import get_settings
    from pilot.db import session_scope
    from pilot.editions import service as editions

    site_root = site_root or get_settings().site_path
    with session_scope(engine) as session:
        numbers = [
            e.number
            for e in editions.published_editions(session)
            if _unwritten(site_root / "editions" / str(e.number))
        ]
    for n in numbers:
        render_published(engine, n, site_root, workers=workers)
        log.info("Édition n° %d écrite (elle n'avait pas encore de site).", n)
    return numbers


@dataclass(frozen=True)
class _Frozen:
    """What writing a published edition reads from the database (plain data)."""

    view: EditionView
    latest: bool
    published: list[EditionView]


def _read_edition(session: Session, number: int) -> _Frozen:
    from pilot.editions import service as editions

    edition = editions.get_edition(session, number)
    if edition.status != "published":
        raise editions.EditionNotFound(f"L'édition « {number} » n'est pas publiée.")
    latest = editions.get_edition(session, "latest")
    return _Frozen(
        edition_view(session, edition), latest.id == edition.id, pages.published_views(session)
    )


def _write_edition(frozen: _Frozen, site_root: Path, workers: int | None) -> PublishReport:
    with publication_lock(site_root):
        report = build(frozen.view, site_root, workers=workers, root_index=frozen.latest)
        # The open-data history of every published edition, rebuilt with each edition.
        report.files += opendata.write_history(frozen.published, site_root / "donnees")
        pages.write_views_pages(frozen.published, site_root)  # archives, projects, feeds…
    return report


def render_published(
    engine: Engine | None, number: int, site_root: Path, *, workers: int | None = None
) -> PublishReport:
    """Write (again) the site, PDF and open data of published edition ``number`` from its
    frozen rows: read in a short read transaction, written outside any transaction (the
    same rows give the same files). It becomes the site's home page when it is the latest
    published edition."""
    from pilot.db import session_scope

    with session_scope(engine) as session:
        frozen = _read_edition(session, number)
    return _write_edition(frozen, site_root, workers)


def render_edition(
    session: Session, number: int, site_root: Path, *, workers: int | None = None
) -> PublishReport:
    """``render_published`` reading with the caller's ``session`` (whose transaction the
    caller ends: prefer ``render_published``, which holds none while writing)."""
    return _write_edition(_read_edition(session, number), site_root, workers)


def publish_draft(
    session: Session,
    site_root: Path,
    *,
    today: date,
    workers: int | None = None,
    draft_root: Path | None = None,
) -> PublishReport:
    """Write the draft panorama (the live portfolio, no edition is created) in
    ``draft_root`` (default: the ``draft_path`` setting), outside the public site."""
    return build(
        draft_view(session, today=today), site_root, workers=workers, draft_root=draft_root
    )


def republish_draft_if_changed(
    engine: Engine | None = None,
    site_root: Path | None = None,
    *,
    today: date | None = None,
    workers: int | None = None,
    draft_root: Path | None = None,
) -> PublishReport | None:
    """The scheduled job: rewrite the draft panorama when the data changed since the last
    time, else do nothing. Returns the report, or ``None`` when nothing changed.

    The live portfolio is read in a short read transaction; the draft is written outside
    any. Only changed projects' scorecards are redrawn.
    """
    from pilot.config import get_settings
    from pilot.db import session_scope

    site_root = site_root or get_settings().site_path
    with session_scope(engine) as session:
        view = draft_view(session, today=today or date.today())
    draft_root = draft_root or get_settings().draft_path
    manifest = _load_manifest(draft_root)
    if manifest.get("content_hash") == view.content_hash():
        return None
    report = build(view, site_root, workers=workers, draft_root=draft_root)
    log.info(
        "Brouillon du panorama republié : %d fiches redessinées, %d réutilisées.",
        report.drawn,
        report.reused,
    )
    return report

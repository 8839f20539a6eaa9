"""Publishing an edition (or the draft): charts, scorecards, pages, PDF booklet, open data.

Incremental: each project's content hash (``ProjectView.content_hash``) names its drawn
scorecard in a cache shared by every edition (``<site>/.cache/fiches/<hash>.{png,svg}``)
and is recorded per edition in ``manifest.json``. Only projects whose hash is not in the
cache are drawn; only pages whose hash changed are rewritten. Scorecards can be drawn by a
pool of worker processes (``workers``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from scorecards import booklet as booklet_module
from scorecards import charts as charts_module
from scorecards import opendata, pages, pdf, site
from scorecards.view import DRAFT_SLUG, EditionView, ProjectView, draft_view, edition_view

log = logging.getLogger(__name__)

# Bump when the drawing or the pages change, so every cached scorecard is redrawn.
RENDER_VERSION = "10"
SCORECARD_FORMATS = ("png", "svg")
MANIFEST = "manifest.json"
MIN_PER_WORKER = 25  # below this many scorecards per worker, starting it costs more than it saves
CHUNK = 10  # scorecards a worker draws per task: small enough to share the work evenly


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


def _cache_paths(cache: Path, key: str) -> dict[str, Path]:
    return {fmt: cache / f"{key}.{fmt}" for fmt in SCORECARD_FORMATS}


# Each thread's scorecard figure, redrawn for every scorecard it draws, from one chunk to the
# next: a new figure costs about 60 ms more to draw the first time (half a scorecard).
_drawn = threading.local()


def draw_scorecards(rows: Sequence[ProjectView], cache: str) -> int:
    """Draw the scorecards of ``rows`` into the cache (a worker process runs this)."""
    folder = Path(cache)
    for row in rows:
        chart = charts_module.scorecard(row, reuse=getattr(_drawn, "figure", None))
        _drawn.figure = chart.figure
        assert chart.figure is not None
        paths = _cache_paths(folder, _hash(row))
        charts_module.write_figure(chart.figure, paths["svg"], "svg")
        page = charts_module.figure_data(chart.figure, "pdf", core_fonts=chart.core_fonts)
        # The PNG is drawn from the figure's PDF by PDFium: five times quicker than Agg
        # would draw the figure again.
        charts_module.write_file(paths["png"], pdf.page_png(page, charts_module.DPI))
    return len(rows)


class _Drawing:
    """Scorecards being drawn: ``ready()`` gives the rows whose scorecards are in the cache,
    chunk by chunk as the pool's workers finish them (every row once)."""

    def __init__(
        self,
        rows: list[ProjectView],
        futures: list[Future[int]],
        submitting: threading.Thread | None = None,
    ) -> None:
        self.rows, self.futures, self.submitting = rows, futures, submitting

    def submitted(self) -> None:
        """Wait until every chunk is handed to the pool (the pool may refuse one: its error
        is logged, and this raises)."""
        if self.submitting is None:
            return
        self.submitting.join()
        if len(self.futures) * CHUNK < len(self.rows):
            raise RuntimeError("scorecards not all handed to the pool")

    def ready(self) -> Iterator[list[ProjectView]]:
        self.submitted()
        if not self.futures:
            yield self.rows
            return
        chunks = {future: i for i, future in enumerate(self.futures)}
        for future in as_completed(self.futures):
            future.result()
            start = chunks[future] * CHUNK
            yield self.rows[start : start + CHUNK]


@contextmanager
def _drawing(rows: list[ProjectView], cache: Path, workers: int) -> Iterator[_Drawing]:
    """Draw the scorecards of ``rows`` into ``cache``: at once in this process, or by a pool
    of worker processes while this one runs the body of the ``with`` (writing the pages and
    the booklet as the scorecards come), in chunks handed to whichever worker is free.
    Every scorecard is drawn on leaving."""
    cache.mkdir(parents=True, exist_ok=True)
    if workers <= 1 or len(rows) < MIN_PER_WORKER * 2:
        draw_scorecards(rows, str(cache))
        yield _Drawing(rows, [])
        return
    workers = min(workers, len(rows) // MIN_PER_WORKER)
    # "forkserver": workers start clean (no inherited database connections or threads), forked
    # from a server that imported the drawing modules once (and stays for the next publish).
    context = get_context("forkserver")
    context.set_forkserver_preload(["scorecards.publish"])
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures: list[Future[int]] = []

        def submit() -> None:
            futures.extend(
                pool.submit(draw_scorecards, rows[i : i + CHUNK], str(cache))
                for i in range(0, len(rows), CHUNK)
            )

        # Submitted from a thread: the first submit waits for the fork server to import the
        # drawing modules (about 2 s), while this process draws the portfolio charts.
        submitting = threading.Thread(target=submit, name="scorecards-pool")
        submitting.start()
        drawing = _Drawing(rows, futures, submitting)
        try:
            yield drawing
        except BaseException:
            submitting.join()
            for future in futures:
                future.cancel()
            raise
        drawing.submitted()
        for future in futures:
            future.result()


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
    paths = _cache_paths(cache, keys[row.pilot_id])
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
    workers: int = 1,
    root_index: bool | None = None,
    booklet: bool | None = None,
    draft_root: Path | None = None,
) -> PublishReport:
    """Write everything an edition (or the draft) publishes, redrawing only what changed.

    ``root_index``: also make this edition the site's home page; ``booklet``: also write
    the PDF booklet (both default to: when it is a published edition — laying out the
    booklet takes tens of milliseconds a project, which the draft's frequent republishing
    can spare). The booklet is written last, while a pool draws the scorecards; the
    edition's home page links to it only once it is written.
    """
    booklet = (not view.draft) if booklet is None else booklet
    draft_root = draft_root or default_draft_root()
    folder = edition_folder(site_root, view, draft_root)
    legacy = site_root / DRAFT_SLUG  # where the draft was, before it left the public site
    if legacy.resolve() != draft_root.resolve():
        shutil.rmtree(legacy, ignore_errors=True)
    report = PublishReport(folder=folder, projects=len(view.rows))
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.seconds[name] = report.seconds.get(name, 0.0) + now - clock
        clock = now

    site.copy_assets(site_root)
    folder.mkdir(parents=True, exist_ok=True)
    manifest_before = _load_manifest(folder)
    previous = manifest_before.get("projects", {})
    cache = site_root / ".cache" / "fiches"
    keys = {row.pilot_id: _hash(row) for row in view.rows}
    missing = [
        row
        for row in view.rows
        if not all(p.exists() for p in _cache_paths(cache, keys[row.pilot_id]).values())
    ]
    report.drawn, report.reused = len(missing), len(view.rows) - len(missing)
    cards = folder / "fiches"
    cards.mkdir(exist_ok=True)
    pages = folder / "projets"
    pages.mkdir(exist_ok=True)
    changed = [
        row
        for row in view.rows
        if previous.get(row.pilot_id) != keys[row.pilot_id]
        or not (pages / f"{row.pilot_id}.html").exists()
    ]
    place = (
        site.Place(root="../../../", ed="../")
        if view.slug != DRAFT_SLUG
        else site.Place(root="../../", ed="../")
    )
    changed_ids = {row.pilot_id for row in changed}
    booklet_path = folder / site.pdf_name(view)
    with ExitStack() as stack:
        drawing = stack.enter_context(_drawing(missing, cache, workers))
        lap("fiches")  # drawn by now, unless a pool draws them while the pages below are written
        portfolio = charts_module.portfolio_charts(view)
        for chart in portfolio:
            chart.save(folder / "graphiques")
        lap("graphiques")

        # The open data before the home page, which gives each file's size.
        report.files += opendata.write_all(view, folder / "donnees")
        data_files = opendata.listing(folder / "donnees", opendata.EDITION_BASE)
        lap("données ouvertes")

        home_place = (
            site.Place(root="../../", ed="")
            if view.slug != DRAFT_SLUG
            else site.Place(root="../", ed="")
        )

        def write_homes(linked: bool) -> None:
            home = site.edition_home(
                view, portfolio, home_place, booklet=linked, data_files=data_files
            )
            if site.write_if_changed(folder / "index.html", home):
                report.pages_written += 1
            if root_index if root_index is not None else not view.draft:
                ed = f"editions/{view.slug}/"
                home = site.edition_home(
                    view,
                    portfolio,
                    site.Place(root="", ed=ed),
                    booklet=linked,
                    data_files=data_files,
                )
                site.write_if_changed(site_root / "index.html", home)

        # A booklet of a previous writing of this edition is linked until the new one
        # replaces it; a first writing links none until it is written.
        write_homes(booklet and booklet_path.exists())
        lap("pages")

        # The booklet needs no scorecard: laid out here while a pool draws them.
        booklet_key = None
        if booklet:
            booklet_key = booklet_module.write_booklet(
                view, booklet_path, unless=manifest_before.get("booklet")
            )
            report.files.append(booklet_path)
            write_homes(True)
            lap("livret PDF")
        else:
            booklet_path.unlink(missing_ok=True)
        # As the pool draws them: each changed page after its scorecard (a reader never sees
        # a page without its image).
        to_draw = {row.pilot_id for row in missing}
        for row in changed:
            if row.pilot_id not in to_draw:  # drawn before: in the cache already
                report.pages_written += _write_project_page(view, row, cache, keys, place, folder)
        for rows in drawing.ready():
            for row in (r for r in rows if r.pilot_id in changed_ids):
                report.pages_written += _write_project_page(view, row, cache, keys, place, folder)
        lap("fiches et pages projets")

    for stale in set(previous) - set(keys):
        for path in (pages / f"{stale}.html", cards / f"{stale}.png", cards / f"{stale}.svg"):
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
    """Drop cached scorecards that no edition's manifest refers to any more."""
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
    workers: int = 1,
) -> Publication:
    """The one publication path (``pilot publish``, the ``publishEdition`` mutation): freeze
    the current portfolio as the next edition and commit, then write its site, PDF and open
    data from the frozen rows in a read transaction (imports are not held up while the site
    is drawn). Refused (``PublicationError``) when too near another edition, unless
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
    with session_scope(engine) as session:
        report = render_edition(session, n, site_root, workers=workers)
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
    engine: Engine | None = None, site_root: Path | None = None, *, workers: int = 1
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
        with session_scope(engine) as session:
            render_edition(session, n, site_root, workers=workers)
        log.info("Édition n° %d écrite (elle n'avait pas encore de site).", n)
    return numbers


def render_edition(
    session: Session, number: int, site_root: Path, *, workers: int = 1
) -> PublishReport:
    """Write (again) the site, PDF and open data of published edition ``number`` from its
    frozen rows, outside any write transaction: the same rows give the same files. It
    becomes the site's home page when it is the latest published edition. The open-data
    history of every published edition (``donnees/historique.*``) is written again too."""
    from pilot.editions import service as editions

    edition = editions.get_edition(session, number)
    if edition.status != "published":
        raise editions.EditionNotFound(f"L'édition « {number} » n'est pas publiée.")
    latest = editions.get_edition(session, "latest")
    view = edition_view(session, edition)
    report = build(view, site_root, workers=workers, root_index=latest.id == edition.id)
    views = pages.published_views(session)
    # The history of every published edition, rebuilt with each edition.
    report.files += opendata.write_history(views, site_root / "donnees")
    pages.write_site_pages(session, site_root, views)  # archives, projects, ministries, feeds…
    return report


def publish_draft(
    session: Session,
    site_root: Path,
    *,
    today: date,
    workers: int = 1,
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
    workers: int = 1,
    draft_root: Path | None = None,
) -> PublishReport | None:
    """The scheduled job: rewrite the draft panorama when the data changed since the last
    time, else do nothing. Returns the report, or ``None`` when nothing changed.

    Register it in the scheduler every ``settings.publish_interval_seconds`` (0 = off).
    Only changed projects' scorecards are redrawn.
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

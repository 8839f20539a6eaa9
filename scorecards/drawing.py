"""Drawing scorecards into the cache, in this process or by a pool of worker processes,
and laying out the PDF booklet beside them.

The pool is a plain ``concurrent.futures.ProcessPoolExecutor`` created for one publication
and shut down at its end (a ``with`` block). Its workers are *spawned*: fresh interpreters
that import this module (the drawing modules only: not the web application, no database
connection) and never inherit the threads or locks of the process publishing (``pilot
serve`` runs server and scheduler threads, and a fork taken while one of them held a lock
would leave a worker waiting for ever).

The booklet (one WeasyPrint layout, the publication's longest single task) is the pool's
first task, so that it runs beside the scorecards rather than after them.

Whatever goes wrong in the pool ends the publication with a ``DrawingError``, never a
wait without end: a worker that dies (killed, out of memory) breaks the pool, which
``concurrent.futures`` reports (``BrokenProcessPool``); a pool where no chunk finishes for
``STALL_SECONDS`` (or whose booklet outlasts the time allowed to it) has its workers killed.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

from scorecards import booklet, charts, pdf
from scorecards.view import ProjectView

SCORECARD_FORMATS = ("png", "svg")
MIN_PER_WORKER = 20  # below this many scorecards per worker, starting it costs more than it saves
CHUNK = 10  # scorecards a worker draws per task: small enough to share the work evenly
YOUNG_OBJECTS = 100_000  # a worker's young generation (Python's default: 700 objects)
# No chunk finished for this long: the pool is stuck (a chunk takes a few seconds; a
# worker's start, importing matplotlib, about two).
STALL_SECONDS = 300.0


class DrawingError(RuntimeError):
    """The scorecards could not all be drawn: nothing of the publication was written."""


def cache_paths(cache: Path, key: str) -> dict[str, Path]:
    return {fmt: cache / f"{key}.{fmt}" for fmt in SCORECARD_FORMATS}


def draw_scorecards(rows: Sequence[ProjectView], keys: Sequence[str], cache: str) -> int:
    """Draw the scorecards of ``rows`` into the cache folder ``cache``, as
    ``<key>.{png,svg}`` (the worker processes' entry point). Returns how many."""
    folder = Path(cache)
    for row, key in zip(rows, keys, strict=True):
        chart = charts.scorecard(row)
        assert chart.figure is not None
        paths = cache_paths(folder, key)
        charts.write_figure(chart.figure, paths["svg"], "svg")
        page = charts.figure_data(chart.figure, "pdf", core_fonts=chart.core_fonts)
        # The PNG is drawn from the figure's PDF by PDFium: several times quicker than Agg
        # would draw the figure again.
        charts.write_file(paths["png"], pdf.page_png(page, charts.DPI))
    return len(rows)


def lay_out_booklet(html: str, target: str) -> int:
    """Write the booklet's HTML (``booklet.booklet_html``) as its tagged PDF at ``target``
    (a pool task, like ``draw_scorecards``)."""
    charts.write_file(Path(target), booklet.html_pdf(html))
    return 0


@dataclass(frozen=True)
class Booklet:
    """The booklet to lay out beside the scorecards: its HTML, where to write its PDF, and
    how long it may take from its start before the pool is deemed stuck."""

    html: str
    target: Path
    seconds: float


def collect_rarely() -> None:
    """The garbage collector's settings of a process that only draws and lays out (a pool
    worker), set once when it starts.

    Every figure a worker draws is garbage with reference cycles, and WeasyPrint keeps the
    boxes of every page of the booklet until its PDF is written (millions of objects that
    all survive): with Python's defaults the collector runs every 700 new objects and its
    full collections walk all of them again, with the objects the imports made (matplotlib,
    its fonts). So the objects that exist once the worker has started are frozen
    (``gc.freeze()``: never collected, never walked again), and the young generation holds
    ``YOUNG_OBJECTS``: collections still happen, a hundred times rarer. Measured in
    benchmarks/README.md: about a fifth of a scorecard's CPU, and of the booklet's."""
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


def _started(pids: Any) -> None:
    """Each worker's initializer: tell the publishing process its id (to kill a stuck pool),
    keep out of the terminal's Ctrl+C (the publishing process handles it), and set the
    collector for drawing (``collect_rarely``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pids.put(os.getpid())
    collect_rarely()


def draw_all(
    rows: Sequence[ProjectView],
    keys: Sequence[str],
    cache: Path,
    workers: int,
    *,
    meanwhile: Callable[[], None] | None = None,
    task: Callable[[Sequence[ProjectView], Sequence[str], str], int] = draw_scorecards,
    lay_out: Booklet | None = None,
) -> None:
    """Draw the scorecards of ``rows`` (cache names ``keys``) into ``cache``, and lay out
    the booklet ``lay_out`` if any: in this process, or by a pool of ``workers`` spawned
    processes while this one runs ``meanwhile``. Returns once everything is written; raises
    ``DrawingError`` otherwise. ``task``: the worker's function (a module-level function,
    which a spawned worker imports)."""
    cache.mkdir(parents=True, exist_ok=True)
    # The booklet counts as one worker's share.
    workers = min(workers, len(rows) // MIN_PER_WORKER + (lay_out is not None))
    if workers <= 1:
        if meanwhile is not None:
            meanwhile()
        if lay_out is not None:
            lay_out_booklet(lay_out.html, str(lay_out.target))
        task(rows, keys, str(cache))
        return
    context = multiprocessing.get_context("spawn")
    pids = context.Queue()
    started: set[int] = set()
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_started, initargs=(pids,)
    ) as pool:
        try:
            pending: set[Future[int]] = set()
            booklet_done: Future[int] | None = None
            booklet_deadline = time.monotonic() + (lay_out.seconds if lay_out else 0.0)
            if lay_out is not None:  # first: the longest task
                booklet_done = pool.submit(lay_out_booklet, lay_out.html, str(lay_out.target))
                pending.add(booklet_done)
            pending.update(
                pool.submit(task, rows[i : i + CHUNK], keys[i : i + CHUNK], str(cache))
                for i in range(0, len(rows), CHUNK)
            )
            if meanwhile is not None:
                meanwhile()
            while pending:
                only_booklet = pending == {booklet_done}
                timeout = (
                    max(0.0, booklet_deadline - time.monotonic()) if only_booklet else STALL_SECONDS
                )
                done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
                if not done:
                    raise DrawingError(
                        (
                            f"Livret PDF toujours en cours de mise en page après "
                            f"{lay_out.seconds:.0f} s"
                            if only_booklet and lay_out is not None
                            else f"Aucune fiche projet dessinée depuis {STALL_SECONDS:.0f} s"
                        )
                        + " : les processus de dessin sont arrêtés et la publication abandonnée."
                    )
                for future in done:
                    future.result()
        except BrokenProcessPool as error:
            raise DrawingError(
                "Un processus de dessin des fiches projets s'est arrêté brutalement (tué, "
                "ou mémoire épuisée) : publication abandonnée, le site n'a pas été modifié."
            ) from error
        except BaseException:
            # Stop the workers before leaving the ``with`` (which waits for them): a stuck
            # or still busy worker would otherwise hold the publication for ever.
            pool.shutdown(wait=False, cancel_futures=True)
            _kill(pids, started)
            raise


def _kill(pids: Any, started: set[int]) -> None:
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            started.add(pids.get(timeout=0.1))
        except Empty:
            break
    for pid in started:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

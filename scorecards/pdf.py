"""The PDF booklet of an edition: summary pages, then one page per project.

Summary pages are drawn with matplotlib's PDF backend (``PdfPages``). Project pages are
the scorecards, drawn once per project content (see ``scorecards.publish``) as one-page
PDFs and put together here with pypdf, so a republish redraws only what changed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from pypdf import PdfWriter

from scorecards.charts import PDF_CORE_FONTS_RC, RC, Chart, fits_core_fonts, fr, new_figure
from scorecards.view import EditionView

A4_LANDSCAPE = (11.69, 8.27)


def _title_page(view: EditionView) -> Chart:
    f = view.figures
    fig = new_figure(*A4_LANDSCAPE, layout=None)
    with matplotlib.rc_context(RC):
        fig.text(
            0.06,
            0.84,
            "Panorama des grands projets numériques de l'État",
            fontsize=22,
            weight="bold",
        )
        subtitle = "Brouillon (non publié)" if view.draft else f"Édition n° {view.number}"
        fig.text(0.06, 0.78, f"{subtitle} — {view.published_on.strftime('%d/%m/%Y')}", fontsize=15)
        mean = f.get("mean_duration_years")
        lines = [
            f"{f['projects']} projets suivis, dont {f['interministerial']} interministériels",
            f"{fr(float(f['total_cost_bn']), 2)} milliards d'euros de coût total estimé",
            "Durée moyenne : "
            + ("non calculable" if mean is None else f"{fr(float(mean), 1)} années"),
        ]
        health = f.get("health") or {}
        if health:
            lines.append(
                f"Santé calculée : {health.get('vert', 0)} vert, {health.get('orange', 0)} "
                f"orange, {health.get('rouge', 0)} rouge"
            )
        if f.get("previous_edition"):
            lines.append(
                f"Par rapport à l'édition n° {f['previous_edition']} : "
                f"{len(f.get('entrants', []))} entrées, {len(f.get('exits', []))} sorties"
            )
        if f.get("withheld"):
            lines.append(f"Chiffres non communiqués pour {f['withheld']} projet(s) confidentiel(s)")
        for i, line in enumerate(lines):
            fig.text(0.06, 0.64 - i * 0.07, line, fontsize=14)
        fig.text(0.06, 0.08, "Données publiées sous Licence Ouverte 2.0 — PILOT, DINUM", fontsize=9)
    return Chart("couverture", "Couverture", "", [], [], fig)


def summary_pdf(view: EditionView, charts: Sequence[Chart]) -> bytes:
    """The summary pages: a title page, then each portfolio chart on its own page.
    Call it after the charts were saved as PNG and SVG: it resizes their figures."""
    title = _title_page(view).figure
    assert title is not None
    figures = [title]
    for chart in charts:
        if chart.slug == "chiffres-cles" or chart.figure is None:
            continue  # on the title page already
        # Drawn last (after PNG and SVG), so resizing and titling it here is harmless.
        chart.figure.set_size_inches(*A4_LANDSCAPE)
        chart.figure.suptitle(chart.title, fontsize=16, weight="bold")
        figures.append(chart.figure)
    # One set of fonts for every page: the standard ones unless a text needs DejaVu Sans.
    core = all(chart.core_fonts for chart in charts) and fits_core_fonts(view.title)
    buffer = io.BytesIO()
    with (
        matplotlib.rc_context(PDF_CORE_FONTS_RC if core else RC),
        PdfPages(buffer, metadata={"Title": view.title, "CreationDate": None}) as pdf,
    ):
        for figure in figures:
            pdf.savefig(figure)
    return buffer.getvalue()


class Booklet:
    """The booklet being put together: the summary pages, then ``add`` each project's page
    (a one-page PDF, in order), then ``write``."""

    def __init__(self, view: EditionView, charts: Sequence[Chart]) -> None:
        self.view = view
        self.writer = PdfWriter()
        self.writer.append(io.BytesIO(summary_pdf(view, charts)))

    def add(self, page: Path) -> None:
        self.writer.append(str(page))

    def write(self, path: Path) -> None:
        """Write it atomically at ``path``."""
        self.writer.add_metadata({"/Title": self.view.title, "/Lang": "fr-FR"})
        buffer = io.BytesIO()
        self.writer.write(buffer)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)


def write_booklet(
    view: EditionView, charts: Sequence[Chart], project_pages: Sequence[Path], path: Path
) -> None:
    """Summary pages then one page per project (``project_pages``: one-page PDFs, in order)."""
    booklet = Booklet(view, charts)
    for page in project_pages:
        booklet.add(page)
    booklet.write(path)

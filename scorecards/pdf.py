"""The PDF booklet of an edition (summary pages, then one page per project), and the
scorecards' PNG images, which are their PDF pages as pictures.

Summary pages are drawn with matplotlib's PDF backend (``PdfPages``). Project pages are
the scorecards, drawn once per project content (see ``scorecards.publish``) as one-page
PDFs and put together here with PDFium (``pypdfium2``: the PDF library of Chromium), so a
republish redraws only what changed. PDFium also turns each scorecard's PDF page into its
PNG image: about five times quicker than drawing the figure a third time with Agg.
"""

from __future__ import annotations

import ctypes
import io
import threading
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from matplotlib.backends.backend_pdf import PdfPages

from scorecards.charts import (
    PDF_CORE_FONTS_RC,
    RC,
    Chart,
    encode_png,
    fits_core_fonts,
    fr,
    new_figure,
    write_file,
)
from scorecards.view import EditionView

# PDFium is not thread-safe: one thread at a time calls it, in each process.
_PDFIUM = threading.Lock()

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
        if view.demo:
            fig.text(
                0.06,
                0.72,
                "DONNÉES FICTIVES DE DÉMONSTRATION — non publiées par la DINUM",
                fontsize=15,
                weight="bold",
                color="#b34000",
            )
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


def page_png(pdf: bytes, dpi: float) -> bytes:
    """The first page of the PDF file ``pdf`` as a PNG image at ``dpi`` (white background),
    as drawn by PDFium."""
    with _PDFIUM:
        document = pdfium.PdfDocument(pdf)
        try:
            page = document[0]
            # PDFium rounds the size up: 518.4 pt at 100 dpi is 721 lines, for 720.
            width, height = (round(side * dpi / 72) for side in page.get_size())
            bitmap = page.render(
                scale=dpi / 72,
                fill_color=(255, 255, 255, 255),
                force_bitmap_format=pdfium_c.FPDFBitmap_BGRA,
                rev_byteorder=True,  # RGBA, as PNG wants
            )
            return encode_png(bitmap.to_numpy()[:height, :width], dpi)
        finally:
            document.close()


class Booklet:
    """The booklet being put together: the summary pages, then ``add`` each project's page
    (a one-page PDF, in order), then ``write``; ``close`` it in the end (it holds a PDFium
    document)."""

    def __init__(self, view: EditionView, charts: Sequence[Chart]) -> None:
        summary = summary_pdf(view, charts)  # its metadata (the title) is the booklet's
        with _PDFIUM:
            self.document = pdfium.PdfDocument(summary)

    def close(self) -> None:
        with _PDFIUM:
            self.document.close()

    def add(self, page: Path) -> None:
        with _PDFIUM:
            source = pdfium.PdfDocument(page)
            try:
                self.document.import_pages(source)
            finally:
                source.close()

    def write(self, path: Path) -> None:
        """Write it atomically at ``path``."""
        language = ctypes.create_string_buffer("fr-FR".encode("utf-16-le") + b"\0\0")
        buffer = io.BytesIO()
        with _PDFIUM:
            pdfium_c.FPDFCatalog_SetLanguage(
                self.document, ctypes.cast(language, ctypes.POINTER(ctypes.c_ushort))
            )
            self.document.save(buffer)
        write_file(path, buffer.getvalue())

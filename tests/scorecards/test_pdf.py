"""Scorecards' PNG images drawn from their PDF pages by PDFium."""

from __future__ import annotations

import io
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
from matplotlib.colors import to_rgb
from PIL import Image

from benchmarks.publish import project
from scorecards import charts, pdf


def _pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGBA"
    return np.asarray(image).astype(int)


def test_a_scorecard_png_is_its_pdf_page_as_a_picture() -> None:
    rng = random.Random(7)
    latin = project(1, rng)
    greek = replace(latin, values=dict(latin.values, name="Système Ωmega"))  # DejaVu, embedded
    for row in (latin, greek):
        chart = charts.scorecard(row)
        assert chart.figure is not None
        page = charts.figure_data(chart.figure, "pdf", core_fonts=chart.core_fonts)
        drawn = _pixels(pdf.page_png(page, charts.DPI))
        agg = _pixels(charts.figure_data(chart.figure, "png"))
        assert drawn.shape == agg.shape == (720, 1000, 4)  # the size Agg gives
        assert (drawn[..., 3] == 255).all()  # opaque, on white
        # The same picture but for the text's font: the bars and the risk matrix's cells
        # in the same places (upside down, moved or scaled, they would hardly overlap).
        for colour in (charts.OKABE_ITO["sky"], "#FBE9C6", "#E8927C"):
            rgb = np.array([round(v * 255) for v in to_rgb(colour)])
            ours, theirs = ((np.abs(p[..., :3] - rgb).max(axis=2) <= 2) for p in (drawn, agg))
            assert ours.sum() > 1000  # the colour is there
            assert (ours & theirs).sum() / (ours | theirs).sum() > 0.9, (row.name, colour)


def test_pages_drawn_from_several_threads_at_once_are_drawn_right() -> None:
    rng = random.Random(8)
    pages = []
    for i in range(4):
        chart = charts.scorecard(project(i, rng))
        assert chart.figure is not None
        pages.append(charts.figure_data(chart.figure, "pdf", core_fonts=chart.core_fonts))
    one_by_one = [pdf.page_png(page, charts.DPI) for page in pages]
    with ThreadPoolExecutor(4) as pool:  # PDFium is not thread-safe: PILOT takes turns
        for _ in range(3):
            assert list(pool.map(pdf.page_png, pages, [charts.DPI] * 4)) == one_by_one

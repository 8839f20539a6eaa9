"""Scorecards drawn one after another in one figure, and the fonts of their PDF pages."""

from __future__ import annotations

import io
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pypdf import PdfReader

from benchmarks.publish import project
from scorecards import charts, text_cache
from scorecards.view import ProjectView


def _rows() -> list[ProjectView]:
    rng = random.Random(6)
    rows = [project(i, rng) for i in range(1, 6)]
    secret = dict(rows[1].values, confidential=True, milestones=[], risks=[], cost_eur=None)
    many = dict(rows[2].values, weather_rosier=True, duration_years=None)
    many["milestones"] = [*many["milestones"], *many["milestones"], *many["milestones"]]
    few = dict(rows[3].values)
    few["milestones"] = [dict(m, forecast=None, actual=None) for m in few["milestones"][:2]]
    return [
        rows[0],
        replace(rows[1], values=secret),
        replace(rows[2], values=many),
        replace(rows[3], values=few),
        rows[4],
    ]


def _png(chart: charts.Chart) -> np.ndarray:
    assert chart.figure is not None
    buffer = io.BytesIO()
    chart.figure.savefig(buffer, format="png", dpi=charts.DPI)
    return np.asarray(Image.open(buffer))


def test_a_reused_figure_draws_exactly_what_a_new_one_draws() -> None:
    rows = _rows()
    figure = None
    # Every kind after every other: confidential, 12 milestones, no forecast, plain.
    for row in [*rows, rows[1], rows[0], rows[3], rows[2], rows[1]]:
        reused = charts.scorecard(row, reuse=figure)
        assert figure is None or reused.figure is figure
        figure = reused.figure
        assert np.array_equal(_png(reused), _png(charts.scorecard(row))), row.pilot_id


def test_a_reused_figure_rewrites_its_artists_instead_of_adding_more() -> None:
    rows = _rows()
    figure = None
    counts: dict[str, int] = {}
    for row in [*rows, *rows, *rows]:
        chart = charts.scorecard(row, reuse=figure)
        figure = chart.figure
        assert figure is not None
        count = len(figure.findobj())
        assert counts.setdefault(row.pilot_id, count) == count, row.pilot_id
    fresh = charts.scorecard(rows[0]).figure
    assert fresh is not None and len(fresh.findobj()) == counts[rows[0].pilot_id]


def test_pdf_pages_use_the_standard_fonts_unless_a_text_needs_more(tmp_path: Path) -> None:
    assert charts.fits_core_fonts("Œuvre « numérique » : 12,5\u00a0M€ · 3 × 4 — fin…")
    assert not charts.fits_core_fonts({"name": "Système Ωmega"})
    row = _rows()[0]
    greek = replace(row, values=dict(row.values, name="Système Ωmega"))
    fonts = {}
    for name, r in (("latin", row), ("greek", greek)):
        chart = charts.scorecard(r)
        assert chart.figure is not None and chart.core_fonts == (name == "latin")
        path = tmp_path / f"{name}.pdf"
        charts.write_figure(chart.figure, path, "pdf", core_fonts=chart.core_fonts)
        page = PdfReader(path).pages[0]
        used: Any = page["/Resources"]["/Font"]  # type: ignore[index]
        fonts[name] = {str(f["/BaseFont"]) for f in used.values()}
        assert r.name in page.extract_text()
    assert fonts["latin"] == {"/Helvetica", "/Helvetica-Bold"}  # standard: not embedded
    assert not fonts["greek"] & {"/Helvetica", "/Helvetica-Bold"}  # DejaVu Sans, embedded


def _file(chart: charts.Chart, tmp_path: Path, fmt: str, core_fonts: bool = False) -> bytes:
    assert chart.figure is not None
    path = tmp_path / f"fiche.{fmt}"
    charts.write_figure(chart.figure, path, fmt, core_fonts=core_fonts)
    return path.read_bytes()


def test_text_work_kept_between_draws_gives_matplotlibs_own_files(tmp_path: Path) -> None:
    assert text_cache.supported()  # else scorecards lose their quickest text drawing
    rows = _rows()
    greek = replace(rows[0], values=dict(rows[0].values, name="Système Ωmega"))
    figure = None
    try:
        for row in [*rows, greek]:
            chart = charts.scorecard(row, reuse=figure)
            figure = chart.figure
            text_cache.uninstall()
            files = [_file(chart, tmp_path, f) for f in ("svg", "pdf")]
            png, core = _png(chart), _file(chart, tmp_path, "pdf", core_fonts=True)
            text_cache.install()
            for _ in range(2):  # the second time from what was kept
                assert np.array_equal(_png(chart), png), row.pilot_id
                assert _file(chart, tmp_path, "pdf", core_fonts=True) == core, row.pilot_id
                assert [_file(chart, tmp_path, f) for f in ("svg", "pdf")] == files, row.pilot_id
    finally:
        text_cache.install()


def test_png_files_hold_what_matplotlib_draws(tmp_path: Path) -> None:
    figure = None
    for row in _rows():
        chart = charts.scorecard(row, reuse=figure)
        figure = chart.figure
        assert figure is not None
        path = tmp_path / "fiche.png"
        charts.write_figure(figure, path, "png")
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.mode == "RGBA" and image.size == (1000, 720)
            assert [round(d) for d in image.info["dpi"]] == [charts.DPI, charts.DPI]
            assert np.array_equal(np.asarray(image), _png(chart)), row.pilot_id

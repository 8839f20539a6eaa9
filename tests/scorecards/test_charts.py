"""Honest, readable charts, checked on the figures through matplotlib's public API: time on
a time axis, value axes from zero, no repeated tick label, legends outside the data, every
text whole inside the figure; and the fonts and pixels of the files written."""

from __future__ import annotations

import io
import random
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.dates import DateLocator, date2num
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image
from pypdf import PdfReader

from benchmarks.publish import edition, project
from scorecards import charts
from scorecards.view import EditionSummary, ProjectView


def _rows() -> list[ProjectView]:
    rng = random.Random(6)
    rows = [project(i, rng) for i in range(1, 6)]
    secret = dict(rows[1].values, confidential=True, milestones=[], risks=[], cost_eur=None)
    many = dict(rows[2].values, weather_rosier=True, duration_years=None)
    many["milestones"] = [*many["milestones"], *many["milestones"], *many["milestones"]]
    few = dict(rows[3].values)
    few["milestones"] = [dict(m, forecast=None, actual=None) for m in few["milestones"][:2]]
    few["name"] = "Système d'information des ressources humaines de l'État et des opérateurs WWW"
    return [
        rows[0],
        replace(rows[1], values=secret),
        replace(rows[2], values=many),
        replace(rows[3], values=few),
        rows[4],
    ]


def _history() -> list[EditionSummary]:
    """Editions 7 months, then 9 years apart; mean durations close together (6,15 to 6,2:
    an axis rounding them to one decimal would repeat its labels)."""
    days = [date(2008, 1, 15), date(2008, 8, 15), date(2017, 8, 15), date(2017, 9, 1)]
    means = ["6.2", "6.18", "6.15", "6.2"]
    return [
        EditionSummary(
            n,
            day,
            f"Édition {n}",
            {
                "projects": 40 + n,
                "total_cost_bn": str(Decimal("3.1") + n),
                "mean_duration_years": mean,
            },
        )
        for n, (day, mean) in enumerate(zip(days, means, strict=True), start=1)
    ]


def _drawn(figure: Figure) -> Any:
    figure.canvas.draw()  # lays the figure out (constrained layout) and places every text
    return figure.canvas.get_renderer()  # type: ignore[attr-defined]


def _shown_tick_labels(ax: Axes, which: str) -> list[Text]:
    """The tick labels ``ax`` draws on axis ``which``: those of ticks within its limits."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    if not axis.get_visible():
        return []
    low, high = sorted(ax.get_xlim() if which == "x" else ax.get_ylim())
    return [
        t
        for t in axis.get_ticklabels()
        if t.get_visible()
        and t.get_text()
        and low <= t.get_position()[0 if which == "x" else 1] <= high
    ]


def _tick_labels(ax: Axes, which: str) -> list[str]:
    return [t.get_text() for t in _shown_tick_labels(ax, which)]


def _assert_honest(figure: Figure, name: str) -> None:
    renderer = _drawn(figure)
    box = figure.bbox
    ticks = {
        label
        for ax in figure.axes
        for axis in (ax.xaxis, ax.yaxis)
        for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]
        for label in (tick.label1, tick.label2)
    }
    shown = [t for ax in figure.axes for which in ("x", "y") for t in _shown_tick_labels(ax, which)]
    texts = [t for t in figure.findobj(Text) if t not in ticks]
    for text in [*texts, *shown]:
        if not text.get_visible() or not text.get_text():
            continue
        extent = text.get_window_extent(renderer)
        assert (
            extent.x0 >= box.x0 - 1
            and extent.y0 >= box.y0 - 1
            and extent.x1 <= box.x1 + 1
            and extent.y1 <= box.y1 + 1
        ), (name, text.get_text(), extent, box)
    for ax in figure.axes:
        for which in ("x", "y"):
            labels = _tick_labels(ax, which)
            assert len(labels) == len(set(labels)), (name, which, labels)
        for legend in figure.findobj(Legend):
            if not legend.get_visible():
                continue
            assert not legend.get_window_extent(renderer).overlaps(
                ax.get_window_extent(renderer)
            ), (
                name,
                "légende sur les données",
            )


def test_every_portfolio_chart_keeps_its_texts_whole_its_ticks_distinct_its_legend_outside() -> (
    None
):
    view = replace(edition(120), history=_history())
    for chart in charts.portfolio_charts(view):
        assert chart.figure is not None and chart.alt and chart.rows and chart.headers
        _assert_honest(chart.figure, chart.slug)


def test_every_scorecard_keeps_its_texts_whole_its_ticks_distinct_its_key_outside() -> None:
    for row in _rows():
        chart = charts.scorecard(row)
        assert chart.figure is not None
        _assert_honest(chart.figure, row.pilot_id)


def test_trends_are_drawn_on_a_time_axis_from_zero_with_distinct_labels() -> None:
    history = _history()
    chart = charts.trends(history)
    assert chart.figure is not None
    _drawn(chart.figure)
    axes = chart.figure.axes
    assert len(axes) == 3
    for ax in axes:
        assert ax.get_ylim()[0] == 0  # from zero: heights compare
        assert isinstance(ax.xaxis.get_major_locator(), DateLocator)  # a time axis
        (line,) = ax.get_lines()
        x = date2num(line.get_xdata())
        gaps = np.diff(x)
        # 7 months, then 9 years: drawn 7 months and 9 years apart, not the same width.
        assert gaps[1] / gaps[0] == pytest.approx(
            (history[2].published_on - history[1].published_on).days
            / (history[1].published_on - history[0].published_on).days
        )
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert len(labels) == len(set(labels)) and all("." not in t for t in labels), labels
    assert "à leur date de publication" in chart.alt


def test_functional_zones_rank_the_zones_and_put_the_others_last() -> None:
    view = edition(300)
    chart = charts.by_functional_zone(view)
    assert chart.figure is not None
    _drawn(chart.figure)
    (ax,) = chart.figure.axes
    labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    widths = [bar.get_width() for bar in ax.patches if isinstance(bar, Rectangle)]
    assert labels[-1].startswith(charts.OTHER_ZONES)
    assert widths[:-1] == sorted(widths[:-1], reverse=True)
    assert widths[-1] > widths[0]  # the others together outnumber the first: still last
    assert all("…" not in label for label in labels)  # whole, not cut


def test_tick_formatters_never_repeat_a_label() -> None:
    numbers = charts.FrenchNumberFormatter()
    assert numbers.format_ticks([6.1, 6.125, 6.15, 6.175, 6.2]) == [
        "6,100",
        "6,125",
        "6,150",
        "6,175",
        "6,200",
    ]
    assert numbers.format_ticks([0, 5, 10]) == ["0", "5", "10"]
    days = charts.FrenchDateFormatter()
    years = [date2num(date(y, 1, 1)) for y in (2016, 2018, 2020)]
    assert days.format_ticks(years) == ["2016", "2018", "2020"]
    months = [date2num(date(2020, m, 1)) for m in (1, 4, 7)]
    assert days.format_ticks(months) == ["01/2020", "04/2020", "07/2020"]
    weeks = [date2num(date(2020, 1, d)) for d in (1, 8, 15)]
    assert days.format_ticks(weeks) == ["01/01/2020", "08/01/2020", "15/01/2020"]


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


def test_png_files_hold_what_matplotlib_draws(tmp_path: Path) -> None:
    for row in _rows():
        chart = charts.scorecard(row)
        figure = chart.figure
        assert figure is not None
        path = tmp_path / "fiche.png"
        charts.write_figure(figure, path, "png")
        with Image.open(path) as image:
            image.verify()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=charts.DPI)
        with Image.open(path) as image:
            assert image.mode == "RGBA" and image.size == (1000, 720)
            assert [round(d) for d in image.info["dpi"]] == [charts.DPI, charts.DPI]
            assert np.array_equal(np.asarray(image), np.asarray(Image.open(buffer))), row.pilot_id

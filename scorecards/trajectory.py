"""A project's trajectory across the published editions: its cost and its planned duration
at each edition, on a time axis (editions are not evenly spaced: months or years apart).

Drawn with matplotlib's public object API (``Figure``, no pyplot state) as SVG, with a
French text alternative; the page shows the same points as a table. A point withheld from
the public (the project was confidential in that edition) is left out of the lines, and
said so.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import matplotlib
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from pilot.mail.service import french_date
from pilot.money import MILLION, format_decimal_fr

BLUE, VERMILLION, TEXT = "#0072B2", "#D55E00", "#161616"  # Okabe–Ito, DSFR text grey


@dataclass(frozen=True)
class Point:
    """The project as one published edition showed it."""

    edition: int
    published_on: date
    cost_eur: int | None
    duration_years: Decimal | None
    phase: str | None
    health: str | None
    confidential: bool

    @property
    def cost_meur(self) -> Decimal | None:
        return None if self.cost_eur is None else Decimal(self.cost_eur) / MILLION


def _places(step: float) -> int:
    return 0 if step >= 1 else (1 if step >= 0.1 else 2)


def _value_axis(axes: object, values: list[float], label: str, unit: str) -> None:
    """A value axis that starts at zero (a reader compares heights), with French ticks and
    as many decimals as the step needs (never the same label twice)."""
    from matplotlib.axes import Axes

    assert isinstance(axes, Axes)
    top = max(values) * 1.15 or 1.0
    ticks = [t for t in MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top)]
    ticks = [t for t in ticks if 0 <= t <= top * 1.3]
    places = _places(ticks[1] - ticks[0]) if len(ticks) > 1 else 1
    axes.set_ylim(0, max(ticks[-1], top))
    axes.yaxis.set_major_locator(FixedLocator(ticks))
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _: format_decimal_fr(Decimal(str(v)), places))
    )
    axes.set_ylabel(f"{label} ({unit})")


def describe(name: str, points: list[Point]) -> str:
    """The text alternative: what the chart shows, in words."""
    parts = [
        f"Trajectoire du projet « {name} » dans {len(points)} éditions du panorama, "
        f"du {french_date(points[0].published_on)} au {french_date(points[-1].published_on)}."
    ]
    costs = [p for p in points if p.cost_meur is not None]
    if costs:
        first, last = costs[0], costs[-1]
        parts.append(
            f"Coût : {format_decimal_fr(first.cost_meur or Decimal(0), 1)} M€ à l'édition "
            f"n° {first.edition}, {format_decimal_fr(last.cost_meur or Decimal(0), 1)} M€ à "
            f"l'édition n° {last.edition}."
        )
    durations = [p for p in points if p.duration_years is not None]
    if durations:
        first, last = durations[0], durations[-1]
        parts.append(
            f"Durée prévue : {format_decimal_fr(first.duration_years or Decimal(0), 1)} ans à "
            f"l'édition n° {first.edition}, "
            f"{format_decimal_fr(last.duration_years or Decimal(0), 1)} ans à l'édition "
            f"n° {last.edition}."
        )
    withheld = sum(1 for p in points if p.confidential)
    if withheld:
        parts.append(f"Chiffres non communiqués (confidentiel) dans {withheld} édition(s).")
    parts.append("Les valeurs de chaque édition sont dans le tableau qui suit.")
    return " ".join(parts)


def draw(points: list[Point]) -> bytes | None:
    """The SVG of the trajectory; None when fewer than two editions give a figure. The same
    points give the same SVG: the last few hundred are kept (each new edition redraws only
    the projects whose points changed, and a process publishing again draws nothing)."""
    return _draw(tuple(points))


@functools.lru_cache(maxsize=512)
def _draw(points: tuple[Point, ...]) -> bytes | None:
    costs = [p for p in points if p.cost_meur is not None]
    durations = [p for p in points if p.duration_years is not None]
    if max(len(costs), len(durations)) < 2:
        return None
    with matplotlib.rc_context(
        {
            "svg.fonttype": "none",  # text stays text
            "svg.hashsalt": "pilot-trajectory",  # the same points give the same SVG
            "text.parse_math": False,
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans"],
            "font.size": 11,
            "text.color": TEXT,
            "axes.labelcolor": TEXT,
            "xtick.color": TEXT,
            "ytick.color": TEXT,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        # Narrow and tall: readable on a phone without zooming.
        figure = Figure(figsize=(5.6, 5.4))
        top, bottom = figure.subplots(2, 1, sharex=True)
        figure.subplots_adjust(left=0.16, right=0.96, top=0.95, bottom=0.1, hspace=0.3)
        for axes, found, value, colour, marker, label, unit in (
            (top, costs, lambda p: float(p.cost_meur), BLUE, "o", "Coût", "M€"),
            (bottom, durations, lambda p: float(p.duration_years), VERMILLION, "s", "Durée", "ans"),
        ):
            if found:
                axes.plot(
                    [date2num(p.published_on) for p in found],
                    [value(p) for p in found],
                    color=colour,
                    marker=marker,
                    linewidth=2,
                    markersize=7,
                )
                _value_axis(axes, [value(p) for p in found], label, unit)
            else:
                axes.set_yticks([])
                axes.set_ylabel(f"{label} : non communiqué")
            axes.grid(True, axis="y", color="#DDDDDD", linewidth=0.6)
        first, last = points[0].published_on, points[-1].published_on
        margin = max(60, (last - first).days // 12)  # days, on matplotlib's float scale:
        bottom.set_xlim(date2num(first) - margin, date2num(last) + margin)  # no date overflow
        bottom.xaxis.set_major_locator(AutoDateLocator(minticks=2, maxticks=5))
        # Years alone when the editions span years; else months too (never a repeated label).
        bottom.xaxis.set_major_formatter(
            DateFormatter("%Y" if (last - first).days > 3 * 365 else "%m/%Y")
        )
        bottom.set_xlabel("Date de publication de l'édition")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()

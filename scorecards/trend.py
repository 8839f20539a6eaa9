"""A project's milestone trend chart (MTA, "milestone trend analysis"): for each milestone,
the forecast date each report declared (vertical axis) against the report's date
(horizontal axis), one line per milestone. A flat line is a steady milestone, a rising
one a milestone that slips; the dashed diagonal is "forecast = report date", where a
milestone meets it when it is reached.

Read from the milestone forecast history (``pilot.projects.forecasts``) in the spaces, and
on the public site from what each edition froze (``published_trend``), drawn with
matplotlib's public object API (``Figure``, no pyplot state) as an inline SVG, with a
French text alternative and the table of its data for whoever cannot see it.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

import matplotlib
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
from matplotlib.figure import Figure
from sqlmodel import Session, col, select

from pilot.mail.service import french_date
from pilot.projects.forecasts import forecast_history
from pilot.projects.models import Milestone

# Okabe & Ito (2008): safe for the common colour-vision deficiencies; markers and dashes
# differ too, so that no line is told by its colour alone.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
DASHES = ["-", "--", "-.", ":"]


@dataclass(frozen=True)
class TrendLine:
    """One milestone: its forecast at each report (None: the report gave none)."""

    milestone: str
    points: list[tuple[date, date | None]]  # (report date, forecast date), oldest first
    actual: date | None

    @property
    def forecasts(self) -> list[date]:
        return [f for _, f in self.points if f is not None]


@dataclass(frozen=True)
class TrendChart:
    svg: str  # an <svg> element, to be placed inline in a page
    alt: str  # the chart in words
    report_dates: list[date]  # the data table's columns
    lines: list[TrendLine]  # its rows

    def row(self, line: TrendLine) -> list[date | None]:
        """A line's forecasts under ``report_dates`` (None: no forecast at that report)."""
        by_date = dict(line.points)
        return [by_date.get(d) for d in self.report_dates]


def trend_lines(session: Session, project_id: int) -> list[TrendLine]:
    """The project's milestones with a recorded forecast, in the milestones' order."""
    history = forecast_history(session, [project_id])
    if not history:
        return []
    milestones = session.exec(
        select(Milestone)
        .where(col(Milestone.id).in_(list(history)))
        .order_by(col(Milestone.baseline_date), col(Milestone.id))
    ).all()
    lines = []
    for milestone in milestones:
        rows = history[milestone.id or 0]
        lines.append(
            TrendLine(
                milestone=milestone.name,
                points=[(r.reported_on, r.forecast_date) for r in rows],
                actual=rows[-1].actual_date,
            )
        )
    return lines


def describe(lines: list[TrendLine], report_dates: list[date]) -> str:
    """The text alternative: what the chart shows, milestone by milestone."""
    count = len(report_dates)
    parts = [
        f"Tendance des jalons : prévision de {len(lines)} jalon{'s' if len(lines) > 1 else ''} "
        f"à chacune des {count} déclarations, du {french_date(report_dates[0])} au "
        f"{french_date(report_dates[-1])}."
        if count > 1
        else f"Tendance des jalons : prévision de {len(lines)} "
        f"jalon{'s' if len(lines) > 1 else ''} à la déclaration du "
        f"{french_date(report_dates[0])}."
    ]
    for line in lines:
        forecasts = line.forecasts
        if not forecasts:
            parts.append(f"« {line.milestone} » : aucune date prévue déclarée.")
            continue
        first, last = forecasts[0], forecasts[-1]
        if last > first:
            moved = f"a glissé de {(last - first).days} jours"
        elif last < first:
            moved = f"a avancé de {(first - last).days} jours"
        else:
            moved = "n'a pas bougé"
        text = (
            f"« {line.milestone} » : prévu le {french_date(first)} à la première déclaration, "
            f"le {french_date(last)} à la dernière ; la prévision {moved}."
        )
        if line.actual is not None:
            text += f" Atteint le {french_date(line.actual)}."
        parts.append(text)
    return " ".join(parts)


def draw(lines: list[TrendLine]) -> TrendChart | None:
    """The chart of ``lines``; None when no milestone has a forecast."""
    lines = [line for line in lines if line.points]
    if not any(line.forecasts for line in lines):
        return None
    report_dates = sorted({d for line in lines for d, _ in line.points})
    with matplotlib.rc_context(
        {
            "svg.fonttype": "none",  # text stays text: smaller, searchable
            "svg.hashsalt": "pilot-trend",  # the same chart gives the same SVG
            "text.parse_math": False,  # a "$" in a milestone's name is a dollar sign
            "font.size": 9,
        }
    ):
        rows = (len(lines) + 2) // 2  # the legend's, two columns under the axes
        height = 3.6 + 0.22 * rows
        figure = Figure(figsize=(7.5, height))
        figure.subplots_adjust(left=0.12, right=0.97, top=0.97, bottom=(0.9 + 0.22 * rows) / height)
        axes = figure.add_subplot()
        styles = zip(
            itertools.cycle(COLOURS),
            itertools.cycle(MARKERS),
            itertools.cycle(DASHES),
            strict=False,
        )
        every: list[date] = list(report_dates)
        for line, (colour, marker, dash) in zip(lines, styles, strict=False):
            known = [(d, f) for d, f in line.points if f is not None]
            if not known:
                continue
            every.extend(f for _, f in known)
            axes.plot(
                [date2num(d) for d, _ in known],
                [date2num(f) for _, f in known],
                color=colour,
                marker=marker,
                linestyle=dash,
                label=line.milestone,
            )
            if line.actual is not None:
                every.append(line.actual)
                axes.plot(
                    [date2num(line.actual)],
                    [date2num(line.actual)],
                    color=colour,
                    marker="*",
                    markersize=12,
                    linestyle="none",
                )
        low, high = date2num(min(every)), date2num(max(every))
        margin = max((high - low) * 0.05, 15)
        axes.plot(
            [low - margin, high + margin],
            [low - margin, high + margin],
            color="#8C8C8C",
            linestyle=":",
            linewidth=1,
            label="Prévision = date de la déclaration (★ : jalon atteint)",
        )
        axes.set_xlim(date2num(report_dates[0]) - margin, date2num(report_dates[-1]) + margin)
        axes.set_ylim(low - margin, high + margin)
        for axis in (axes.xaxis, axes.yaxis):
            axis.set_major_locator(AutoDateLocator(minticks=3, maxticks=7))
            axis.set_major_formatter(DateFormatter("%m/%Y"))
        axes.set_xlabel("Date de la déclaration")
        axes.set_ylabel("Date prévue du jalon")
        axes.grid(True, color="#DDDDDD", linewidth=0.6)
        axes.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, frameon=False, fontsize=8
        )
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    return TrendChart(
        svg=svg, alt=describe(lines, report_dates), report_dates=report_dates, lines=lines
    )


def project_trend(session: Session, project_id: int) -> TrendChart | None:
    """The project's milestone trend chart, None until a report declared milestones."""
    return draw(trend_lines(session, project_id))


def frozen_lines(frozen: list[dict[str, Any]]) -> list[TrendLine]:
    """The lines of a trend an edition froze (``values["milestone_trend"]``, written by
    ``pilot.projects.forecasts.frozen_trends``)."""

    def day(text: Any) -> date | None:
        return date.fromisoformat(text) if isinstance(text, str) else None

    lines = []
    for item in frozen:
        points = [(day(r), day(f)) for r, f in item.get("points") or []]
        lines.append(
            TrendLine(
                milestone=str(item.get("name") or ""),
                points=[(r, f) for r, f in points if r is not None],
                actual=day(item.get("actual")),
            )
        )
    return lines


def published_trend(values: dict[str, Any]) -> TrendChart | None:
    """The milestone trend chart of a project's page on the public site, drawn from what
    its edition froze only (nothing live; empty for a confidential project); None until at
    least two reports gave forecasts (one report is the milestones table already)."""
    lines = frozen_lines(values.get("milestone_trend") or [])
    if len({d for line in lines for d, f in line.points if f is not None}) < 2:
        return None
    return draw(lines)

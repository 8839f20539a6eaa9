"""The milestone trend chart (scorecards/trend.py): one line per milestone with a forecast,
an inline SVG whose text is escaped, a French text alternative telling each milestone's
slip, and a data table aligned on the report dates."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from scorecards.trend import TrendLine, draw

SVG = "{http://www.w3.org/2000/svg}"


def test_the_trend_chart_draws_each_milestone_and_tells_its_slip_in_words() -> None:
    lines = [
        TrendLine(
            "Mise en service <b>&",
            [
                (date(2025, 1, 1), date(2026, 1, 1)),
                (date(2025, 6, 1), date(2026, 4, 1)),
                (date(2026, 1, 1), date(2026, 9, 1)),
            ],
            actual=None,
        ),
        TrendLine(
            "Recette $x$",
            [(date(2025, 1, 1), date(2025, 6, 1)), (date(2025, 6, 1), date(2025, 6, 1))],
            actual=date(2025, 6, 1),
        ),
        TrendLine("Sans prévision", [(date(2025, 1, 1), None)], actual=None),
    ]
    chart = draw(lines)
    assert chart is not None
    root = ET.fromstring(chart.svg)  # well-formed: the names are escaped, not markup
    assert root.tag == f"{SVG}svg"
    texts = {"".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")}
    assert {"Mise en service <b>&", "Recette $x$", "Date de la déclaration"} <= texts
    assert "« Mise en service <b>& » : prévu le 1er janvier 2026" in chart.alt
    assert "la prévision a glissé de 243 jours" in chart.alt
    assert (
        "« Recette $x$ »" in chart.alt and "n'a pas bougé. Atteint le 1er juin 2025." in chart.alt
    )
    assert "« Sans prévision » : aucune date prévue déclarée." in chart.alt
    assert chart.report_dates == [date(2025, 1, 1), date(2025, 6, 1), date(2026, 1, 1)]
    assert chart.row(lines[1]) == [date(2025, 6, 1), date(2025, 6, 1), None]
    again = draw(lines)
    assert again is not None and again.svg == chart.svg  # the same chart, the same SVG


def test_no_chart_without_any_recorded_forecast() -> None:
    assert draw([]) is None
    assert draw([TrendLine("Jalon", [], actual=None)]) is None
    assert draw([TrendLine("Jalon", [(date(2025, 1, 1), None)], actual=None)]) is None

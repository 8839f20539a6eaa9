"""The milestone trend chart on the public project page: drawn from what the edition froze
at its publication (the forecasts of the reports up to then), never from live tables,
with its text alternative and its data table; withheld for a confidential project."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pilot.db import session_scope
from pilot.ministries import service as ministries
from pilot.projects import confidentiality, steering
from pilot.projects import service as projects
from pilot.projects.forecasts import MilestoneForecast
from pilot.projects.models import Milestone, Project
from scorecards.publish import publish_edition, render_edition
from tests.scorecards.cdp import Browser, chromium_path
from tests.scorecards.test_browser import AXE, AXE_RUN, served

__all__ = ["served"]  # the fixture serving the site on loopback

pytestmark = pytest.mark.slow

SLIPS = ((date(2025, 6, 1), date(2026, 1, 15)), (date(2025, 12, 1), date(2026, 6, 15)))
LATER = (date(2026, 6, 1), date(2026, 12, 15))  # a report after the first edition


def _report(s: object, project: Project, milestone: Milestone, on: date, forecast: date) -> None:
    report = projects.record_report(s, project, reported_on=on, actor="test", weather="soleil")  # type: ignore[arg-type]
    assert report.id is not None and project.id is not None and milestone.id is not None
    s.add(  # type: ignore[attr-defined]
        MilestoneForecast(
            report_id=report.id,
            milestone_id=milestone.id,
            project_id=project.id,
            reported_on=on,
            baseline_date=milestone.baseline_date,
            forecast_date=forecast,
        )
    )


def _page(site: Path, edition: int, project: Project) -> str:
    return (site / "editions" / str(edition) / "projets" / f"{project.pilot_id}.html").read_text()


def _accessible_at_both_widths(url: str) -> list[str]:
    """axe-core's serious or critical violations, and a chart not drawn, at 390 px and on a
    desktop, in headless Chromium."""
    problems: list[str] = []
    axe = AXE.read_text(encoding="utf-8")
    browser = Browser()
    try:
        for width, mobile in ((390, True), (1280, False)):
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=900,
                deviceScaleFactor=1,
                mobile=mobile,
            )
            browser.open(url)
            shown = browser.evaluate(
                "document.querySelector('#legende-tendance').previousElementSibling"
                ".querySelector('svg').getBoundingClientRect().width"
            )
            if not 0 < shown <= width:
                problems.append(f"{width} px: chart {shown} px wide")
            browser.evaluate(axe)
            for v in browser.evaluate(AXE_RUN, await_promise=True):
                if v["impact"] in ("serious", "critical"):
                    problems.append(f"{width} px: axe {v['id']} ({v['impact']}) {v['targets']}")
            problems += [f"{width} px: console: {e}" for e in browser.console_errors()]
    finally:
        browser.close()
    return problems


def test_the_public_page_shows_the_milestone_trend_frozen_at_publication(
    engine: Engine, served: tuple[Path, str]
) -> None:
    with session_scope(engine, write=True) as s:
        mi = ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
        shown, secret = (
            projects.create_project(
                s, ministry=mi, name=name, on=date(2025, 1, 1), actor="test", in_panorama=True
            )
            for name in ("Réseau Radio du Futur", "Projet tenu secret")
        )
        milestones = {}
        for project in (shown, secret):
            milestones[project.id] = steering.add_milestone(
                s, project, name="Mise en service", actor="test", baseline_date=date(2026, 1, 15)
            )
            for on, forecast in SLIPS:
                _report(s, project, milestones[project.id], on, forecast)
        confidentiality.mark_confidential(
            s, secret, reason="Appel d'offres en cours", until=None, actor="test",
            today=date(2026, 1, 1),
        )  # fmt: skip
        s.refresh(secret)  # marking it confidential wrote through the bulk functions
    site, base = served
    publish_edition(engine, site, published_on=date(2026, 1, 10))

    page = _page(site, 1, shown)
    assert "Tendance des jalons" in page
    assert (
        '<div role="img" aria-labelledby="legende-tendance"><svg class="fr-responsive-img"' in page
    )
    assert (
        "« Mise en service » : prévu le 15 janvier 2026 à la première déclaration, le 15 juin "
        "2026 à la dernière ; la prévision a glissé de 151 jours." in page
    )
    assert '<th scope="col">01/12/2025</th>' in page
    assert "<td>15/01/2026</td><td>15/06/2026</td>" in page
    hidden = _page(site, 1, secret)
    assert "Tendance des jalons" not in hidden and "15/06/2026" not in hidden
    if chromium_path() is not None:
        url = f"{base}editions/1/projets/{shown.pilot_id}.html"
        assert _accessible_at_both_widths(url) == []

    # The ministry reports again after the publication: the live history grows...
    with session_scope(engine, write=True) as s:
        again = s.get(Project, shown.id)
        assert again is not None
        _report(s, again, milestones[shown.id], *LATER)
    # ...but the published edition, written again from its frozen rows, does not change
    shutil.rmtree(site / "editions" / "1")
    with session_scope(engine) as s:
        render_edition(s, 1, site)
    assert _page(site, 1, shown) == page
    assert "15/12/2026" not in page

    # the next edition freezes the three reports
    publish_edition(engine, site, published_on=date(2026, 7, 1))
    later = _page(site, 2, shown)
    assert "<td>15/01/2026</td><td>15/06/2026</td><td>15/12/2026</td>" in later
    assert "la prévision a glissé de 334 jours" in later

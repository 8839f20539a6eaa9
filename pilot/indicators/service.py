"""Indicators of the live portfolio, read from the database (one session, few statements)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from pilot.indicators.drift import DriftMeans, ProjectDrift, drift_means, duration_years
from pilot.indicators.figures import Figures, PortfolioRow, compute_figures
from pilot.indicators.health import Health, health_from_drift, weather_is_rosier
from pilot.ministries.models import Ministry
from pilot.projects import service as projects
from pilot.projects.models import Project, Report


@dataclass(frozen=True)
class ProjectStatus:
    """Everything the indicators know of one project at a date."""

    project: Project
    ministry_code: str
    report: Report | None
    row: PortfolioRow
    drift: ProjectDrift
    health: Health | None
    weather_rosier: bool


def project_statuses(
    session: Session,
    *,
    as_of: date | None = None,
    in_panorama_only: bool = True,
    ministry_id: int | None = None,
) -> list[ProjectStatus]:
    """Every project's status (in a constant number of statements), optionally for one
    ministry only."""
    query = select(Project, Ministry.code).join(Ministry)
    if in_panorama_only:
        query = query.where(Project.in_panorama == True)  # noqa: E712
    if ministry_id is not None:
        query = query.where(Project.ministry_id == ministry_id)
    pairs = list(session.exec(query.order_by(col(Project.id))))
    ids = [p.id for p, _ in pairs if p.id is not None] if ministry_id is not None else None
    reports = projects.latest_reports(session, ids, as_of=as_of)
    base = projects.baselines_by_project(session, ids)
    statuses = []
    for project, code in pairs:
        assert project.id is not None
        report = reports.get(project.id)
        initial, latest = base.get(project.id, (None, None))
        drift = projects.drift_of(initial, latest, report)
        start = project.start_date or (initial.start_date if initial else None)
        row = PortfolioRow(
            ministry=code,
            interministerial=project.interministerial,
            phase=(report.phase if report and report.phase else project.phase),
            cost_eur=report.current_cost_eur if report else None,
            duration_years=duration_years(start, report.forecast_end if report else None),
            functional_zone=project.functional_zone_label,
        )
        health = health_from_drift(drift.budget_initial, drift.schedule_initial)
        statuses.append(
            ProjectStatus(
                project=project,
                ministry_code=code,
                report=report,
                row=row,
                drift=drift,
                health=health,
                weather_rosier=weather_is_rosier(report.weather if report else None, health),
            )
        )
    return statuses


@dataclass(frozen=True)
class Portfolio:
    figures: Figures
    drift: DriftMeans
    red: int
    amber: int
    green: int
    weather_rosier: int


def portfolio(
    session: Session, *, as_of: date | None = None, ministry_id: int | None = None
) -> Portfolio:
    return portfolio_of(project_statuses(session, as_of=as_of, ministry_id=ministry_id))


def portfolio_of(statuses: list[ProjectStatus]) -> Portfolio:
    return Portfolio(
        figures=compute_figures(s.row for s in statuses),
        drift=drift_means(s.drift for s in statuses),
        red=sum(1 for s in statuses if s.health == Health.RED),
        amber=sum(1 for s in statuses if s.health == Health.AMBER),
        green=sum(1 for s in statuses if s.health == Health.GREEN),
        weather_rosier=sum(1 for s in statuses if s.weather_rosier),
    )


def is_stale(report: Report | None, *, since: date) -> bool:
    """No report within the current reporting period, which starts at ``since``: the open
    campaign's start, else ``PILOT_REPORTING_PERIOD_DAYS`` ago
    (``pilot.campaigns.service.stale_before``)."""
    return report is None or report.reported_on < since

"""Milestone trend: the forecast each report declared for each milestone (history).

``Milestone`` rows hold the current dates and are updated in place by imports; this
table keeps, for every report, the dates its milestones had then, never updated: the
milestone trend chart (forecast date against report date) and the early-warning score
(``pilot.indicators.early_warning``) read it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, Table, UniqueConstraint, insert
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select

from pilot.projects.models import Milestone, Report
from pilot.timeutil import utcnow


class MilestoneForecast(SQLModel, table=True):
    __tablename__ = "milestone_forecast"
    __table_args__ = (
        UniqueConstraint("report_id", "milestone_id", name="uq_milestone_forecast_report"),
        Index("ix_milestone_forecast_milestone", "milestone_id", "reported_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id")
    milestone_id: int = Field(foreign_key="milestone.id")
    project_id: int = Field(foreign_key="project.id", index=True)
    reported_on: date
    baseline_date: date | None = None
    forecast_date: date | None = None
    actual_date: date | None = None
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


def record_forecasts(session: Session, import_id: int) -> int:
    """Keep the milestones' dates as the reports of import ``import_id`` declared them
    (run once the import is applied; running it again adds nothing). Returns rows added."""
    reports = session.exec(select(Report).where(col(Report.import_id) == import_id)).all()
    if not reports:
        return 0
    by_project: dict[int, tuple[int, date]] = {}
    for r in reports:
        assert r.id is not None
        by_project[r.project_id] = (r.id, r.reported_on)
    done = set(
        session.exec(
            select(MilestoneForecast.report_id, MilestoneForecast.milestone_id).where(
                col(MilestoneForecast.report_id).in_([r for r, _ in by_project.values()])
            )
        ).all()
    )
    milestones = session.execute(
        sa_select(
            col(Milestone.id),
            col(Milestone.project_id),
            col(Milestone.baseline_date),
            col(Milestone.forecast_date),
            col(Milestone.actual_date),
        ).where(col(Milestone.project_id).in_(list(by_project)))
    ).all()
    now = utcnow()
    rows = []
    for milestone_id, project_id, baseline, forecast, actual in milestones:
        report_id, on = by_project[project_id]
        if (report_id, milestone_id) in done:
            continue
        rows.append(
            {
                "report_id": report_id,
                "milestone_id": milestone_id,
                "project_id": project_id,
                "reported_on": on,
                "baseline_date": baseline,
                "forecast_date": forecast,
                "actual_date": actual,
                "created_at": now,
            }
        )
    if rows:
        table: Table = MilestoneForecast.__table__  # type: ignore[attr-defined]
        session.execute(insert(table), rows)
    return len(rows)


def forecast_history(
    session: Session, project_ids: list[int] | None = None
) -> dict[int, list[MilestoneForecast]]:
    """Each milestone's recorded forecasts, oldest report first."""
    query = select(MilestoneForecast).order_by(
        col(MilestoneForecast.milestone_id),
        col(MilestoneForecast.reported_on),
        col(MilestoneForecast.report_id),
    )
    if project_ids is not None:
        query = query.where(col(MilestoneForecast.project_id).in_(project_ids))
    history: dict[int, list[MilestoneForecast]] = {}
    for row in session.exec(query):
        history.setdefault(row.milestone_id, []).append(row)
    return history

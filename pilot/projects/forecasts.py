"""Milestone trend: the forecast each report declared for each milestone (history).

``Milestone`` rows hold the current dates and are updated in place by imports; this
table keeps, for every report, the dates its milestones had then (written in the
import's transaction, ``importers.intake``), never updated: the
milestone trend chart (forecast date against report date) and the early-warning score
(``pilot.indicators.early_warning``) read it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    Column,
    CursorResult,
    DateTime,
    Index,
    Table,
    UniqueConstraint,
    insert,
    literal,
)
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
    """Keep the milestones' dates as the reports of import ``import_id`` declared them, in
    one ``INSERT … SELECT`` run in the import's own transaction (right after it applied
    the workbook: the dates are the report's, never a later import's). Running it again
    adds nothing. Returns the rows added."""
    report = Report.__table__  # type: ignore[attr-defined]
    milestone = Milestone.__table__  # type: ignore[attr-defined]
    table: Table = MilestoneForecast.__table__  # type: ignore[attr-defined]
    recorded = (
        sa_select(table.c.id)
        .where(table.c.report_id == report.c.id, table.c.milestone_id == milestone.c.id)
        .exists()
    )
    rows = (
        sa_select(
            report.c.id,
            milestone.c.id,
            milestone.c.project_id,
            report.c.reported_on,
            milestone.c.baseline_date,
            milestone.c.forecast_date,
            milestone.c.actual_date,
            literal(utcnow(), DateTime(timezone=True)),
        )
        .select_from(report.join(milestone, milestone.c.project_id == report.c.project_id))
        .where(report.c.import_id == import_id, ~recorded)
    )
    columns = [
        "report_id",
        "milestone_id",
        "project_id",
        "reported_on",
        "baseline_date",
        "forecast_date",
        "actual_date",
        "created_at",
    ]
    result = session.execute(insert(table).from_select(columns, rows))
    return max(cast(CursorResult[Any], result).rowcount, 0)


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


def frozen_trends(
    session: Session, project_ids: list[int], up_to: date
) -> dict[int, list[dict[str, Any]]]:
    """The milestone trend of each project as an edition published on ``up_to`` freezes
    it (JSON-ready): for each milestone with a recorded forecast, in the milestones'
    order, its name, its last known actual date and its forecast at each report up to
    that date: ``{"name", "actual", "points": [[report date, forecast date or None]]}``."""
    if not project_ids:
        return {}
    rows = session.execute(
        sa_select(
            col(MilestoneForecast.project_id),
            col(MilestoneForecast.milestone_id),
            col(MilestoneForecast.reported_on),
            col(MilestoneForecast.forecast_date),
            col(MilestoneForecast.actual_date),
            col(Milestone.name),
        )
        .join(Milestone, col(Milestone.id) == col(MilestoneForecast.milestone_id))
        .where(
            col(MilestoneForecast.project_id).in_(project_ids),
            col(MilestoneForecast.reported_on) <= up_to,
        )
        .order_by(
            col(MilestoneForecast.project_id),
            col(Milestone.baseline_date),
            col(Milestone.id),
            col(MilestoneForecast.reported_on),
            col(MilestoneForecast.report_id),
        )
    ).all()
    trends: dict[int, list[dict[str, Any]]] = {}
    current: dict[str, Any] | None = None
    last: tuple[int, int] | None = None
    for project_id, milestone_id, reported_on, forecast, actual, name in rows:
        if (project_id, milestone_id) != last:
            current = {"name": name, "actual": None, "points": []}
            trends.setdefault(project_id, []).append(current)
            last = (project_id, milestone_id)
        assert current is not None
        current["points"].append(
            [reported_on.isoformat(), forecast.isoformat() if forecast else None]
        )
        current["actual"] = actual.isoformat() if actual else None
    return trends

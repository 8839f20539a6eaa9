"""Steering signals beyond drift: late milestones, critical risks, stale submissions.

Each rule exists once as a pure function (for one object) and once as an SQL condition
(to filter a whole portfolio in one statement); tests check they agree.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col

from pilot.projects.models import Milestone, Risk, RiskStatus

CRITICAL_FROM = 9  # criticality (probability × impact) from which a mitigation is required


def milestone_is_late(
    baseline_date: date | None, forecast_date: date | None, actual_date: date | None, today: date
) -> bool:
    """Late = no actual date, and the forecast is after the baseline date or the baseline
    date is past. A milestone due later whose forecast has not slipped is not late."""
    if actual_date is not None or baseline_date is None:
        return False
    return (forecast_date is not None and forecast_date > baseline_date) or today > baseline_date


def late_milestone(today: date) -> ColumnElement[bool]:
    """SQL twin of :func:`milestone_is_late`."""
    return and_(
        col(Milestone.actual_date).is_(None),
        col(Milestone.baseline_date).is_not(None),
        or_(
            col(Milestone.forecast_date) > col(Milestone.baseline_date),
            col(Milestone.baseline_date) < today,
        ),
    )


def criticality(probability: int, impact: int) -> int:
    return probability * impact


def risk_is_unmitigated(probability: int, impact: int, mitigation: str | None, status: str) -> bool:
    """An open risk of criticality 9 or more without a mitigation."""
    return (
        status == RiskStatus.OUVERT.value
        and criticality(probability, impact) >= CRITICAL_FROM
        and not (mitigation or "").strip()
    )


def open_risk_at_least(level: int) -> ColumnElement[bool]:
    return and_(
        col(Risk.status) == RiskStatus.OUVERT.value,
        (col(Risk.probability) * col(Risk.impact)) >= level,
    )


def unmitigated_risk() -> ColumnElement[bool]:
    """SQL twin of :func:`risk_is_unmitigated`."""
    return and_(
        open_risk_at_least(CRITICAL_FROM),
        or_(col(Risk.mitigation).is_(None), func.trim(col(Risk.mitigation)) == ""),
    )


def stale_before(today: date, period_days: int) -> date:
    """Reports dated before this day do not count for a reporting period of ``period_days``
    days (when no campaign is open: ``pilot.campaigns.service.stale_before``)."""
    return today - timedelta(days=period_days)

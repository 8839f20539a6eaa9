"""An alert: an event of the portfolio worth telling DINUM, recorded once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, DateTime, Text
from sqlmodel import Field, SQLModel

from pilot.timeutil import utcnow

KINDS = (
    "health_red",
    "weather_rosier",
    "milestone_slip",
    "risk_unmitigated",
    # DINUM's opinions (pilot.opinions.service)
    "recommendation_overdue",
    "opinion_deemed_favourable",
)


class Alert(SQLModel, table=True):
    """``key`` names the event (e.g. ``health_red:12:340``: project 12 turned red at
    report 340): detecting the same event again records nothing."""

    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")", name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=30)
    project_id: int = Field(foreign_key="project.id", index=True)
    message: str = Field(sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    detected_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class AlertSubscriber(SQLModel, table=True):
    """An address DINUM subscribed to alert e-mails (``pilot alert subscriber add``, its
    GraphQL mutation). The recipients are these plus ``PILOT_ALERT_EMAILS``
    (``pilot.alerts.service.alert_recipients``)."""

    __tablename__ = "alert_subscriber"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)  # lower-cased
    added_by: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )

"""A reporting campaign, the ministries it concerns, and the ministries' contacts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from pilot.timeutil import utcnow


class Campaign(SQLModel, table=True):
    """DINUM collects the ministries' reports between ``period_start`` and its closing;
    ``deadline`` is the last day to send. One campaign is open at a time."""

    __table_args__ = (
        CheckConstraint("deadline >= period_start", name="deadline_after_start"),
        CheckConstraint("period_end IS NULL OR period_end >= period_start", name="end_after_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    period_start: date
    period_end: date | None = None  # set when the campaign is closed
    deadline: date
    opened_by: str = Field(max_length=200)
    opened_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class CampaignMinistry(SQLModel, table=True):
    """A ministry a campaign concerns."""

    __tablename__ = "campaign_ministry"
    __table_args__ = (UniqueConstraint("campaign_id", "ministry_id", name="uq_campaign_ministry"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    ministry_id: int = Field(foreign_key="ministry.id")


class Contact(SQLModel, table=True):
    """An address DINUM added for a ministry (``pilot campaign contact add``). A
    ministry's contacts are these plus its accounts (``campaigns.service.contacts_of``)."""

    __tablename__ = "ministry_contact"
    __table_args__ = (UniqueConstraint("ministry_id", "email", name="uq_ministry_contact"),)

    id: int | None = Field(default=None, primary_key=True)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    email: str = Field(max_length=320)
    added_by: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )

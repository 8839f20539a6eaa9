"""DINUM's statutory opinion (avis conforme) as tables: the request (saisine), its events
and documents, the opinion, its five axes and its recommendations (with their history).

History is never rewritten: events and recommendation events are only ever inserted
(``pilot.guards``). A request's status and a recommendation's status are derived from, and
written together with, their latest event.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from pilot.keys import parse_key
from pilot.opinions.clock import EventKind, Observer, Status
from pilot.timeutil import utcnow


class Sense(StrEnum):
    """The sense of an opinion."""

    FAVOURABLE = "favourable"
    FAVOURABLE_WITH_RESERVATIONS = "favourable_with_reservations"
    UNFAVOURABLE = "unfavourable"
    DEEMED_FAVOURABLE = "deemed_favourable"  # no answer within the month


class Axis(StrEnum):
    """The five axes every project is assessed on."""

    STRATEGY = "strategy"
    FINANCES = "finances"
    GOVERNANCE = "governance"
    DELIVERY = "delivery"
    PLANNING = "planning"


class Rating(StrEnum):
    """The rating of one axis."""

    SATISFACTORY = "satisfactory"
    TO_IMPROVE = "to_improve"
    INSUFFICIENT = "insufficient"
    CRITICAL = "critical"


class RecommendationStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    DROPPED = "dropped"  # abandoned, with DINUM's agreement (a comment says why)


OPEN_RECOMMENDATION = (RecommendationStatus.OPEN, RecommendationStatus.IN_PROGRESS)
# A recommendation's status in French (pages, workbook, alerts).
RECOMMENDATION_LABELS = {
    RecommendationStatus.OPEN: "ouverte",
    RecommendationStatus.IN_PROGRESS: "en cours",
    RecommendationStatus.CLOSED: "close",
    RecommendationStatus.DROPPED: "abandonnée",
}


RECOMMENDATION_ID_PREFIX = "REC-"


def format_recommendation_id(recommendation_id: int) -> str:
    """A recommendation's reference in the ministry workbook: ``REC-00012``."""
    return f"{RECOMMENDATION_ID_PREFIX}{recommendation_id:05d}"


def parse_recommendation_id(value: str) -> int | None:
    """``"REC-00012"`` → 12; anything else → None."""
    value = value.strip().upper()
    if not value.startswith(RECOMMENDATION_ID_PREFIX):
        return None
    return parse_key(value[len(RECOMMENDATION_ID_PREFIX) :])


def _ts() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False)


def _in(name: str, column: str, values: type[StrEnum], nullable: bool = False) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    condition = f"{column} IN ({allowed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=name)


class OpinionRequest(SQLModel, table=True):
    """A request for DINUM's opinion on one project (saisine). ``binding``: a ministry's
    project gets an avis conforme; a body under State supervision an opinion with
    recommendations, not binding. ``status`` is the status its events lead to
    (``pilot.opinions.clock.status_of``), written with each event."""

    __tablename__ = "opinion_request"
    __table_args__ = (
        _in("status", "status", Status),
        Index("ix_opinion_request_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    binding: bool = True
    subject: str = Field(max_length=300)
    status: str = Field(default=Status.DRAFT.value, max_length=30)
    opened_by: str = Field(max_length=200)
    opened_on: date
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class OpinionEvent(SQLModel, table=True):
    """One step of a request, with who and when (``happened_on``: the day that counts for the
    clock, Europe/Paris). Never updated: the history of the request. A request has at
    most one closing event (opinion given or deemed favourable)."""

    __tablename__ = "opinion_event"
    __table_args__ = (
        _in("kind", "kind", EventKind),
        _in("observer", "observer", Observer, nullable=True),
        Index("ix_opinion_event_request", "request_id", "id"),
        Index(
            "uq_opinion_event_one_closing",
            "request_id",
            unique=True,
            sqlite_where=text("kind IN ('opinion_given', 'deemed_favourable')"),
            postgresql_where=text("kind IN ('opinion_given', 'deemed_favourable')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="opinion_request.id")
    kind: str = Field(max_length=30)
    happened_on: date
    observer: str | None = Field(default=None, max_length=20)
    actor: str = Field(max_length=200)
    note: str | None = Field(default=None, sa_type=Text)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class OpinionDocument(SQLModel, table=True):
    """A document of a request's file, archived unchanged under its SHA-256 (never
    parsed: PILOT only checks its type by its first bytes)."""

    __tablename__ = "opinion_document"
    __table_args__ = (CheckConstraint("size_bytes >= 0", name="size_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="opinion_request.id", index=True)
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(sa_type=BigInteger)
    stored_path: str = Field(max_length=1000)
    uploaded_by: str = Field(max_length=200)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Opinion(SQLModel, table=True):
    """DINUM's opinion on a request (or the deemed-favourable one), with the project's
    figures at that day (``baseline_*``). ``baseline_id``: the approved baseline it made
    (first opinion of the project) or confirmed. ``published``: DINUM made its content
    public (by default only its date and sense are)."""

    __table_args__ = (
        _in("sense", "sense", Sense),
        UniqueConstraint("request_id", name="uq_opinion_request"),
        CheckConstraint(
            "baseline_cost_eur IS NULL OR baseline_cost_eur >= 0", name="baseline_cost_positive"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="opinion_request.id")
    project_id: int = Field(foreign_key="project.id", index=True)
    sense: str = Field(max_length=40)
    given_on: date
    given_by: str = Field(max_length=200)
    summary: str | None = Field(default=None, sa_type=Text)
    baseline_cost_eur: int | None = Field(default=None, sa_type=BigInteger)
    baseline_start_date: date | None = None
    baseline_end_date: date | None = None
    baseline_id: int | None = Field(default=None, foreign_key="baseline.id")
    published: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class OpinionAxis(SQLModel, table=True):
    """The rating and comment of one of the five axes of an opinion."""

    __tablename__ = "opinion_axis"
    __table_args__ = (
        _in("axis", "axis", Axis),
        _in("rating", "rating", Rating),
        UniqueConstraint("opinion_id", "axis", name="uq_opinion_axis"),
    )

    id: int | None = Field(default=None, primary_key=True)
    opinion_id: int = Field(foreign_key="opinion.id", index=True)
    axis: str = Field(max_length=20)
    rating: str = Field(max_length=20)
    comment: str = Field(sa_type=Text)


class Recommendation(SQLModel, table=True):
    """A recommendation of an opinion, followed to closure by the ministry. ``status``
    is its latest event's (``recommendation_event``)."""

    __table_args__ = (
        _in("status", "status", RecommendationStatus),
        UniqueConstraint("opinion_id", "number", name="uq_recommendation_number"),
        Index("ix_recommendation_status_due", "status", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    opinion_id: int = Field(foreign_key="opinion.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    number: int
    text: str = Field(sa_type=Text)
    owner: str = Field(max_length=200)
    due_on: date
    status: str = Field(default=RecommendationStatus.OPEN.value, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class RecommendationEvent(SQLModel, table=True):
    """One status of a recommendation, with who, when and why. Never updated."""

    __tablename__ = "recommendation_event"
    __table_args__ = (_in("status", "status", RecommendationStatus),)

    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: int = Field(foreign_key="recommendation.id", index=True)
    status: str = Field(max_length=20)
    changed_on: date
    actor: str = Field(max_length=200)
    comment: str | None = Field(default=None, sa_type=Text)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())

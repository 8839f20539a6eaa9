"""The project domain as tables.

Money is stored as integer euros (``BigInteger``): exact on every database.
Dates are ``date``; timestamps are timezone-aware UTC.
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
from pilot.timeutil import utcnow

PROJECT_ID_PREFIX = "PRJ-"


class Phase(StrEnum):
    CADRAGE = "Cadrage"
    CONCEPTION = "Conception / Réalisation"
    EXPERIMENTATION = "Expérimentation"
    DEPLOIEMENT = "Déploiement"
    TERMINE = "Terminé"
    ABANDONNE = "Abandonné"


class Weather(StrEnum):
    SOLEIL = "soleil"
    NUAGEUX = "nuageux"
    ORAGE = "orage"


class BaselineKind(StrEnum):
    INITIAL = "initial"
    REBASELINE = "rebaseline"


class RiskStatus(StrEnum):
    OUVERT = "ouvert"
    CLOS = "clos"


class RiskTrend(StrEnum):
    HAUSSE = "hausse"
    STABLE = "stable"
    BAISSE = "baisse"


class BudgetKind(StrEnum):
    BUILD = "build"
    RUN = "run"


def _ts() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False)


def _checked(
    name: str, column: str, values: type[StrEnum], nullable: bool = False
) -> CheckConstraint:
    allowed = ", ".join("'" + v.value.replace("'", "''") + "'" for v in values)
    condition = f"{column} IN ({allowed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=name)


class Project(SQLModel, table=True):
    """A major IT project. ``id`` is never reused; ``pilot_id`` is its public form."""

    __table_args__ = (
        _checked("phase", "phase", Phase, nullable=True),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)
    name_key: str = Field(max_length=300, index=True)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    description: str | None = Field(default=None, sa_type=Text)
    link: str | None = Field(default=None, max_length=1000)
    interministerial: bool = False
    functional_zone: str | None = Field(default=None, max_length=300, index=True)
    functional_zone_label: str | None = Field(default=None, max_length=300)
    programmes: str | None = Field(default=None, max_length=200)  # "129" or "156,218,349"
    financing_label: str | None = Field(default=None, max_length=1000)
    pap_link: str | None = Field(default=None, max_length=1000)
    phase: str | None = Field(default=None, max_length=40)
    start_date: date | None = None
    in_panorama: bool = True
    # DINUM's decision: figures withheld from the public (pilot.projects.confidentiality)
    confidential: bool = False
    confidential_reason: str | None = Field(default=None, sa_type=Text)
    confidential_until: date | None = None  # the decision ends after this day
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())

    @property
    def pilot_id(self) -> str:
        return format_pilot_id(self.id or 0)


def format_pilot_id(project_id: int) -> str:
    return f"{PROJECT_ID_PREFIX}{project_id:05d}"


def parse_pilot_id(value: str) -> int | None:
    """``"PRJ-00042"`` → 42; anything else → None."""
    value = value.strip().upper()
    if not value.startswith(PROJECT_ID_PREFIX):
        return None
    return parse_key(value[len(PROJECT_ID_PREFIX) :])


class ProjectName(SQLModel, table=True):
    """Every name a project has carried, and aliases declared to match it across editions.

    ``kind`` is ``name`` (a name it carried, current or former) or ``alias`` (declared by
    ``pilot projects alias`` so that another spelling resolves to this project).
    """

    __tablename__ = "project_name"
    __table_args__ = (
        UniqueConstraint("ministry_id", "name_key", name="uq_project_name_ministry_key"),
        CheckConstraint("kind IN ('name', 'alias')", name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    ministry_id: int = Field(foreign_key="ministry.id")
    name: str = Field(max_length=300)
    name_key: str = Field(max_length=300)
    kind: str = Field(default="name", max_length=10)
    recorded_on: date
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ProjectMinistry(SQLModel, table=True):
    """The ministry history of a project: which ministry carried it from which date."""

    __tablename__ = "project_ministry"
    __table_args__ = (UniqueConstraint("project_id", "since", name="uq_project_ministry_since"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    ministry_id: int = Field(foreign_key="ministry.id")
    since: date


class Baseline(SQLModel, table=True):
    """An approved cost and schedule. The initial one is immutable; every re-baseline is
    a new row with a reason. Rows are never updated (see ``pilot.projects.guards``)."""

    __table_args__ = (
        _checked("kind", "kind", BaselineKind),
        CheckConstraint("kind = 'initial' OR reason IS NOT NULL", name="rebaseline_reason"),
        CheckConstraint("cost_eur IS NULL OR cost_eur >= 0", name="cost_positive"),
        Index(
            "uq_baseline_one_initial",
            "project_id",
            unique=True,
            sqlite_where=text("kind = 'initial'"),
            postgresql_where=text("kind = 'initial'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    kind: str = Field(max_length=20)
    approved_on: date
    cost_eur: int | None = Field(default=None, sa_type=BigInteger)
    start_date: date | None = None
    end_date: date | None = None
    reason: str | None = Field(default=None, sa_type=Text)
    source: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Report(SQLModel, table=True):
    """What a ministry declared at a date. History: never updated in place."""

    __table_args__ = (
        _checked("phase", "phase", Phase, nullable=True),
        _checked("weather", "weather", Weather, nullable=True),
        CheckConstraint("current_cost_eur IS NULL OR current_cost_eur >= 0", name="cost_positive"),
        Index("ix_report_project_reported", "project_id", "reported_on", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    reported_on: date
    phase: str | None = Field(default=None, max_length=40)
    current_cost_eur: int | None = Field(default=None, sa_type=BigInteger)
    forecast_end: date | None = None
    weather: str | None = Field(default=None, max_length=20)
    comment: str | None = Field(default=None, sa_type=Text)
    import_id: int | None = Field(default=None, foreign_key="import_file.id", index=True)
    edition_id: int | None = Field(default=None, foreign_key="edition.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Milestone(SQLModel, table=True):
    """Late = forecast (or today) past the baseline date without an actual date."""

    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_milestone_project_name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=300)
    baseline_date: date | None = None
    forecast_date: date | None = None
    actual_date: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Risk(SQLModel, table=True):
    """Criticality = probability × impact; mitigation required from 9."""

    __table_args__ = (
        CheckConstraint("probability BETWEEN 1 AND 4", name="probability_range"),
        CheckConstraint("impact BETWEEN 1 AND 4", name="impact_range"),
        _checked("status", "status", RiskStatus),
        _checked("trend", "trend", RiskTrend, nullable=True),
        UniqueConstraint("project_id", "title", name="uq_risk_project_title"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    title: str = Field(max_length=300)
    category: str | None = Field(default=None, max_length=100)
    probability: int
    impact: int
    owner: str | None = Field(default=None, max_length=200)
    mitigation: str | None = Field(default=None, sa_type=Text)
    status: str = Field(default=RiskStatus.OUVERT.value, max_length=20)
    trend: str | None = Field(default=None, max_length=20)
    opened_on: date | None = None
    closed_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())

    @property
    def criticality(self) -> int:
        return self.probability * self.impact


class BudgetLine(SQLModel, table=True):
    __tablename__ = "budget_line"
    __table_args__ = (
        UniqueConstraint("project_id", "year", "kind", name="uq_budget_line_project_year_kind"),
        _checked("kind", "kind", BudgetKind),
        CheckConstraint("year BETWEEN 1990 AND 2100", name="year_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    year: int
    kind: str = Field(max_length=10)
    planned_eur: int | None = Field(default=None, sa_type=BigInteger)
    consumed_eur: int | None = Field(default=None, sa_type=BigInteger)

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from pilot.api.graphql import permissions
from pilot.api.graphql.context import ctx
from pilot.api.graphql.permissions import Action
from pilot.api.graphql.types import Euros, MinistryType, PageInfo
from pilot.editions.service import TrajectoryPoint
from pilot.indicators import steering
from pilot.indicators.health import Health
from pilot.money import format_meur
from pilot.projects.models import Phase, Weather

Row = Mapping[Any, Any]  # a row read with only the columns the request needs

# Audit events ``auditTrail`` lists when ``first`` is not given.
AUDIT_TRAIL_FIRST = 100


def model_row(instance: Any) -> dict[str, Any]:
    """Every column of a model instance (read through its attributes: a committed
    instance reloads them)."""
    return {c.key: getattr(instance, c.key) for c in instance.__table__.columns}


PhaseEnum = strawberry.enum(Phase, name="Phase", description="Phase of a project")
WeatherEnum = strawberry.enum(Weather, name="Weather", description="Météo declared by a ministry")
HealthEnum = strawberry.enum(
    Health, name="Health", description="Computed from drift: under 10 % GREEN, 30 % RED"
)


@strawberry.type(name="Report")
class ReportType:
    id: strawberry.ID
    reported_on: date
    phase: str | None
    current_cost_eur: Euros | None
    current_cost_text: str | None
    forecast_end: date | None
    weather: WeatherEnum | None  # type: ignore[valid-type]
    comment: str | None

    @classmethod
    def from_row(cls, r: Row) -> ReportType:
        cost = r.get("current_cost_eur")
        weather = r.get("weather")
        return cls(
            id=strawberry.ID(str(r.get("id"))),
            reported_on=r.get("reported_on"),  # type: ignore[arg-type]
            phase=r.get("phase"),
            current_cost_eur=cost,
            current_cost_text=None if cost is None else format_meur(cost),
            forecast_end=r.get("forecast_end"),
            weather=Weather(weather) if weather else None,
            comment=r.get("comment"),
        )


@strawberry.type(name="Baseline")
class BaselineType:
    id: strawberry.ID
    kind: str = strawberry.field(description="initial or rebaseline")
    approved_on: date
    cost_eur: Euros | None
    start_date: date | None
    end_date: date | None
    reason: str | None
    source: str | None

    @classmethod
    def from_row(cls, b: Row) -> BaselineType:
        return cls(
            id=strawberry.ID(str(b.get("id"))),
            kind=b.get("kind"),  # type: ignore[arg-type]
            approved_on=b.get("approved_on"),  # type: ignore[arg-type]
            cost_eur=b.get("cost_eur"),
            start_date=b.get("start_date"),
            end_date=b.get("end_date"),
            reason=b.get("reason"),
            source=b.get("source"),
        )


@strawberry.type(name="Milestone")
class MilestoneType:
    id: strawberry.ID
    name: str
    baseline_date: date | None
    forecast_date: date | None
    actual_date: date | None
    late: bool

    @classmethod
    def from_row(cls, m: Row, today: date) -> MilestoneType:
        """``m`` always holds the three dates (``late`` and ``lateOnly`` read them)."""
        baseline, forecast, actual = m["baseline_date"], m["forecast_date"], m["actual_date"]
        return cls(
            id=strawberry.ID(str(m.get("id"))),
            name=m.get("name"),  # type: ignore[arg-type]
            baseline_date=baseline,
            forecast_date=forecast,
            actual_date=actual,
            late=steering.milestone_is_late(baseline, forecast, actual, today),
        )


@strawberry.type(name="Risk")
class RiskType:
    id: strawberry.ID
    title: str
    category: str | None
    probability: int
    impact: int
    criticality: int
    owner: str | None
    mitigation: str | None
    status: str
    trend: str | None
    opened_on: date | None
    closed_on: date | None
    unmitigated: bool = strawberry.field(
        description="Open, criticality 9 or more, and no mitigation"
    )

    @classmethod
    def from_row(cls, r: Row) -> RiskType:
        """``r`` always holds probability, impact, mitigation and status (the filters of
        ``Project.risks`` read them)."""
        probability, impact = r["probability"], r["impact"]
        mitigation, status = r["mitigation"], r["status"]
        return cls(
            id=strawberry.ID(str(r.get("id"))),
            title=r.get("title"),  # type: ignore[arg-type]
            category=r.get("category"),
            probability=probability,
            impact=impact,
            criticality=probability * impact,
            owner=r.get("owner"),
            mitigation=mitigation,
            status=status,
            trend=r.get("trend"),
            opened_on=r.get("opened_on"),
            closed_on=r.get("closed_on"),
            unmitigated=steering.risk_is_unmitigated(probability, impact, mitigation, status),
        )


@strawberry.type(name="BudgetLine")
class BudgetLineType:
    year: int
    kind: str
    planned_eur: Euros | None
    consumed_eur: Euros | None

    @classmethod
    def from_row(cls, b: Row) -> BudgetLineType:
        return cls(
            year=b.get("year"),  # type: ignore[arg-type]
            kind=b.get("kind"),  # type: ignore[arg-type]
            planned_eur=b.get("planned_eur"),
            consumed_eur=b.get("consumed_eur"),
        )


@strawberry.type(name="AuditEvent")
class AuditEventType:
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int
    field: str | None
    old_value: str | None
    new_value: str | None
    import_id: int | None

    @classmethod
    def from_row(cls, e: Row) -> AuditEventType:
        return cls(
            at=e.get("at"),  # type: ignore[arg-type]
            actor=e.get("actor"),  # type: ignore[arg-type]
            action=e.get("action"),  # type: ignore[arg-type]
            entity=e.get("entity"),  # type: ignore[arg-type]
            entity_id=e.get("entity_id"),  # type: ignore[arg-type]
            field=e.get("field"),
            old_value=e.get("old_value"),
            new_value=e.get("new_value"),
            import_id=e.get("import_id"),
        )


@strawberry.type(name="TrajectoryPoint")
class TrajectoryPointType:
    edition_number: int
    published_on: date
    cost_eur: Euros | None
    duration_years: str | None
    phase: str | None

    @classmethod
    def from_point(cls, p: TrajectoryPoint) -> TrajectoryPointType:
        return cls(
            edition_number=p.edition_number,
            published_on=p.published_on,
            cost_eur=p.cost_eur,
            duration_years=None if p.duration_years is None else str(p.duration_years),
            phase=p.phase,
        )


@strawberry.type(name="Drift")
class DriftType:
    """Relative drift (0.25 = +25 %), against the initial baseline and since the latest
    one: re-baselining never hides drift."""

    budget_initial: float | None
    schedule_initial: float | None
    budget_latest: float | None
    schedule_latest: float | None
    initial_cost_eur: Euros | None
    latest_cost_eur: Euros | None


@strawberry.type(name="Project")
class ProjectNode:
    """A project. Figures (costs, dates, reports, drift, milestones) are null for the
    public while the project is confidential; risks and the audit trail need a token.

    Every field is a plain value, computed by :mod:`.build` for the fields the request
    selected (the others stay unset): graphql-core reads them with its default
    resolver. Only the fields taking arguments have a resolver, filtering what was read."""

    ministry_id: strawberry.Private[int] = 0
    milestone_rows: strawberry.Private[list[MilestoneType] | None] = None
    risk_rows: strawberry.Private[list[RiskType] | None] = None
    audit_rows: strawberry.Private[list[AuditEventType]] = dataclasses.field(default_factory=list)
    id: strawberry.ID = strawberry.field(
        default=strawberry.ID(""), description="Stable PILOT identifier, e.g. PRJ-00042"
    )
    name: str = ""
    description: str | None = None
    link: str | None = None
    interministerial: bool = False
    functional_zone: str | None = None
    programmes: str | None = None
    phase: PhaseEnum | None = None  # type: ignore[valid-type]
    in_panorama: bool = False
    confidential: bool = False
    figures_withheld: bool = strawberry.field(
        default=False, description="True when this reader may not see the figures"
    )
    start_date: date | None = None
    ministry: MinistryType = strawberry.field(default=None)
    former_names: list[str] = strawberry.field(
        default_factory=list, description="Every name the project carried before its current one"
    )
    latest_report: ReportType | None = None
    current_cost_eur: Euros | None = None
    current_cost_text: str | None = strawberry.field(
        default=None, description="French, e.g. « 52,0 M€ »"
    )
    cost_bracket: str | None = None
    weather: WeatherEnum | None = None  # type: ignore[valid-type]
    drift: DriftType | None = None
    health: HealthEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Worse of budget and schedule drift against the initial baseline"
    )
    weather_rosier: bool | None = strawberry.field(
        default=None, description="The declared météo is rosier than the computed health"
    )
    stale: bool | None = strawberry.field(
        default=None, description="No report within the current reporting period"
    )
    baselines: list[BaselineType] | None = None
    reports: list[ReportType] | None = strawberry.field(
        default=None, description="Every report, oldest first (reports are history)"
    )

    @strawberry.field
    def milestones(self, late_only: bool = False) -> list[MilestoneType] | None:
        rows = self.milestone_rows
        if rows is None or not late_only:
            return rows
        return [m for m in rows if m.late]

    @strawberry.field(description="Open and closed risks, most critical first (needs a token)")
    def risks(
        self,
        min_criticality: int | None = None,
        unmitigated_only: bool = False,
        open_only: bool = False,
    ) -> list[RiskType] | None:
        rows = self.risk_rows
        if rows is None or (min_criticality is None and not unmitigated_only and not open_only):
            return rows
        return [
            r
            for r in rows
            if (min_criticality is None or r.criticality >= min_criticality)
            and (not unmitigated_only or r.unmitigated)
            and (not open_only or r.status == "ouvert")
        ]

    budget_lines: list[BudgetLineType] | None = None
    trajectory: list[TrajectoryPointType] | None = strawberry.field(
        default=None, description="Cost, duration and phase in each published edition"
    )

    @strawberry.field(description="Who changed what, newest first (not for the public)")
    def audit_trail(self, info: Info, first: int = AUDIT_TRAIL_FIRST) -> list[AuditEventType]:
        permissions.require(ctx(info).principal, Action.READ_AUDIT, self.ministry_id)
        return self.audit_rows[: max(first, 0)]


@strawberry.type(name="ProjectEdge")
class ProjectEdge:
    cursor: str
    node: ProjectNode


@strawberry.type(name="ProjectConnection")
class ProjectConnection:
    edges: list[ProjectEdge]
    page_info: PageInfo
    total: strawberry.Private[int | None]
    count_query: strawberry.Private[object]

    @strawberry.field
    def nodes(self) -> list[ProjectNode]:
        return [e.node for e in self.edges]

    @strawberry.field(description="How many projects match the filter (all pages)")
    def total_count(self) -> int:
        if self.total is not None:
            return self.total
        assert callable(self.count_query)
        return int(self.count_query())

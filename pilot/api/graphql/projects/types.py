from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from pilot.api.graphql import permissions
from pilot.api.graphql.context import Context, ctx
from pilot.api.graphql.permissions import Action
from pilot.api.graphql.projects.related import Related
from pilot.api.graphql.types import Euros, MinistryType, PageInfo, ratio
from pilot.audit.models import AuditEvent
from pilot.campaigns import service as campaigns
from pilot.editions.service import TrajectoryPoint
from pilot.indicators import steering
from pilot.indicators.figures import cost_bracket
from pilot.indicators.health import Health, health_from_drift, weather_is_rosier
from pilot.indicators.service import is_stale
from pilot.money import format_meur
from pilot.projects import service as projects
from pilot.projects.models import (
    Baseline,
    BudgetLine,
    Milestone,
    Phase,
    Project,
    Report,
    Risk,
    Weather,
)

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
    def from_model(cls, r: Report) -> ReportType:
        return cls(
            id=strawberry.ID(str(r.id)),
            reported_on=r.reported_on,
            phase=r.phase,
            current_cost_eur=r.current_cost_eur,
            current_cost_text=format_meur(r.current_cost_eur)
            if r.current_cost_eur is not None
            else None,
            forecast_end=r.forecast_end,
            weather=Weather(r.weather) if r.weather else None,
            comment=r.comment,
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
    def from_model(cls, b: Baseline) -> BaselineType:
        return cls(
            id=strawberry.ID(str(b.id)),
            kind=b.kind,
            approved_on=b.approved_on,
            cost_eur=b.cost_eur,
            start_date=b.start_date,
            end_date=b.end_date,
            reason=b.reason,
            source=b.source,
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
    def from_model(cls, m: Milestone, today: date) -> MilestoneType:
        return cls(
            id=strawberry.ID(str(m.id)),
            name=m.name,
            baseline_date=m.baseline_date,
            forecast_date=m.forecast_date,
            actual_date=m.actual_date,
            late=steering.milestone_is_late(m.baseline_date, m.forecast_date, m.actual_date, today),
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
    def from_model(cls, r: Risk) -> RiskType:
        return cls(
            id=strawberry.ID(str(r.id)),
            title=r.title,
            category=r.category,
            probability=r.probability,
            impact=r.impact,
            criticality=r.probability * r.impact,
            owner=r.owner,
            mitigation=r.mitigation,
            status=r.status,
            trend=r.trend,
            opened_on=r.opened_on,
            closed_on=r.closed_on,
            unmitigated=steering.risk_is_unmitigated(
                r.probability, r.impact, r.mitigation, r.status
            ),
        )


@strawberry.type(name="BudgetLine")
class BudgetLineType:
    year: int
    kind: str
    planned_eur: Euros | None
    consumed_eur: Euros | None

    @classmethod
    def from_model(cls, b: BudgetLine) -> BudgetLineType:
        return cls(year=b.year, kind=b.kind, planned_eur=b.planned_eur, consumed_eur=b.consumed_eur)


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
    def from_model(cls, e: AuditEvent) -> AuditEventType:
        return cls(
            at=e.at,
            actor=e.actor,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            field=e.field,
            old_value=e.old_value,
            new_value=e.new_value,
            import_id=e.import_id,
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
    public while the project is confidential; risks and the audit trail need a token."""

    project: strawberry.Private[Project]
    related: strawberry.Private[Related]
    figures: strawberry.Private[bool]
    risks_visible: strawberry.Private[bool]
    today: strawberry.Private[date]
    # The project's own columns are plain attributes, set once by ``of``: graphql-core
    # reads them without calling a resolver.
    id: strawberry.ID = strawberry.field(description="Stable PILOT identifier, e.g. PRJ-00042")
    name: str
    description: str | None
    link: str | None
    interministerial: bool
    functional_zone: str | None
    programmes: str | None
    phase: PhaseEnum | None  # type: ignore[valid-type]
    in_panorama: bool
    confidential: bool
    figures_withheld: bool = strawberry.field(
        description="True when this reader may not see the figures"
    )
    start_date: date | None

    @classmethod
    def of(cls, project: Project, c: Context) -> ProjectNode:
        """The node of ``project`` as this request's reader sees it; its relations are
        loaded afterwards into ``related`` (see :mod:`.related`)."""
        figures = permissions.can_see_figures(c.principal, project)
        return cls(
            project=project,
            related=Related(),
            figures=figures,
            risks_visible=permissions.allows(c.principal, Action.READ_RISKS, project.ministry_id),
            today=c.today,
            id=strawberry.ID(project.pilot_id),
            name=project.name,
            description=project.description,
            link=project.link,
            interministerial=project.interministerial,
            functional_zone=project.functional_zone_label,
            programmes=project.programmes,
            phase=Phase(project.phase) if project.phase else None,
            in_panorama=project.in_panorama,
            confidential=project.confidential,
            figures_withheld=not figures,
            start_date=project.start_date if figures else None,
        )

    @strawberry.field
    def ministry(self) -> MinistryType:
        return MinistryType.from_model(self.related.ministry())

    @strawberry.field(description="Every name the project carried before its current one")
    def former_names(self) -> list[str]:
        return [n.name for n in self.related.names() if n.name != self.project.name]

    def _latest(self) -> Report | None:
        return self.related.latest_report() if self.figures else None

    @strawberry.field
    def latest_report(self) -> ReportType | None:
        r = self._latest()
        return None if r is None else ReportType.from_model(r)

    @strawberry.field
    def current_cost_eur(self) -> Euros | None:
        r = self._latest()
        return None if r is None else r.current_cost_eur

    @strawberry.field(description="French, e.g. « 52,0 M€ »")
    def current_cost_text(self) -> str | None:
        r = self._latest()
        return None if r is None or r.current_cost_eur is None else format_meur(r.current_cost_eur)

    @strawberry.field
    def cost_bracket(self) -> str | None:
        if not self.figures:
            return None
        r = self._latest()
        return cost_bracket(r.current_cost_eur if r else None, self.project.phase)

    @strawberry.field
    def weather(self) -> WeatherEnum | None:  # type: ignore[valid-type]
        r = self._latest()
        return Weather(r.weather) if r is not None and r.weather else None

    def _drift(self) -> projects.ProjectDrift | None:
        if not self.figures:
            return None
        rows = self.related.baselines()
        initial = next((b for b in rows if b.kind == "initial"), None)
        latest = rows[-1] if rows else None
        return projects.drift_of(initial, latest, self._latest())

    @strawberry.field
    def drift(self) -> DriftType | None:
        d = self._drift()
        if d is None:
            return None
        return DriftType(
            budget_initial=ratio(d.budget_initial),
            schedule_initial=ratio(d.schedule_initial),
            budget_latest=ratio(d.budget_latest),
            schedule_latest=ratio(d.schedule_latest),
            initial_cost_eur=d.initial_cost_eur,
            latest_cost_eur=d.latest_cost_eur,
        )

    @strawberry.field(description="Worse of budget and schedule drift against the initial baseline")
    def health(self) -> HealthEnum | None:  # type: ignore[valid-type]
        d = self._drift()
        return None if d is None else health_from_drift(d.budget_initial, d.schedule_initial)

    @strawberry.field(description="The declared météo is rosier than the computed health")
    def weather_rosier(self) -> bool | None:
        d = self._drift()
        if d is None:
            return None
        r = self._latest()
        health = health_from_drift(d.budget_initial, d.schedule_initial)
        return weather_is_rosier(r.weather if r else None, health)

    @strawberry.field(description="No report within the current reporting period")
    def stale(self, info: Info) -> bool | None:
        if not self.figures:
            return None
        c = ctx(info)
        since = campaigns.stale_before(c.session, today=c.today, settings=c.settings)
        return is_stale(self._latest(), since=since)

    @strawberry.field
    def baselines(self) -> list[BaselineType] | None:
        if not self.figures:
            return None
        return [BaselineType.from_model(b) for b in self.related.baselines()]

    @strawberry.field(description="Every report, oldest first (reports are history)")
    def reports(self) -> list[ReportType] | None:
        if not self.figures:
            return None
        return [ReportType.from_model(r) for r in self.related.reports()]

    @strawberry.field
    def milestones(self, late_only: bool = False) -> list[MilestoneType] | None:
        if not self.figures:
            return None
        rows = [MilestoneType.from_model(m, self.today) for m in self.related.milestones()]
        return [m for m in rows if m.late] if late_only else rows

    @strawberry.field(description="Open and closed risks, most critical first (needs a token)")
    def risks(
        self,
        min_criticality: int | None = None,
        unmitigated_only: bool = False,
        open_only: bool = False,
    ) -> list[RiskType] | None:
        if not self.risks_visible:
            return None
        rows = [RiskType.from_model(r) for r in self.related.risks()]
        return [
            r
            for r in rows
            if (min_criticality is None or r.criticality >= min_criticality)
            and (not unmitigated_only or r.unmitigated)
            and (not open_only or r.status == "ouvert")
        ]

    @strawberry.field
    def budget_lines(self) -> list[BudgetLineType] | None:
        if not self.figures:
            return None
        return [BudgetLineType.from_model(b) for b in self.related.budget_lines()]

    @strawberry.field(description="Cost, duration and phase in each published edition")
    def trajectory(self) -> list[TrajectoryPointType] | None:
        if not self.figures:
            return None
        return [TrajectoryPointType.from_point(p) for p in self.related.trajectory()]

    @strawberry.field(description="Who changed what, newest first (not for the public)")
    def audit_trail(self, info: Info, first: int = 100) -> list[AuditEventType]:
        permissions.require(ctx(info).principal, Action.READ_AUDIT, self.project.ministry_id)
        events = self.related.audit()
        return [AuditEventType.from_model(e) for e in events[: max(first, 0)]]


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

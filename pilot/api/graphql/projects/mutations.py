"""Writes on a project: reports, re-baselines, risks, milestones. A ministry token on its
own projects, DINUM on every project; each change is audited by the domain service."""

from __future__ import annotations

from datetime import date

import strawberry
from sqlmodel import Session
from strawberry.types import Info

from pilot.api.graphql import permissions
from pilot.api.graphql.context import Context, ctx
from pilot.api.graphql.errors import NotFound, user_input
from pilot.api.graphql.permissions import NOT_FOUND_PROJECT, Action
from pilot.api.graphql.projects.types import (
    BaselineType,
    MilestoneType,
    PhaseEnum,
    ReportType,
    RiskType,
    WeatherEnum,
    model_row,
)
from pilot.api.graphql.types import Euros
from pilot.keys import parse_key
from pilot.projects import confidentiality, steering
from pilot.projects import service as projects
from pilot.projects.models import Milestone, Project, Risk, parse_pilot_id


def _writable(c: Context, session: Session, pilot_id: str) -> Project:
    permissions.require(c.principal, Action.WRITE_PROJECT)
    number = parse_pilot_id(pilot_id)
    project = session.get(Project, number) if number is not None else None
    if project is None:
        raise NotFound(NOT_FOUND_PROJECT.format(pilot_id))
    permissions.require(
        c.principal,
        Action.WRITE_PROJECT,
        project.ministry_id,
        not_found=NOT_FOUND_PROJECT.format(pilot_id),
    )
    return project


def _check_owner(c: Context, session: Session, project_id: int, missing: str) -> None:
    project = session.get(Project, project_id)
    assert project is not None
    permissions.require(c.principal, Action.WRITE_PROJECT, project.ministry_id, not_found=missing)


@strawberry.input
class RecordReportInput:
    project_id: strawberry.ID
    reported_on: date
    phase: PhaseEnum | None = None  # type: ignore[valid-type]
    current_cost_eur: Euros | None = None
    forecast_end: date | None = None
    weather: WeatherEnum | None = None  # type: ignore[valid-type]
    comment: str | None = None


@strawberry.input
class RebaselineInput:
    project_id: strawberry.ID
    reason: str = strawberry.field(description="Required: why the baseline changes")
    approved_on: date
    cost_eur: Euros | None = None
    start_date: date | None = None
    end_date: date | None = None


@strawberry.input
class AddRiskInput:
    project_id: strawberry.ID
    title: str
    probability: int
    impact: int
    category: str | None = None
    owner: str | None = None
    mitigation: str | None = strawberry.field(
        default=None, description="Required from criticality 9"
    )
    trend: str | None = None
    opened_on: date | None = None


@strawberry.input
class UpdateMilestoneInput:
    milestone_id: strawberry.ID
    forecast_date: date | None = None
    actual_date: date | None = None


def _int_id(value: strawberry.ID, what: str) -> int:
    number = parse_key(value)
    if number is None:
        raise NotFound(f"{what} introuvable : « {value} ».")
    return number


@strawberry.type
class ProjectMutation:
    @strawberry.mutation(description="Record what the ministry declares today (history).")
    def record_report(self, info: Info, input: RecordReportInput) -> ReportType:
        c = ctx(info)
        with c.write() as session, user_input():
            project = _writable(c, session, str(input.project_id))
            report = projects.record_report(
                session,
                project,
                reported_on=input.reported_on,
                actor=c.principal.actor,
                phase=input.phase.value if input.phase else None,
                current_cost_eur=input.current_cost_eur,
                forecast_end=input.forecast_end,
                weather=input.weather.value if input.weather else None,
                comment=input.comment,
            )
            return ReportType.from_row(model_row(report))

    @strawberry.mutation(
        description="A new baseline; the reason is required. Drift against "
        "the initial baseline stays visible."
    )
    def rebaseline(self, info: Info, input: RebaselineInput) -> BaselineType:
        c = ctx(info)
        with c.write() as session, user_input():
            project = _writable(c, session, str(input.project_id))
            baseline = projects.rebaseline(
                session,
                project,
                reason=input.reason,
                approved_on=input.approved_on,
                cost_eur=input.cost_eur,
                start_date=input.start_date,
                end_date=input.end_date,
                actor=c.principal.actor,
            )
            return BaselineType.from_row(model_row(baseline))

    @strawberry.mutation(description="Open a risk (mitigation required from criticality 9).")
    def add_risk(self, info: Info, input: AddRiskInput) -> RiskType:
        c = ctx(info)
        with c.write() as session, user_input():
            project = _writable(c, session, str(input.project_id))
            risk = steering.add_risk(
                session,
                project,
                title=input.title,
                probability=input.probability,
                impact=input.impact,
                actor=c.principal.actor,
                category=input.category,
                owner=input.owner,
                mitigation=input.mitigation,
                trend=input.trend,
                opened_on=input.opened_on or c.today,
            )
            return RiskType.from_row(model_row(risk))

    @strawberry.mutation(description="Close an open risk.")
    def close_risk(
        self, info: Info, risk_id: strawberry.ID, closed_on: date | None = None
    ) -> RiskType:
        c = ctx(info)
        with c.write() as session, user_input():
            permissions.require(c.principal, Action.WRITE_PROJECT)
            missing = f"Risque introuvable : « {risk_id} »."
            risk = session.get(Risk, _int_id(risk_id, "Risque"))
            if risk is None:
                raise NotFound(missing)
            _check_owner(c, session, risk.project_id, missing)
            steering.close_risk(
                session, risk, closed_on=closed_on or c.today, actor=c.principal.actor
            )
            return RiskType.from_row(model_row(risk))

    @strawberry.mutation(description="Set a milestone's forecast and/or actual date.")
    def update_milestone(self, info: Info, input: UpdateMilestoneInput) -> MilestoneType:
        c = ctx(info)
        with c.write() as session, user_input():
            permissions.require(c.principal, Action.WRITE_PROJECT)
            missing = f"Jalon introuvable : « {input.milestone_id} »."
            milestone = session.get(Milestone, _int_id(input.milestone_id, "Jalon"))
            if milestone is None:
                raise NotFound(missing)
            _check_owner(c, session, milestone.project_id, missing)
            steering.update_milestone(
                session,
                milestone,
                actor=c.principal.actor,
                forecast_date=input.forecast_date,
                actual_date=input.actual_date,
            )
            return MilestoneType.from_row(model_row(milestone), c.today)


@strawberry.type(name="Confidentiality")
class ConfidentialityType:
    """DINUM's decision on a project: while it holds, editions publish its identity only."""

    project_id: strawberry.ID
    confidential: bool
    reason: str | None
    until: date | None = strawberry.field(description="Last day of the decision, if any")

    @classmethod
    def of(cls, project: Project) -> ConfidentialityType:
        return cls(
            project_id=strawberry.ID(project.pilot_id),
            confidential=project.confidential,
            reason=project.confidential_reason,
            until=project.confidential_until,
        )


def _decided(c: Context, session: Session, pilot_id: str) -> Project:
    permissions.require(c.principal, Action.DECIDE_CONFIDENTIALITY)
    number = parse_pilot_id(pilot_id)
    project = session.get(Project, number) if number is not None else None
    if project is None:
        raise NotFound(NOT_FOUND_PROJECT.format(pilot_id))
    return project


@strawberry.type
class ConfidentialityMutation:
    @strawberry.mutation(
        description="Mark a project confidential (DINUM, audited): editions published while "
        "the decision holds show its identity only (ministry, name, description, phase)."
    )
    def mark_confidential(
        self,
        info: Info,
        project_id: strawberry.ID,
        reason: str,
        until: date | None = None,
    ) -> ConfidentialityType:
        c = ctx(info)
        with c.write() as session, user_input():
            project = _decided(c, session, str(project_id))
            confidentiality.mark_confidential(
                session, project, reason=reason, until=until, actor=c.principal.actor, today=c.today
            )
            return ConfidentialityType.of(project)

    @strawberry.mutation(
        description="Lift a project's confidentiality (DINUM, audited): the next editions "
        "publish its figures."
    )
    def lift_confidentiality(self, info: Info, project_id: strawberry.ID) -> ConfidentialityType:
        c = ctx(info)
        with c.write() as session, user_input():
            project = _decided(c, session, str(project_id))
            confidentiality.lift_confidentiality(session, project, actor=c.principal.actor)
            return ConfidentialityType.of(project)

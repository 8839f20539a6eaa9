"""What the web pages show, read through the domain services (indicators, projects,
editions): one function per page, each a constant number of statements."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from pilot.audit.models import AuditEvent
from pilot.auth.models import Token
from pilot.campaigns import service as campaigns
from pilot.campaigns.models import Campaign
from pilot.editions import service as editions
from pilot.imports.models import ImportFile
from pilot.indicators import service as indicators
from pilot.indicators.health import Health
from pilot.indicators.service import ProjectStatus
from pilot.indicators.steering import (
    CRITICAL_FROM,
    late_milestone,
    milestone_is_late,
    open_risk_at_least,
    stale_before,
    unmitigated_risk,
)
from pilot.ministries.models import Ministry
from pilot.projects import service as projects
from pilot.projects.models import Baseline, Milestone, Project, Report, Risk
from pilot.projects.steering import milestones_of
from scorecards import trend


@dataclass(frozen=True)
class ProjectLine:
    status: ProjectStatus
    late_milestones: int
    critical_risks: int  # open, criticality 9 or more
    unmitigated_risks: int  # of which without a mitigation


def _count_by_project(
    session: Session, model: type[Milestone] | type[Risk], where: ColumnElement[bool]
) -> Counter[int]:
    pid = col(model.project_id)
    rows = session.exec(select(pid, func.count()).where(where).group_by(pid))
    return Counter({p: n for p, n in rows})


def project_lines(
    session: Session, *, ministry_id: int | None, today: date, in_panorama_only: bool = True
) -> list[ProjectLine]:
    statuses = indicators.project_statuses(
        session, ministry_id=ministry_id, in_panorama_only=in_panorama_only
    )
    late = _count_by_project(session, Milestone, late_milestone(today))
    critical = _count_by_project(session, Risk, open_risk_at_least(CRITICAL_FROM))
    unmitigated = _count_by_project(session, Risk, unmitigated_risk())
    return [
        ProjectLine(
            status=s,
            late_milestones=late[s.project.id or 0],
            critical_risks=critical[s.project.id or 0],
            unmitigated_risks=unmitigated[s.project.id or 0],
        )
        for s in sorted(statuses, key=lambda s: (s.ministry_code, s.project.name.lower()))
    ]


@dataclass(frozen=True)
class LateMilestone:
    project: Project
    ministry_code: str
    milestone: Milestone


@dataclass(frozen=True)
class UnmitigatedRisk:
    project: Project
    ministry_code: str
    risk: Risk


@dataclass(frozen=True)
class StaleMinistry:
    code: str
    name: str
    projects: int
    last_report: date | None


@dataclass(frozen=True)
class Alerts:
    red: list[ProjectLine]
    rosier: list[ProjectLine]
    late: list[LateMilestone]
    unmitigated: list[UnmitigatedRisk]
    stale: list[StaleMinistry]


def alerts(session: Session, lines: list[ProjectLine], *, today: date, period_days: int) -> Alerts:
    """DINUM's alerts on the live portfolio (projects in the panorama)."""
    in_panorama = Project.in_panorama == True  # noqa: E712
    late = [
        LateMilestone(project=p, ministry_code=code, milestone=m)
        for m, p, code in session.exec(
            select(Milestone, Project, Ministry.code)
            .join(Project, col(Project.id) == col(Milestone.project_id))
            .join(Ministry, col(Ministry.id) == col(Project.ministry_id))
            .where(late_milestone(today), in_panorama)
            .order_by(col(Milestone.baseline_date), col(Milestone.id))
        )
    ]
    unmitigated = [
        UnmitigatedRisk(project=p, ministry_code=code, risk=r)
        for r, p, code in session.exec(
            select(Risk, Project, Ministry.code)
            .join(Project, col(Project.id) == col(Risk.project_id))
            .join(Ministry, col(Ministry.id) == col(Project.ministry_id))
            .where(unmitigated_risk(), in_panorama)
            .order_by(col(Risk.id))
        )
    ]
    cutoff = stale_before(today, period_days)
    names = dict(session.exec(select(Ministry.code, Ministry.name)).all())
    by_ministry: dict[str, list[ProjectStatus]] = {}
    for line in lines:
        by_ministry.setdefault(line.status.ministry_code, []).append(line.status)
    stale = []
    for code, statuses in sorted(by_ministry.items()):
        dates = [s.report.reported_on for s in statuses if s.report is not None]
        last = max(dates) if dates else None
        if last is None or last < cutoff:
            stale.append(StaleMinistry(code, names.get(code, code), len(statuses), last))
    return Alerts(
        red=[line for line in lines if line.status.health == Health.RED],
        rosier=[line for line in lines if line.status.weather_rosier],
        late=late,
        unmitigated=unmitigated,
        stale=stale,
    )


@dataclass(frozen=True)
class ProjectPage:
    project: Project
    ministry: Ministry
    status: ProjectStatus | None
    baselines: list[Baseline]
    reports: list[Report]
    milestones: list[tuple[Milestone, bool]]  # (milestone, late)
    risks: list[Risk]
    trajectory: list[editions.TrajectoryPoint]
    audit: list[tuple[AuditEvent, str]]  # (event, who in words)
    trend: trend.TrendChart | None  # the milestone trend chart


def _who(actor: str, tokens: dict[int, str]) -> str:
    """An audit actor in words: a person's e-mail, a named token, or the channel."""
    if actor.startswith("token:"):
        number = actor.removeprefix("token:")
        name = tokens.get(int(number)) if number.isdigit() else None
        return f"jeton « {name} »" if name else f"jeton n° {number}"
    return {"cli": "ligne de commande", "inbox": "boîte de dépôt", "demo": "démonstration"}.get(
        actor, actor
    )


def project_page(
    session: Session, project: Project, *, today: date, with_audit: bool
) -> ProjectPage:
    assert project.id is not None
    ministry = session.get(Ministry, project.ministry_id)
    assert ministry is not None
    statuses = indicators.project_statuses(
        session, ministry_id=project.ministry_id, in_panorama_only=False
    )
    status = next((s for s in statuses if s.project.id == project.id), None)
    risks = list(
        session.exec(
            select(Risk)
            .where(Risk.project_id == project.id)
            .order_by(col(Risk.status).desc(), (col(Risk.probability) * col(Risk.impact)).desc())
        )
    )
    audit: list[tuple[AuditEvent, str]] = []
    if with_audit:
        tokens = {i: n for i, n in session.exec(select(Token.id, Token.name)).all() if i}
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.project_id == project.id)
            .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
            .limit(200)
        )
        audit = [(e, _who(e.actor, tokens)) for e in events]
    return ProjectPage(
        project=project,
        ministry=ministry,
        status=status,
        baselines=projects.baselines(session, project.id),
        reports=list(reversed(list(projects.reports(session, project.id)))),
        milestones=[
            (m, milestone_is_late(m.baseline_date, m.forecast_date, m.actual_date, today))
            for m in milestones_of(session, project.id)
        ],
        risks=risks,
        trajectory=editions.trajectory(session, project.id),
        audit=audit,
        trend=trend.project_trend(session, project.id),
    )


def imports_of(session: Session, ministry_id: int, limit: int = 100) -> list[ImportFile]:
    return list(
        session.exec(
            select(ImportFile)
            .where(ImportFile.ministry_id == ministry_id, ImportFile.kind == "workbook")
            .order_by(col(ImportFile.id).desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class CampaignView:
    """The open campaign and the statuses of the ministries it concerns."""

    campaign: Campaign
    statuses: list[campaigns.MinistryStatus]


def open_campaign(
    session: Session, *, today: date, ministry_id: int | None = None
) -> CampaignView | None:
    """The open campaign at ``today`` with each concerned ministry's status (only
    ``ministry_id``'s when given); None when no campaign is open, or when it does not
    concern ``ministry_id``."""
    campaign = campaigns.current_campaign(session)
    if campaign is None:
        return None
    statuses = campaigns.ministry_statuses(session, campaign, on=today)
    if ministry_id is not None:
        statuses = [s for s in statuses if s.ministry_id == ministry_id]
        if not statuses:
            return None
    return CampaignView(campaign, statuses)

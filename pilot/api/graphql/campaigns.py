"""The reporting campaign (each ministry's status), DINUM's alerts, and the portfolio
sorted by early-warning score. Read-only; the service layer does the work."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from sqlmodel import col, select
from strawberry.types import Info

from pilot.alerts import service as alerts
from pilot.api.graphql import permissions
from pilot.api.graphql.context import ctx
from pilot.api.graphql.errors import Forbidden
from pilot.api.graphql.permissions import Action
from pilot.auth.models import Role
from pilot.campaigns import service as campaigns
from pilot.indicators.early_warning import early_warning_scores
from pilot.ministries.models import Ministry
from pilot.projects.models import Project, format_pilot_id

MAX_ITEMS = 500


@strawberry.type(name="CampaignMinistry")
class CampaignMinistryType:
    code: str
    name: str
    status: str = strawberry.field(
        description="non commencé, envoyé avec erreurs, envoyé or en retard"
    )
    imports: int = strawberry.field(description="Workbooks received during the campaign")
    last_received_at: datetime | None


@strawberry.type(name="Campaign")
class CampaignType:
    id: strawberry.ID
    title: str
    period_start: date
    period_end: date | None
    deadline: date
    is_open: bool
    ministries: list[CampaignMinistryType]


@strawberry.type(name="Alert")
class AlertType:
    id: strawberry.ID
    kind: str
    project_id: str
    message: str
    detected_at: datetime


@strawberry.type(name="EarlyWarning")
class EarlyWarningType:
    project_id: str
    name: str
    ministry: str
    score: int = strawberry.field(description="0: steady milestones; higher: look earlier")


@strawberry.type
class CampaignQuery:
    @strawberry.field(
        description="The open campaign (else the last one) and each concerned ministry's "
        "status (needs a token; a ministry sees its own line)."
    )
    def campaign(self, info: Info) -> CampaignType | None:
        c = ctx(info)
        permissions.require(c.principal, Action.READ_IMPORTS)
        found = campaigns.latest_campaign(c.session)
        if found is None:
            return None
        statuses = campaigns.ministry_statuses(c.session, found, on=c.today)
        if c.principal.role == Role.MINISTRY:
            statuses = [s for s in statuses if s.ministry_id == c.principal.ministry_id]
        return CampaignType(
            id=strawberry.ID(str(found.id)),
            title=found.title,
            period_start=found.period_start,
            period_end=found.period_end,
            deadline=found.deadline,
            is_open=found.is_open,
            ministries=[
                CampaignMinistryType(
                    code=s.code,
                    name=s.name,
                    status=s.state.value,
                    imports=s.imports,
                    last_received_at=s.last_received_at,
                )
                for s in statuses
            ],
        )

    @strawberry.field(description="The latest alerts, newest first (DINUM only).")
    def alerts(self, info: Info, first: int = 100) -> list[AlertType]:
        c = ctx(info)
        permissions.require(c.principal, Action.READ_LIVE_PORTFOLIO)
        if not permissions.is_global(c.principal):
            raise Forbidden()
        return [
            AlertType(
                id=strawberry.ID(str(a.id)),
                kind=a.kind,
                project_id=format_pilot_id(a.project_id),
                message=a.message,
                detected_at=a.detected_at,
            )
            for a in alerts.recent_alerts(c.session, limit=max(1, min(first, MAX_ITEMS)))
        ]

    @strawberry.field(
        description="Projects by early-warning score (milestone slips), highest first "
        "(needs a token; a ministry sees its own)."
    )
    def early_warnings(self, info: Info, first: int = 50) -> list[EarlyWarningType]:
        c = ctx(info)
        permissions.require(c.principal, Action.READ_LIVE_PORTFOLIO)
        query = select(Project, Ministry.code).join(Ministry)
        if c.principal.role == Role.MINISTRY:
            query = query.where(Project.ministry_id == c.principal.ministry_id)
        pairs = {p.id: (p, code) for p, code in c.session.exec(query.order_by(col(Project.id)))}
        scores = early_warning_scores(c.session, [pid for pid in pairs if pid is not None])
        ranked = sorted(
            ((score, pid) for pid, score in scores.items() if score > 0 and pid in pairs),
            key=lambda item: (-item[0], item[1]),
        )[: max(1, min(first, MAX_ITEMS))]
        return [
            EarlyWarningType(
                project_id=pairs[pid][0].pilot_id,
                name=pairs[pid][0].name,
                ministry=pairs[pid][1],
                score=score,
            )
            for score, pid in ranked
        ]

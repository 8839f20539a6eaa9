"""The reporting campaign (each ministry's status), DINUM's alerts and the subscribers to
their e-mails, and the portfolio sorted by early-warning score. The service layer does the
work."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from sqlmodel import col, select
from strawberry.types import Info

from pilot.alerts import service as alerts
from pilot.api.graphql import permissions
from pilot.api.graphql.context import ctx
from pilot.api.graphql.errors import BadUserInput, Forbidden
from pilot.api.graphql.permissions import Action
from pilot.api.graphql.types import PageInfo, decode_cursor, encode_cursor, page_size
from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.campaigns import service as campaigns
from pilot.indicators.early_warning import early_warning_scores
from pilot.ministries.models import Ministry
from pilot.projects.models import Project, format_pilot_id, parse_pilot_id

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
    kind: str = strawberry.field(
        description="health_red, weather_rosier, milestone_slip or risk_unmitigated"
    )
    project_id: str
    message: str
    detected_at: datetime


@strawberry.type(name="AlertEdge")
class AlertEdge:
    cursor: str
    node: AlertType


@strawberry.type(name="AlertConnection")
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[AlertType]:
        return [e.node for e in self.edges]


@strawberry.type(name="AlertSubscriber")
class AlertSubscriberType:
    email: str
    added_by: str = strawberry.field(
        description="Who added it; PILOT_ALERT_EMAILS for the addresses of that setting"
    )
    created_at: datetime | None


def _dinum(principal: Principal) -> None:
    """DINUM's alerts and their subscribers: DINUM and admin only."""
    permissions.require(principal, Action.READ_LIVE_PORTFOLIO)
    if not permissions.is_global(principal):
        raise Forbidden()


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

    @strawberry.field(
        description="The alerts recorded, newest first, of a kind and of a project (its PILOT "
        "identifier, PRJ-00042) when given (DINUM only)."
    )
    def alerts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kind: str | None = None,
        project: str | None = None,
    ) -> AlertConnection:
        c = ctx(info)
        _dinum(c.principal)
        size = page_size(first, c.settings)
        if kind is not None and kind not in alerts.alert_kinds():
            raise BadUserInput(
                f"Type d'alerte inconnu : « {kind[:50]} ». Types : "
                + ", ".join(alerts.alert_kinds())
                + "."
            )
        project_id = None
        if project is not None:
            project_id = parse_pilot_id(project)
            if project_id is None or c.session.get(Project, project_id) is None:
                raise BadUserInput(f"Projet introuvable : « {project[:50]} ».")
        before = decode_cursor(after, "alerts")[1] if after else None
        page = alerts.list_alerts(
            c.session, kind=kind, project_id=project_id, before_id=before, limit=size
        )
        edges = [
            AlertEdge(
                cursor=encode_cursor("alerts", None, a.id or 0),
                node=AlertType(
                    id=strawberry.ID(str(a.id)),
                    kind=a.kind,
                    project_id=format_pilot_id(a.project_id),
                    message=a.message,
                    detected_at=a.detected_at,
                ),
            )
            for a in page.alerts
        ]
        return AlertConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.more, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=page.total,
        )

    @strawberry.field(
        description="Who receives alert e-mails: the subscribers DINUM added, then the "
        "addresses of PILOT_ALERT_EMAILS (DINUM only)."
    )
    def alert_subscribers(self, info: Info) -> list[AlertSubscriberType]:
        c = ctx(info)
        _dinum(c.principal)
        added = alerts.list_subscribers(c.session)
        known = {s.email for s in added}
        return [
            AlertSubscriberType(email=s.email, added_by=s.added_by, created_at=s.created_at)
            for s in added
        ] + [
            AlertSubscriberType(email=email, added_by="PILOT_ALERT_EMAILS", created_at=None)
            for email in alerts.alert_recipients(c.session)
            if email not in known
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


@strawberry.type
class AlertMutation:
    @strawberry.mutation(description="Subscribe an address to alert e-mails (DINUM only).")
    def add_alert_subscriber(self, info: Info, email: str) -> AlertSubscriberType:
        c = ctx(info)
        _dinum(c.principal)
        with c.write() as session:
            try:
                found = alerts.add_subscriber(session, email=email, actor=c.principal.actor)
            except alerts.SubscriberError as error:
                raise BadUserInput(str(error)) from error
            return AlertSubscriberType(
                email=found.email, added_by=found.added_by, created_at=found.created_at
            )

    @strawberry.mutation(
        description="Unsubscribe an address DINUM added; false when it was not subscribed "
        "(DINUM only)."
    )
    def remove_alert_subscriber(self, info: Info, email: str) -> bool:
        c = ctx(info)
        _dinum(c.principal)
        with c.write() as session:
            return alerts.remove_subscriber(session, email=email)

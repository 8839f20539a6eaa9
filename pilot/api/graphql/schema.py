"""The root Query. First wiring: ministries, projects, portfolio figures, editions."""

from __future__ import annotations

import strawberry
from sqlmodel import col, select
from strawberry.types import Info

from pilot.api.graphql.context import Context
from pilot.api.graphql.types import EditionType, FiguresType, MinistryType, ProjectType
from pilot.auth.models import Role
from pilot.editions import service as editions
from pilot.indicators import service as indicators
from pilot.ministries import service as ministries


def _ctx(info: Info) -> Context:
    return info.context


@strawberry.type
class Query:
    @strawberry.field(description="Every ministry, by code.")
    def ministries(self, info: Info) -> list[MinistryType]:
        return [MinistryType.from_model(m) for m in ministries.list_ministries(_ctx(info).session)]

    @strawberry.field(description="Projects in the panorama, with their latest figures.")
    def projects(self, info: Info) -> list[ProjectType]:
        ctx = _ctx(info)
        public = ctx.principal.role == Role.PUBLIC
        return [
            ProjectType.from_model(
                s.project,
                s.ministry_code,
                s.report.current_cost_eur if s.report else None,
                withheld=public and s.project.confidential,
            )
            for s in indicators.project_statuses(ctx.session)
        ]

    @strawberry.field(description="Key figures of an edition (latest by default).")
    def portfolio(self, info: Info, edition: int | None = None) -> FiguresType | None:
        session = _ctx(info).session
        try:
            found = editions.get_edition(session, edition if edition is not None else "latest")
        except editions.EditionNotFound:
            return None
        return FiguresType.from_figures(editions.edition_figures(found))

    @strawberry.field(description="Published editions, oldest first.")
    def editions(self, info: Info) -> list[EditionType]:
        from pilot.editions.models import Edition

        session = _ctx(info).session
        rows = session.exec(
            select(Edition).where(Edition.status == "published").order_by(col(Edition.number))
        )
        return [
            EditionType(
                number=e.number,
                published_on=e.published_on,
                title=e.title,
                figures=FiguresType.from_figures(editions.edition_figures(e)),
            )
            for e in rows
        ]


schema = strawberry.Schema(query=Query)

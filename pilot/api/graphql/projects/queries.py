from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from pilot.api.graphql import permissions
from pilot.api.graphql.context import Context, ctx
from pilot.api.graphql.errors import NotFound
from pilot.api.graphql.permissions import NOT_FOUND_PROJECT, Action
from pilot.api.graphql.projects import build
from pilot.api.graphql.projects.listing import ProjectFilter, ProjectOrder, list_projects
from pilot.api.graphql.projects.types import ProjectConnection, ProjectEdge, ProjectNode
from pilot.api.graphql.types import PageInfo
from pilot.projects.models import Project, parse_pilot_id


def visible_project_row(c: Context, pilot_id: str, columns: list[Any]) -> Mapping[Any, Any]:
    """``columns`` of the project ``pilot_id`` if this reader may see it; NOT_FOUND
    otherwise (the same answer whether it does not exist or belongs to another ministry)."""
    permissions.require(c.principal, Action.READ_PROJECT)
    number = parse_pilot_id(pilot_id)
    row = None
    if number is not None:
        row = (
            c.session.execute(
                select(*columns).where(Project.id == number)  # type: ignore[arg-type]
            )
            .mappings()
            .first()
        )
    if row is None or not permissions.allows(c.principal, Action.READ_PROJECT, row["ministry_id"]):
        raise NotFound(NOT_FOUND_PROJECT.format(pilot_id))
    return row


@strawberry.type
class ProjectQuery:
    @strawberry.field(
        description="Projects this reader may see, filtered, sorted and paginated by cursor "
        "(keyset: pass pageInfo.endCursor as `after`). Live data: needs a token (a "
        "ministry sees its own)."
    )
    def projects(
        self,
        info: Info,
        filter: ProjectFilter | None = None,
        order_by: ProjectOrder | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ProjectConnection:
        c = ctx(info)
        permissions.require(c.principal, Action.READ_PROJECT)
        wanted = build.wanted_in_connection(info)
        page = list_projects(c, filter, order_by, first, after, build.project_columns(wanted))
        nodes = build.nodes(c, [row for _, row in page.rows], wanted)
        edges = [
            ProjectEdge(cursor=cursor, node=node)
            for (cursor, _), node in zip(page.rows, nodes, strict=True)
        ]
        return ProjectConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
            ),
            total=page.total,
            count_query=page.count,
        )

    @strawberry.field(
        description="One project by its PILOT identifier, e.g. PRJ-00042. Live data: needs a token."
    )
    async def project(self, info: Info, id: strawberry.ID) -> ProjectNode:
        c = ctx(info)
        wanted = build.wanted_in_node(info)
        row = visible_project_row(c, str(id), build.project_columns(wanted))
        return await build.node(c, row, wanted)

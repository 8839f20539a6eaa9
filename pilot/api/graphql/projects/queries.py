from __future__ import annotations

import strawberry
from strawberry.types import Info

from pilot.api.graphql import permissions
from pilot.api.graphql.context import Context, ctx
from pilot.api.graphql.errors import NotFound
from pilot.api.graphql.permissions import NOT_FOUND_PROJECT, Action
from pilot.api.graphql.projects import related
from pilot.api.graphql.projects.listing import ProjectFilter, ProjectOrder, list_projects
from pilot.api.graphql.projects.types import ProjectConnection, ProjectNode
from pilot.projects.models import Project, parse_pilot_id


def get_visible_project(c: Context, pilot_id: str) -> Project:
    """The project ``pilot_id`` if this reader may see it; NOT_FOUND otherwise (the same
    answer whether it does not exist or belongs to another ministry)."""
    permissions.require(c.principal, Action.READ_PROJECT)
    number = parse_pilot_id(pilot_id)
    project = c.session.get(Project, number) if number is not None else None
    if project is None or not permissions.can_see_project(c.principal, project):
        raise NotFound(NOT_FOUND_PROJECT.format(pilot_id))
    return project


@strawberry.type
class ProjectQuery:
    @strawberry.field(
        description="Projects this reader may see, filtered, sorted and paginated by cursor "
        "(keyset: pass pageInfo.endCursor as `after`). Live data: needs a token (a "
        "ministry sees its own)."
    )
    async def projects(
        self,
        info: Info,
        filter: ProjectFilter | None = None,
        order_by: ProjectOrder | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ProjectConnection:
        c = ctx(info)
        permissions.require(c.principal, Action.READ_PROJECT)
        connection = list_projects(c, filter, order_by, first, after)
        nodes = [e.node for e in connection.edges]
        await related.load(c, [(n.project, n.related) for n in nodes], related.wanted(info))
        return connection

    @strawberry.field(
        description="One project by its PILOT identifier, e.g. PRJ-00042. Live data: needs a token."
    )
    async def project(self, info: Info, id: strawberry.ID) -> ProjectNode:
        c = ctx(info)
        node = ProjectNode.of(get_visible_project(c, str(id)), c)
        await related.load(c, [(node.project, node.related)], related.wanted(info))
        return node

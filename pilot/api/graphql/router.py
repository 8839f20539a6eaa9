from __future__ import annotations

from typing import Annotated

from fastapi import Header
from strawberry.fastapi import GraphQLRouter

from pilot.api.deps import SessionDep, principal_from_header
from pilot.api.graphql.context import Context
from pilot.api.graphql.schema import schema
from pilot.config import Settings


async def _context(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Context:
    return Context(session=session, principal=principal_from_header(session, authorization))


def graphql_router(settings: Settings) -> GraphQLRouter[Context, None]:
    return GraphQLRouter(
        schema, context_getter=_context, graphql_ide="graphiql" if settings.graphiql else None
    )

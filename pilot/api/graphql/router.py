from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Header, HTTPException
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from strawberry.fastapi import GraphQLRouter
from strawberry.types import ExecutionResult

from pilot import db
from pilot.api.deps import principal_from_header
from pilot.api.graphql.cache import CachedResult, EncodedResponse, ResponseCache
from pilot.api.graphql.context import Context
from pilot.api.graphql.errors import UNAVAILABLE, UNAVAILABLE_MESSAGE, Busy, StorageFull
from pilot.api.graphql.schema import build_schema
from pilot.api.turns import BUSY, RETRY_AFTER_SECONDS
from pilot.config import Settings


def _context_getter(
    turns: asyncio.Semaphore,
) -> Callable[..., AsyncIterator[Context]]:
    async def context(
        authorization: Annotated[str | None, Header()] = None,
    ) -> AsyncIterator[Context]:
        # Resolvers run on the event loop and hold the request's connection across
        # awaits: at most ``graphql_max_concurrency`` requests execute at once, each
        # closing its session before letting the next one in, so the pool is never
        # exhausted (waiting for it would block the loop).
        async with turns:
            with Session(db.get_engine(), expire_on_commit=False) as session:
                # The connection is taken in a worker thread: should the pool be empty,
                # that thread waits, never the event loop (and every request with it).
                await run_in_threadpool(session.connection)
                yield Context(
                    session=session, principal=principal_from_header(session, authorization)
                )

    return context


class PilotGraphQLRouter(GraphQLRouter[Context, None]):
    """Strawberry's router, answering queries on published editions from the cache."""

    def __init__(self, *args: Any, cache: ResponseCache, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache = cache

    async def process_result(self, request: Any, result: Any) -> Any:
        processed = await super().process_result(request, result)
        if isinstance(result, CachedResult):  # a hit: its body was encoded when cached
            return EncodedResponse(processed, result.encoded)
        return processed

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, EncodedResponse):
            return data.encoded
        return super().encode_json(data)

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        key = self.cache.key(
            context.session,
            context.principal,
            request_data.query,
            request_data.variables,
            request_data.operation_name,
        )
        if key is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return hit
        result = await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        codes = {(e.extensions or {}).get("code") for e in result.errors or []}
        if UNAVAILABLE in codes:
            raise HTTPException(503, UNAVAILABLE_MESSAGE, headers={"Retry-After": "30"})
        if Busy.code in codes:
            raise HTTPException(503, BUSY, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        for error in result.errors or []:
            if (error.extensions or {}).get("code") == StorageFull.code:
                raise HTTPException(507, error.message)
        if key is not None:
            self.cache.put(key, result)
        return result


def graphql_router(settings: Settings) -> PilotGraphQLRouter:
    return PilotGraphQLRouter(
        build_schema(settings),
        context_getter=_context_getter(asyncio.Semaphore(settings.graphql_max_concurrency)),
        graphql_ide="graphiql" if settings.graphiql else None,
        multipart_uploads_enabled=True,
        cache=ResponseCache(settings.graphql_cache_size),
    )

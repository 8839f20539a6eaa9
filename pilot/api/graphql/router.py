"""``/graphql``: Strawberry's FastAPI router, executing each request off the event loop.

Resolvers read the database synchronously (SQLAlchemy sessions), and a mutation may wait
seconds for SQLite's write lock. So that none of it ever blocks the event loop (and every
other request with it, ``/healthz`` included), a request is executed whole — cache
look-up, parsing, validation, resolvers, DataLoaders, encoding of the response — in a
worker thread, on an event loop of its own (``asyncio.run``): the server's loop only
reads the request and sends the answer. What needs the server's loop (the import turns,
``pilot/api/turns.py``) is handed back to it (:meth:`Context.on_server_loop`).

The request envelope sends to the database only what is needed: the data version (one
statement, in autocommit on PostgreSQL: no ``BEGIN``/``ROLLBACK``), the token look-up
at most once a second per worker and token (``pilot.api.tokens``), and nothing else for
an answer in the cache (``cache.py``). A connection the server closed is retried once
(``db.retry_on_disconnect``: the engine does not ping connections before use).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Header, HTTPException
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from strawberry.fastapi import GraphQLRouter
from strawberry.http import process_result as processed_result
from strawberry.types import ExecutionResult

from pilot import db
from pilot.api.deps import principal_from_header
from pilot.api.graphql.cache import AnswerCache, EncodedResponse, EncodedResult
from pilot.api.graphql.context import Context
from pilot.api.graphql.errors import (
    UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    Busy,
    ErrorPolicy,
    StorageFull,
)
from pilot.api.graphql.schema import build_schema
from pilot.api.tokens import PrincipalCache
from pilot.api.turns import BUSY, RETRY_AFTER_SECONDS
from pilot.auth.service import PUBLIC, Principal
from pilot.config import Settings
from pilot.coordination import current_data_version
from pilot.db import read_connection, retry_on_disconnect

UNREADABLE_BODY = (
    "Requête illisible : le corps (ou le paramètre « variables ») n'est pas un JSON valide, "
    "ou il est imbriqué trop profondément."
)


def _context_getter(
    turns: asyncio.Semaphore, answers: AnswerCache
) -> Callable[..., AsyncIterator[Context]]:
    async def context(
        authorization: Annotated[str | None, Header()] = None,
    ) -> AsyncIterator[Context]:
        # At most ``graphql_max_concurrency`` requests execute at once (each holds a
        # connection and a worker thread), so the pool is never exhausted; the others
        # wait here, holding neither. Who is asking is found out in the worker thread
        # that executes the request (``_identify``): the event loop never waits for the
        # database, and the request crosses to a thread once.
        async with turns:
            with Session(db.get_engine(), expire_on_commit=False) as session:
                yield Context(
                    session=session,
                    principal=PUBLIC,
                    loop=asyncio.get_running_loop(),
                    answers=answers,
                    authorization=authorization,
                )

    return context


def _identify(context: Context, principals: PrincipalCache) -> None:
    """Who is asking, and the data version: one statement when the token was checked
    less than a second ago at this version, two otherwise. A connection the server
    closed is replaced once (the request's first statement)."""

    def look_up() -> tuple[Principal, int]:
        version = current_data_version(read_connection(context.session))
        authorization = context.authorization
        if not authorization:
            return PUBLIC, version
        principal = principals.get(authorization, version)
        if principal is None:
            principal = principal_from_header(context.session, authorization)
            principals.put(authorization, principal, version)
        return principal, version

    context.principal, context.data_version = retry_on_disconnect(look_up, context.session.rollback)


_threads = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """The event loop of this worker thread, made once (``asyncio.run`` would make and
    close one per request)."""
    loop: asyncio.AbstractEventLoop | None = getattr(_threads, "loop", None)
    if loop is None or loop.is_closed():
        loop = _threads.loop = asyncio.new_event_loop()
    return loop


class PilotGraphQLRouter(GraphQLRouter[Context, None]):
    """Strawberry's router, executing in a worker thread and answering queries on
    published editions from the cache."""

    def __init__(
        self,
        *args: Any,
        answers: AnswerCache,
        principals: PrincipalCache,
        errors: ErrorPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.answers = answers
        self.principals = principals
        self.errors = errors

    def parse_json(self, data: str | bytes) -> Any:
        """Malformed or too deeply nested JSON (body, or ``variables`` of a GET): 400."""
        try:
            return self.decode_json(data)
        except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
            raise HTTPException(400, UNREADABLE_BODY) from error

    async def process_result(self, request: Any, result: Any) -> Any:
        processed = await super().process_result(request, result)
        if isinstance(result, EncodedResult):  # encoded in the worker thread
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
        arguments = {
            "request": request,
            "request_adapter": request_adapter,
            "sub_response": sub_response,
            "context": context,
            "root_value": root_value,
            "request_data": request_data,
        }
        result: ExecutionResult = await run_in_threadpool(self._run_in_thread, arguments)
        return result

    def _run_in_thread(self, arguments: dict[str, Any]) -> ExecutionResult:
        _identify(arguments["context"], self.principals)
        return _thread_loop().run_until_complete(self._execute(**arguments))

    async def _execute(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        """One request, in the worker thread: Strawberry's execution (or the cached
        answer, ``AnswerCacheExtension``) with every error coded, then the response
        encoded and, for a query answered without error, cached."""
        result = await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        if isinstance(result, EncodedResult):  # from the cache
            return result
        if result.errors:
            result.errors = self.errors.shown(result.errors)
        codes = {(e.extensions or {}).get("code") for e in result.errors or []}
        if UNAVAILABLE in codes:
            raise HTTPException(503, UNAVAILABLE_MESSAGE, headers={"Retry-After": "30"})
        if Busy.code in codes:
            raise HTTPException(503, BUSY, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        for error in result.errors or []:
            if (error.extensions or {}).get("code") == StorageFull.code:
                raise HTTPException(507, error.message)
        encoded = EncodedResult.of(result, self.encode_json(processed_result(result)))
        if context.answer_key is not None and not result.errors:
            self.answers.put(context.answer_key, encoded.encoded)
        return encoded


def graphql_router(
    settings: Settings, principals: PrincipalCache | None = None
) -> PilotGraphQLRouter:
    answers = AnswerCache(settings.graphql_cache_bytes)
    return PilotGraphQLRouter(
        build_schema(settings),
        context_getter=_context_getter(
            asyncio.Semaphore(settings.graphql_max_concurrency), answers
        ),
        graphql_ide="graphiql" if settings.graphiql else None,
        multipart_uploads_enabled=True,
        answers=answers,
        principals=principals or PrincipalCache(),
        errors=ErrorPolicy(mask=not settings.debug),
    )


__all__ = ["PilotGraphQLRouter", "graphql_router"]

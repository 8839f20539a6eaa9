"""``/graphql``: GraphQL over HTTP, each request executed off the event loop.

The endpoint is PILOT's own (two FastAPI routes), calling Strawberry's public
``Schema.execute``: Strawberry's HTTP view is not used, so nothing here depends on how
that view works inside.

- ``POST``: a JSON body (``query``, ``variables``, ``operationName``), or a multipart
  request for a file (the GraphQL multipart request spec: ``operations``, ``map``, the
  files). Queries and mutations.
- ``GET``: ``?query=…&variables=…&operationName=…``, queries only (a mutation is refused
  with 405); without a query, a browser (``Accept: text/html``) gets GraphiQL when
  ``PILOT_GRAPHIQL`` is on.
- What cannot be read as a GraphQL request gets a French 400 (415 for an unknown content
  type), as ``{"detail": …}``; the answer of a request that executed is always 200 with
  ``data`` and/or ``errors`` (each error coded, ``errors.py``), except: the database
  unreachable (503, ``Retry-After``), too many imports at once (503), the disk full (507).

Resolvers read the database synchronously (SQLAlchemy sessions), and a mutation may wait
seconds for SQLite's write lock. So that none of it ever blocks the event loop (and every
other request with it, ``/healthz`` included), a request is executed whole — who is
asking, the cached answer or parsing, validation, resolvers, DataLoaders, encoding — in a
worker thread, on an event loop of its own: the server's loop only reads the request and
sends the answer. What needs the server's loop (the import turns, ``pilot/api/turns.py``)
is handed back to it (:meth:`Context.on_server_loop`). At most
``graphql_max_concurrency`` requests execute at once (each holds a connection and a
thread); the others wait for their turn holding neither.

The request sends to the database only what is needed: the data version (one statement,
in autocommit on PostgreSQL: no ``BEGIN``/``ROLLBACK``), the token look-up at most once a
second per worker and token (``pilot.api.tokens``), and nothing else for an answer in the
cache (``cache.py``), which is found before anything is parsed. A connection the server
closed is retried once (``db.retry_on_disconnect``: the engine does not ping connections
before use).
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile
from strawberry import Schema
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graphql import GraphQLError
from pilot import db
from pilot.api.deps import principal_from_header
from pilot.api.graphql.cache import AnswerCache
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
NOT_A_REQUEST = (
    "Requête GraphQL illisible : envoyez un objet JSON avec « query » (un texte), et au "
    "besoin « variables » (un objet) et « operationName » (un texte)."
)
MISSING_QUERY = "Requête GraphQL absente : indiquez-la dans « query »."
UNSUPPORTED_CONTENT = (
    "Type de contenu non pris en charge : envoyez du JSON (application/json) ou, avec un "
    "fichier, une requête multipart (multipart/form-data)."
)
UNREADABLE_MULTIPART = (
    "Requête multipart illisible : elle doit porter « operations » et « map » (GraphQL "
    "multipart request), et au plus {} fichiers."
)
MISSING_FILE = (
    "Fichier absent ou mal placé : chaque entrée de « map » doit nommer un fichier envoyé "
    "et une variable de « operations » (par exemple « variables.file »)."
)
MUTATION_OVER_GET = "Une mutation s'envoie en POST, pas en GET."
NO_OPERATION = (
    "Opération introuvable : vérifiez « operationName » (la requête doit en nommer une de "
    "celles qu'elle définit)."
)
MAX_FILES = 10  # files in one multipart request (an import sends one)
MAX_FIELDS = 10  # other fields in one multipart request (operations, map)

_GRAPHIQL = resources.files("pilot.api.graphql").joinpath("graphiql.html")


@dataclass(frozen=True)
class Operation:
    """One GraphQL request as read from HTTP."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


@dataclass(frozen=True)
class Answer:
    """An HTTP answer built in the worker thread: sent as it is by the event loop."""

    body: bytes
    status: int = 200
    headers: Mapping[str, str] | None = None


def _encoded(result: ExecutionResult) -> bytes:
    """The response body of an executed request (GraphQL over HTTP)."""
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _decoded(data: str | bytes) -> Any:
    """Malformed or too deeply nested JSON (body, or ``variables`` of a GET): 400."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise HTTPException(400, UNREADABLE_BODY) from error


def _operation(data: object) -> Operation:
    """The request's fields, each of its documented type (batches are not accepted)."""
    if not isinstance(data, dict):
        raise HTTPException(400, NOT_A_REQUEST)
    query = data.get("query")
    variables = data.get("variables")
    name = data.get("operationName")
    if (
        not isinstance(query, (str, type(None)))
        or not isinstance(variables, (dict, type(None)))
        or not isinstance(name, (str, type(None)))
    ):
        raise HTTPException(400, NOT_A_REQUEST)
    if not query or not query.strip():
        raise HTTPException(400, MISSING_QUERY)
    return Operation(query=query, variables=variables, operation_name=name)


def _place_files(operations: object, files_map: object, files: Mapping[str, UploadFile]) -> Any:
    """The multipart spec: each file of ``map`` put where its paths say in ``operations``
    (``"variables.file"``, ``"variables.files.0"``)."""
    if not isinstance(files_map, dict):
        raise HTTPException(400, MISSING_FILE)
    for key, paths in files_map.items():
        upload = files.get(key)
        if upload is None or not isinstance(paths, list) or not paths:
            raise HTTPException(400, MISSING_FILE)
        for path in paths:
            if not isinstance(path, str):
                raise HTTPException(400, MISSING_FILE)
            *parents, last = path.split(".")
            target: Any = operations
            try:
                for part in parents:
                    target = target[int(part)] if isinstance(target, list) else target[part]
                if isinstance(target, list):
                    target[int(last)] = upload
                elif isinstance(target, dict) and parents:  # never the top level itself
                    target[last] = upload
                else:
                    raise HTTPException(400, MISSING_FILE)
            except (KeyError, IndexError, ValueError, TypeError) as error:
                raise HTTPException(400, MISSING_FILE) from error
    return operations


_threads = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """The event loop of this worker thread, made once (``asyncio.run`` would make and
    close one per request)."""
    loop: asyncio.AbstractEventLoop | None = getattr(_threads, "loop", None)
    if loop is None or loop.is_closed():
        loop = _threads.loop = asyncio.new_event_loop()
    return loop


class GraphQLEndpoint:
    """Reads GraphQL requests, executes them in worker threads, answers from the cache."""

    def __init__(self, settings: Settings, principals: PrincipalCache) -> None:
        self.schema: Schema = build_schema(settings)
        self.answers = AnswerCache(settings.graphql_cache_bytes)
        self.principals = principals
        self.errors = ErrorPolicy(mask=not settings.debug)
        self.graphiql = settings.graphiql
        self.concurrency = settings.graphql_max_concurrency
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._turns = weakref.WeakKeyDictionary()

    # --- HTTP -------------------------------------------------------------------------

    async def get(self, request: Request) -> Response:
        params = request.query_params
        query = params.get("query")
        if query is None:
            accept = request.headers.get("accept", "")
            if "text/html" in accept or "*/*" in accept:
                if not self.graphiql:
                    raise HTTPException(404, "Not Found")
                return HTMLResponse(_GRAPHIQL.read_text(encoding="utf-8"))
            raise HTTPException(400, MISSING_QUERY)
        variables = params.get("variables")
        data = {
            "query": query,
            "variables": _decoded(variables) if variables else None,
            "operationName": params.get("operationName"),
        }
        return await self.answer(request, lambda: _operation(data), {OperationType.QUERY})

    async def post(self, request: Request) -> Response:
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        allowed = {OperationType.QUERY, OperationType.MUTATION}
        if media == "application/json" or media.endswith("+json"):
            body = await request.body()  # bounded by BodySizeLimit; decoded in the thread
            return await self.answer(request, lambda: _operation(_decoded(body)), allowed)
        if media != "multipart/form-data":
            raise HTTPException(415, UNSUPPORTED_CONTENT)
        try:
            form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
        except (HTTPException, ValueError) as error:  # Starlette's, on too many parts
            raise HTTPException(400, UNREADABLE_MULTIPART.format(MAX_FILES)) from error
        try:
            operations, files_map = form.get("operations"), form.get("map")
            if not isinstance(operations, str) or not isinstance(files_map, str):
                raise HTTPException(400, UNREADABLE_MULTIPART.format(MAX_FILES))
            files = {k: v for k, v in form.multi_items() if isinstance(v, UploadFile)}

            def parse() -> Operation:
                return _operation(_place_files(_decoded(operations), _decoded(files_map), files))

            return await self.answer(request, parse, allowed)
        finally:
            await form.close()  # the files spooled to disk

    async def answer(
        self, request: Request, parse: Callable[[], Operation], allowed: set[OperationType]
    ) -> Response:
        """The request executed in a worker thread (``parse`` too: decoding a large body
        never holds the event loop), at most ``graphql_max_concurrency`` at once."""
        loop = asyncio.get_running_loop()
        turns = self._turns.get(loop)
        if turns is None:  # one per event loop (a test client may run several in turn)
            turns = self._turns[loop] = asyncio.Semaphore(self.concurrency)
        authorization = request.headers.get("authorization")
        async with turns:
            answer = await anyio.to_thread.run_sync(
                self.run, request, parse, allowed, loop, authorization
            )
        return Response(
            answer.body,
            status_code=answer.status,
            headers=dict(answer.headers or {}),
            media_type="application/json",
        )

    # --- In the worker thread ---------------------------------------------------------

    def run(
        self,
        request: Request | None,
        parse: Callable[[], Operation],
        allowed: set[OperationType],
        server_loop: asyncio.AbstractEventLoop,
        authorization: str | None,
    ) -> Answer:
        operation = parse()
        with Session(db.get_engine(), expire_on_commit=False) as session:
            context = Context(
                session=session,
                principal=PUBLIC,
                loop=server_loop,
                answers=self.answers,
                request=request,
            )
            context.principal, context.data_version = self._identify(session, authorization)
            if OperationType.QUERY in allowed:  # a GET may not read a mutation's answer
                key = self.answers.key(
                    query=operation.query,
                    variables=operation.variables,
                    operation_name=operation.operation_name,
                    principal=context.principal,
                    version=context.data_version,
                    today=context.dates,
                )
                cached = self.answers.get(key) if key is not None else None
                if cached is not None:
                    return Answer(cached)
            return self._execute(context, operation, allowed)

    def _identify(self, session: Session, authorization: str | None) -> tuple[Principal, int]:
        """Who is asking, and the data version: one statement when the token was checked
        less than a second ago at this version, two otherwise. A connection the server
        closed is replaced once (the request's first statement)."""

        def look_up() -> tuple[Principal, int]:
            version = current_data_version(read_connection(session))
            if not authorization:
                return PUBLIC, version
            principal = self.principals.get(authorization, version)
            if principal is None:
                principal = principal_from_header(session, authorization)
                self.principals.put(authorization, principal, version)
            return principal, version

        return retry_on_disconnect(look_up, session.rollback)

    def _execute(
        self, context: Context, operation: Operation, allowed: set[OperationType]
    ) -> Answer:
        """Strawberry's execution (or the cached answer of an equivalent query,
        ``AnswerCacheExtension``), every error coded, the answer encoded and, for a query
        answered without error, cached."""
        try:
            result = _thread_loop().run_until_complete(
                self.schema.execute(
                    operation.query,
                    variable_values=operation.variables,
                    context_value=context,
                    operation_name=operation.operation_name,
                    allowed_operation_types=allowed,
                )
            )
        except MissingQueryError as error:
            raise HTTPException(400, MISSING_QUERY) from error
        except InvalidOperationTypeError as error:  # a mutation sent by GET
            raise HTTPException(405, MUTATION_OVER_GET, headers={"Allow": "POST"}) from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, NO_OPERATION) from error
        if context.cached is not None:
            return Answer(context.cached)
        errors: list[GraphQLError] = self.errors.shown(result.errors) if result.errors else []
        result.errors = errors or None
        codes = {(e.extensions or {}).get("code") for e in errors}
        if UNAVAILABLE in codes:
            raise HTTPException(503, UNAVAILABLE_MESSAGE, headers={"Retry-After": "30"})
        if Busy.code in codes:
            raise HTTPException(503, BUSY, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        for shown in errors:
            if (shown.extensions or {}).get("code") == StorageFull.code:
                raise HTTPException(507, shown.message)
        encoded = _encoded(result)
        if context.answer_key is not None and not errors:
            self.answers.put(context.answer_key, encoded)
        return Answer(encoded)


GRAPHQL_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["query"],
                "properties": {
                    "query": {"type": "string"},
                    "variables": {"type": "object"},
                    "operationName": {"type": "string"},
                },
            }
        }
    },
}


def graphql_router(settings: Settings, principals: PrincipalCache | None = None) -> APIRouter:
    endpoint = GraphQLEndpoint(settings, principals or PrincipalCache())
    router = APIRouter()

    @router.get("", response_model=None, summary="Requête GraphQL en GET (lecture seule)")
    async def graphql_get(
        request: Request,
        query: str | None = None,
        variables: str | None = None,
        operationName: str | None = None,
    ) -> Response:
        """GraphiQL pour un navigateur sans « query » (si ``PILOT_GRAPHIQL``)."""
        return await endpoint.get(request)

    @router.post(
        "",
        response_model=None,
        summary="Requête GraphQL (JSON, ou multipart avec un fichier)",
        openapi_extra={"requestBody": GRAPHQL_BODY},
    )
    async def graphql_post(request: Request) -> Response:
        return await endpoint.post(request)

    return router


__all__ = ["GraphQLEndpoint", "graphql_router"]

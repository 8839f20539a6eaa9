"""The FastAPI application: GraphQL at ``/graphql``; ``/healthz`` (liveness), ``/readyz``
(readiness) and ``/metrics`` for operations (``pilot/api/observability.py``)."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import exc, text

from importers.isolation import Limits, warm_up
from pilot import __version__, db
from pilot.api import errors_fr
from pilot.api.deps import SessionDep
from pilot.api.graphql.errors import REFUSED_VALUE
from pilot.api.graphql.router import graphql_router
from pilot.api.limits import BodySizeLimit
from pilot.api.observability import (
    RequestContext,
    configure_logging,
    metrics_allowed,
    render_metrics,
    schema_at_head,
)
from pilot.api.ratelimit import FailedAuthLimit, failure_limiter
from pilot.api.routes import draft as draft_routes
from pilot.api.routes import workbook as workbook_routes
from pilot.api.serving import BodyTimeout, ForwardedClient
from pilot.api.site import PublishedSite
from pilot.api.tokens import PrincipalCache
from pilot.api.turns import import_turns
from pilot.config import get_settings
from pilot.db import is_unavailable
from pilot.web import install as install_web

DATABASE_UNAVAILABLE = (
    "La base de données est momentanément indisponible. Réessayez dans quelques instants."
)
RETRY_AFTER_SECONDS = 30
SWITCH_INTERVAL_SECONDS = 0.001


def _unavailable() -> JSONResponse:
    return JSONResponse(
        {"detail": DATABASE_UNAVAILABLE},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[None]:
    """When the server starts: the objects built so far (modules, settings, the GraphQL
    schema) live as long as the process, so they are moved out of the garbage
    collector's reach (``gc.freeze``). A large response (a page of 1 000 projects)
    triggers full collections, which otherwise re-scan those ≈ 150 000 objects each
    time: about a fifth of the response time."""
    gc.collect()
    gc.freeze()
    # An import checks and writes in a worker thread, sharing the interpreter's lock with
    # the event loop: hand the lock over every millisecond (Python's default: 5 ms), so
    # that every other request waits for it at most that long.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    # the isolated reader's fork server, started now rather than by the first upload
    limits = Limits.from_settings(get_settings())
    threading.Thread(target=warm_up, args=(limits,), name="reader-warm-up", daemon=True).start()
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_json)
    engine = db.get_engine()
    app = FastAPI(
        lifespan=_serving,
        title="PILOT",
        version=__version__,
        debug=settings.debug,
        docs_url="/docs" if settings.debug else None,
        redoc_url=None,
    )

    # Shared by every worker through PostgreSQL; in this process on SQLite.
    limiter = failure_limiter(
        engine, settings.auth_max_failures, settings.auth_failure_window_seconds
    )
    app.state.auth_limiter = limiter
    app.state.import_turns = import_turns(
        engine, settings.import_max_concurrency, settings.import_wait_seconds
    )
    # Tokens this worker authenticated less than a second ago: GraphQL's look-up cache, and
    # the limiter's proof that a request carrying one is no guess.
    principals = PrincipalCache()
    app.add_middleware(
        FailedAuthLimit,
        limiter=limiter,
        unavailable=_unavailable,
        vouched=lambda value: principals.get(value) is not None,
    )
    errors_fr.install(app)

    @app.exception_handler(exc.DBAPIError)
    async def database_error(request: Request, error: exc.DBAPIError) -> JSONResponse:
        if is_unavailable(error):
            return _unavailable()
        if isinstance(error, exc.DataError):  # the request's value, not a bug: 422
            return JSONResponse(
                {"detail": [{"loc": ["request"], "msg": REFUSED_VALUE, "type": "value_error"}]},
                status_code=422,
            )
        raise error

    @app.get(
        "/healthz",
        response_model=None,
        responses={503: {"description": "Base de données injoignable (Retry-After)"}},
    )
    def healthz(session: SessionDep) -> dict[str, str] | JSONResponse:
        try:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except exc.DBAPIError as error:
            if not is_unavailable(error):
                raise
            return JSONResponse(
                {
                    "status": "indisponible",
                    "database": "injoignable",
                    "detail": DATABASE_UNAVAILABLE,
                },
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return {"status": "ok", "database": "ok", "version": __version__}

    @app.get(
        "/readyz",
        response_model=None,
        responses={503: {"description": "Pas prêt : base injoignable ou schéma pas à jour"}},
    )
    def readyz() -> dict[str, str] | JSONResponse:
        """Readiness for a load balancer: the database answers and its schema is at the
        migrations' head (``pilot db upgrade`` done)."""
        try:
            at_head = schema_at_head(engine)
        except exc.DBAPIError as error:
            if not is_unavailable(error):
                raise
            return JSONResponse(
                {"status": "indisponible", "database": "injoignable"},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if not at_head:
            return JSONResponse(
                {
                    "status": "indisponible",
                    "database": "ok",
                    "schema": "à migrer (pilot db upgrade)",
                },
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return {"status": "ok", "database": "ok", "schema": "ok", "version": __version__}

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> PlainTextResponse:
        client = request.client.host if request.client else None
        if not metrics_allowed(client, settings.metrics_allowed_networks):
            return PlainTextResponse("Not Found", status_code=404)
        return PlainTextResponse(render_metrics(engine), media_type=CONTENT_TYPE_LATEST)

    app.include_router(graphql_router(settings, principals), prefix="/graphql")
    app.include_router(workbook_routes.router)
    app.include_router(draft_routes.router)  # before the public mount: DINUM only
    install_web(app, settings)  # the web spaces: pages, login, sessions (pilot/web)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    # Added last, so run first: the body's deadline covers BodySizeLimit's reading, and the
    # client address is settled before the failed-authentication limit counts it.
    app.add_middleware(BodyTimeout, seconds=settings.body_timeout_seconds)
    app.add_middleware(ForwardedClient, trusted=settings.trusted_proxy_networks)
    # Outermost: the request id (from a trusted proxy's X-Request-Id, else new), the
    # access line and the HTTP metrics cover everything below.
    app.add_middleware(RequestContext, trusted=settings.trusted_proxy_networks)
    app.mount("/panorama", PublishedSite(settings.site_path))
    return app

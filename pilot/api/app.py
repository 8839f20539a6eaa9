"""The FastAPI application: ``/healthz`` and GraphQL at ``/graphql``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from pilot import __version__
from pilot.api.deps import SessionDep
from pilot.api.graphql.router import graphql_router
from pilot.config import get_settings


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="PILOT",
        version=__version__,
        debug=settings.debug,
        docs_url="/docs" if settings.debug else None,
        redoc_url=None,
    )

    @app.get("/healthz")
    def healthz(session: SessionDep) -> dict[str, str]:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        return {"status": "ok", "version": __version__}

    app.include_router(graphql_router(settings), prefix="/graphql")
    app.mount("/panorama", StaticFiles(directory=settings.site_path, html=True, check_dir=False))
    return app

"""PILOT's web spaces: server-rendered pages in French with the State's design system
(DSFR), for the two working users, with login through ProConnect.

- ``/``, ``/connexion``, ``/connexion/retour``, ``/deconnexion``: logging in and out
  (routes/login.py, oidc.py; the demo's login: demo.py);
- ``/espace/``: a ministry's space (routes/ministry.py);
- ``/pilotage/``: DINUM's space (routes/dinum.py);
- ``/administration/``: accounts and API tokens (routes/admin.py).

Sessions and CSRF: session.py. Bearer tokens remain the way in for machine clients
(GraphQL, ``/workbook``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from pilot.config import Settings
from pilot.web.pages import render
from pilot.web.routes import admin, dinum, login, ministry
from pilot.web.session import SESSION_COOKIE, LoginRequired, PageError, session_secret

ROOT = Path(__file__).resolve().parent.parent.parent
DSFR_DIST = ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
STATIC = Path(__file__).resolve().parent / "static"


def install(app: FastAPI, settings: Settings) -> None:
    """Add the web spaces to ``app``: session cookies, pages, their static files."""

    async def login_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, LoginRequired)
        return RedirectResponse(f"/?suivant={quote(error.path)}", status_code=303)

    async def page_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, PageError)
        return render(
            request,
            "error.html.j2",
            user=None,
            status_code=error.status,
            title=error.title,
            message=error.message,
        )

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageError, page_error)
    for module in (login, ministry, dinum, admin):
        app.include_router(module.router)
    app.mount("/static/dsfr", StaticFiles(directory=DSFR_DIST, check_dir=False), name="dsfr")
    app.mount("/static/pilot", StaticFiles(directory=STATIC), name="pilot-static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_lifetime_seconds,
        same_site="lax",
        https_only=settings.public_url.startswith("https://"),
    )

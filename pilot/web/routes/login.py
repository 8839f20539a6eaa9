"""Logging in and out: ProConnect (``/connexion``, ``/connexion/retour``, ``/deconnexion``),
and the demo's login (``/connexion/demo``, see pilot/web/demo.py)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pilot.auth import accounts
from pilot.config import get_settings
from pilot.db import session_scope
from pilot.web import oidc
from pilot.web.demo import demo_login_allowed
from pilot.web.pages import render
from pilot.web.session import (
    ID_TOKEN,
    NEXT,
    CsrfChecked,
    OptionalUser,
    PageError,
    safe_next,
    start_session,
)

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _url(request: Request, path: str) -> str:
    """An absolute URL of this site: from ``PILOT_PUBLIC_URL``, else the request's own."""
    base = get_settings().public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return base + path


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: OptionalUser) -> Response:
    if user is not None:
        return RedirectResponse(user.home, status_code=303)
    settings = get_settings()
    return render(
        request,
        "home.html.j2",
        user=None,
        proconnect=oidc.configured(settings),
        suivant=safe_next(request.query_params.get("suivant")),
        demo=demo_login_allowed(request, settings),
    )


@router.get("/connexion")
async def login(request: Request, suivant: str | None = None) -> Response:
    settings = get_settings()
    target = safe_next(suivant)
    if not oidc.configured(settings):
        if demo_login_allowed(request, settings):
            return RedirectResponse("/connexion/demo", status_code=303)
        raise PageError(
            503,
            "Connexion indisponible",
            "La connexion avec ProConnect n'est pas encore configurée sur ce serveur. "
            "Prévenez l'équipe PILOT de la DINUM.",
        )
    request.session.pop(NEXT, None)
    if target:
        request.session[NEXT] = target
    try:
        return await oidc.client_for(settings).login_redirect(
            request, _url(request, "/connexion/retour")
        )
    except Exception as error:
        log.exception("OpenID Connect discovery failed")
        raise PageError(
            503,
            "ProConnect injoignable",
            "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes.",
        ) from error


@router.get("/connexion/retour")
async def login_callback(request: Request) -> Response:
    settings = get_settings()
    if not oidc.configured(settings):
        raise PageError(404, "Page introuvable", "Cette page n'existe pas.")
    try:
        identity = await oidc.client_for(settings).finish_login(request)
    except oidc.LoginFailed as error:
        log.warning("login refused: %s", error)
        raise PageError(
            400,
            "La connexion n'a pas abouti",
            "La réponse de ProConnect n'a pas pu être vérifiée (lien trop ancien, ou "
            "connexion commencée dans un autre onglet). Recommencez depuis la page "
            "d'accueil.",
        ) from error
    target = safe_next(request.session.get(NEXT))
    account = await run_in_threadpool(_login, identity.email, identity.name)
    if account is None:
        request.session.clear()
        return render(
            request, "unknown_account.html.j2", user=None, status_code=403, email=identity.email
        )
    start_session(request, account, id_token=identity.id_token)
    return RedirectResponse(target or _home_of(account.role), status_code=303)


def _login(email: str, name: str | None) -> accounts.Account | None:
    with session_scope(write=True) as session:
        return accounts.login(session, email, name=name)


def _home_of(role: str) -> str:
    return {"ministry": "/espace/", "admin": "/administration/"}.get(role, "/pilotage/")


@router.post("/deconnexion", dependencies=[CsrfChecked])
async def logout(request: Request) -> Response:
    settings = get_settings()
    id_token = request.session.get(ID_TOKEN)
    request.session.clear()
    if id_token and oidc.configured(settings):
        try:
            redirect = await oidc.client_for(settings).logout_redirect(
                request,
                id_token=id_token,
                post_logout_redirect_uri=_url(request, "/deconnexion"),
            )
        except Exception:
            log.exception("could not end the session at the provider")
            redirect = None
        if redirect is not None:
            return redirect
    return RedirectResponse("/deconnexion", status_code=303)


@router.get("/deconnexion", response_class=HTMLResponse)
def logged_out(request: Request) -> Response:
    """Where the provider sends the browser back after the logout."""
    request.session.clear()
    return render(request, "logged_out.html.j2", user=None)


# --- The demo's login -----------------------------------------------------------------------


def _demo_or_404(request: Request) -> None:
    if not demo_login_allowed(request, get_settings()):
        raise PageError(404, "Page introuvable", "Cette page n'existe pas.")


def _demo_accounts() -> list[accounts.Account]:
    with session_scope() as session:
        return [a for a in accounts.list_accounts(session) if not a.disabled]


@router.get("/connexion/demo", response_class=HTMLResponse)
def demo_login_page(request: Request) -> Response:
    _demo_or_404(request)
    return render(request, "demo_login.html.j2", user=None, accounts=_demo_accounts())


@router.post("/connexion/demo", dependencies=[CsrfChecked])
def demo_login(request: Request, email: Annotated[str, Form()] = "") -> Response:
    _demo_or_404(request)
    account = _login(email, None)
    if account is None:
        raise PageError(403, "Compte inconnu", "Ce compte n'existe pas ou a été désactivé.")
    start_session(request, account, id_token=None)
    return RedirectResponse(_home_of(account.role), status_code=303)

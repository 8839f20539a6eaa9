"""The admin's pages, ``/administration/``: web accounts and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from pilot.api.deps import SessionDep
from pilot.auth import accounts
from pilot.auth import service as tokens
from pilot.auth.models import Account, Role
from pilot.db import session_scope
from pilot.keys import MAX_KEY
from pilot.ministries import service as ministries
from pilot.ministries.models import Ministry
from pilot.web.pages import render
from pilot.web.session import AdminUser, CsrfChecked, PageError

router = APIRouter(prefix="/administration", include_in_schema=False)


def _role(value: str) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = Role.PUBLIC
    if role == Role.PUBLIC:
        raise PageError(400, "Rôle inconnu", "Choisissez le rôle : ministère, DINUM ou admin.")
    return role


def _ministry(session: Session, role: Role, code: str) -> Ministry | None:
    if role != Role.MINISTRY:
        return None
    found = ministries.get_by_code(session, code) if code.strip() else None
    if found is None:
        raise PageError(400, "Ministère inconnu", "Choisissez le ministère de ce compte.")
    return found


def _codes(session: Session) -> dict[int, str]:
    return {i: c for i, c in session.exec(select(Ministry.id, Ministry.code)).all() if i}


@router.get("/", response_class=HTMLResponse)
def accounts_page(request: Request, session: SessionDep, user: AdminUser) -> Response:
    return render(
        request,
        "admin/accounts.html.j2",
        user=user,
        accounts=accounts.list_accounts(session),
        codes=_codes(session),
        ministries=ministries.list_ministries(session),
        message=request.query_params.get("fait"),
    )


@router.post("/comptes", dependencies=[CsrfChecked])
def create_account(
    user: AdminUser,
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    ministere: Annotated[str, Form()] = "",
) -> Response:
    chosen = _role(role)
    with session_scope(write=True) as session:
        try:
            accounts.create_account(
                session,
                email=email,
                role=chosen,
                ministry=_ministry(session, chosen, ministere),
                actor=user.email,
            )
        except accounts.AccountError as error:
            raise PageError(400, "Compte non créé", str(error)) from error
    return RedirectResponse("/administration/?fait=cree", status_code=303)


@router.post("/comptes/{account_id}/etat", dependencies=[CsrfChecked])
def set_account_state(
    account_id: int, user: AdminUser, actif: Annotated[str, Form()] = ""
) -> Response:
    with session_scope(write=True) as session:
        account = session.get(Account, account_id) if 0 < account_id <= MAX_KEY else None
        if account is None:
            raise PageError(404, "Compte introuvable", "Ce compte n'existe pas.")
        if account.id == user.account_id and actif != "oui":
            raise PageError(400, "Action refusée", "Vous ne pouvez pas désactiver votre compte.")
        accounts.set_disabled(session, account, disabled=actif != "oui", actor=user.email)
    return RedirectResponse("/administration/?fait=modifie", status_code=303)


def _tokens_page(
    request: Request, session: Session, user: AdminUser, created: str | None
) -> Response:
    """The tokens' page; ``created``: the value of the token just created, shown once."""
    return render(
        request,
        "admin/tokens.html.j2",
        user=user,
        tokens=tokens.list_tokens(session),
        codes=_codes(session),
        ministries=ministries.list_ministries(session),
        created=created,
    )


@router.get("/jetons", response_class=HTMLResponse)
def tokens_page(request: Request, session: SessionDep, user: AdminUser) -> Response:
    return _tokens_page(request, session, user, None)


@router.post("/jetons", dependencies=[CsrfChecked])
def create_token(
    request: Request,
    user: AdminUser,
    nom: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    ministere: Annotated[str, Form()] = "",
    expiration: Annotated[str, Form()] = "",
) -> Response:
    """Create a token and show its value once, on this response only (never stored)."""
    chosen = _role(role)
    if not nom.strip():
        raise PageError(400, "Nom manquant", "Indiquez qui ou quel programme utilisera ce jeton.")
    try:
        expires = (
            datetime.combine(datetime.strptime(expiration, "%Y-%m-%d").date(), time(), UTC)
            if expiration
            else None
        )
    except ValueError as error:
        raise PageError(400, "Date invalide", "La date d'expiration est invalide.") from error
    with session_scope(write=True) as session:
        _, plaintext = tokens.create_token(
            session,
            actor=user.email,
            name=nom.strip()[:200],
            role=chosen,
            ministry=_ministry(session, chosen, ministere),
            expires_at=expires,
        )
    with session_scope() as session:
        return _tokens_page(request, session, user, plaintext)


@router.post("/jetons/{token_id}/revoquer", dependencies=[CsrfChecked])
def revoke_token(token_id: int, user: AdminUser) -> Response:
    with session_scope(write=True) as session:
        if (
            not 0 < token_id <= MAX_KEY
            or tokens.revoke_token(session, token_id, actor=user.email) is None
        ):
            raise PageError(404, "Jeton introuvable", "Ce jeton n'existe pas.")
    return RedirectResponse("/administration/jetons", status_code=303)

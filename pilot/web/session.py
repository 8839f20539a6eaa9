"""Web sessions: who is logged in, for how long, and the CSRF token of their forms.

A session is a signed cookie (Starlette's ``SessionMiddleware``, itsdangerous): HttpOnly,
SameSite=Lax, Secure when PILOT is reached over HTTPS (``PILOT_PUBLIC_URL``). It holds the
account's id, the time of the login, the CSRF token and the ID token (the hint the
provider asks for at logout). Its lifetime is fixed: ``session_lifetime_seconds`` after
the login, whatever the activity. The account is read again on every request, so that a
disabled account, or a changed role, takes effect at once.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from sqlmodel import Session

from pilot.api.deps import SessionDep
from pilot.auth.accounts import principal_of
from pilot.auth.models import Account, Role
from pilot.auth.service import Principal
from pilot.config import Settings, get_settings
from pilot.ministries.models import Ministry

SESSION_COOKIE = "pilot_session"
ACCOUNT = "account_id"
LOGIN_AT = "login_at"
CSRF = "csrf"
ID_TOKEN = "id_token"
NEXT = "next"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid session: the person is sent to the login page (then back here)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class PageError(Exception):
    """A refusal shown as a French page (never JSON) with its HTTP status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass(frozen=True)
class WebUser:
    """The logged-in person, as read from their account on this request."""

    account_id: int
    email: str
    name: str | None
    role: Role
    ministry_id: int | None
    ministry_code: str | None
    ministry_name: str | None

    @property
    def principal(self) -> Principal:
        return Principal(role=self.role, ministry_id=self.ministry_id, name=self.email)

    @property
    def label(self) -> str:
        return self.name or self.email

    @property
    def is_dinum(self) -> bool:
        return self.role in (Role.DINUM, Role.ADMIN)

    @property
    def home(self) -> str:
        """Where this person lands after logging in."""
        if self.role == Role.MINISTRY:
            return "/espace/"
        return "/administration/" if self.role == Role.ADMIN else "/pilotage/"


def session_secret(settings: Settings) -> str:
    """``PILOT_SESSION_SECRET``, or a random secret made once and kept (0600) under
    ``var_dir`` for the embedded default. Several workers or hosts must share one: set it."""
    if settings.session_secret:
        return settings.session_secret
    path = Path(settings.var_dir) / "session-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it meanwhile
            pass
        else:
            with os.fdopen(fd, "w") as stream:
                stream.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def start_session(request: Request, account: Account, *, id_token: str | None) -> None:
    """A new session for ``account`` (any previous content dropped, new CSRF token)."""
    request.session.clear()
    request.session.update(
        {
            ACCOUNT: account.id,
            LOGIN_AT: int(time.time()),
            CSRF: secrets.token_urlsafe(32),
            **({ID_TOKEN: id_token} if id_token else {}),
        }
    )


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made when the session has none yet (a login form)."""
    token = request.session.get(CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF] = token
    return token


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Every POST form carries the session's token in ``csrf_token``; otherwise refused."""
    expected = request.session.get(CSRF)
    if not (
        isinstance(expected, str)
        and expected
        and hmac.compare_digest(expected.encode(), csrf_token.encode())
    ):
        raise PageError(
            403,
            "Formulaire expiré",
            "Ce formulaire n'est plus valable (session expirée ou page trop ancienne). "
            "Rechargez la page, puis recommencez.",
        )


CsrfChecked = Depends(check_csrf)


def _expired(data: dict[str, Any], settings: Settings) -> bool:
    login_at = data.get(LOGIN_AT)
    if not isinstance(login_at, int):
        return True
    age = time.time() - login_at
    return age > settings.session_lifetime_seconds or age < -60


def read_user(request: Request, session: Session) -> WebUser | None:
    """The logged-in person, or ``None`` (an expired session, or one whose account was
    disabled or removed, is emptied)."""
    data = request.session
    account_id = data.get(ACCOUNT)
    if account_id is None:
        return None
    account = session.get(Account, account_id) if isinstance(account_id, int) else None
    if account is None or account.disabled or _expired(data, get_settings()):
        data.clear()
        return None
    ministry = session.get(Ministry, account.ministry_id) if account.ministry_id else None
    assert account.id is not None
    return WebUser(
        account_id=account.id,
        email=account.email,
        name=account.name,
        role=principal_of(account).role,
        ministry_id=account.ministry_id,
        ministry_code=ministry.code if ministry else None,
        ministry_name=ministry.name if ministry else None,
    )


def optional_user(request: Request, session: SessionDep) -> WebUser | None:
    return read_user(request, session)


def _required(request: Request, session: Session) -> WebUser:
    user = read_user(request, session)
    if user is None:
        path = request.url.path
        if request.url.query and request.method == "GET":
            path += "?" + request.url.query
        raise LoginRequired(path if request.method == "GET" else "/")
    return user


def any_user(request: Request, session: SessionDep) -> WebUser:
    return _required(request, session)


def ministry_user(request: Request, session: SessionDep) -> WebUser:
    user = _required(request, session)
    if user.role != Role.MINISTRY or user.ministry_id is None:
        raise PageError(
            403,
            "Espace réservé aux ministères",
            "Cet espace est celui des ministères. Votre compte ouvre un autre espace.",
        )
    return user


def dinum_user(request: Request, session: SessionDep) -> WebUser:
    user = _required(request, session)
    if not user.is_dinum:
        raise PageError(
            403,
            "Espace réservé à la DINUM",
            "Cet espace est celui de la DINUM. Votre compte ouvre l'espace de votre ministère.",
        )
    return user


def admin_user(request: Request, session: SessionDep) -> WebUser:
    user = _required(request, session)
    if user.role != Role.ADMIN:
        raise PageError(
            403,
            "Espace réservé aux administrateurs",
            "Seul un compte administrateur gère les comptes et les jetons.",
        )
    return user


AnyUser = Annotated[WebUser, Depends(any_user)]
OptionalUser = Annotated[WebUser | None, Depends(optional_user)]
MinistryUser = Annotated[WebUser, Depends(ministry_user)]
DinumUser = Annotated[WebUser, Depends(dinum_user)]
AdminUser = Annotated[WebUser, Depends(admin_user)]


def safe_next(path: object) -> str | None:
    """A path on this site to come back to after the login; anything else is dropped."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return None
    if "\\" in path or any(ord(c) < 32 for c in path):
        return None
    return path

"""Tokens: created once (the plaintext is shown once), stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from pilot.audit import service as audit
from pilot.auth.models import Role, Token
from pilot.ministries.models import Ministry
from pilot.timeutil import utcnow

TOKEN_PREFIX = "pilot_"


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is asking: a role, and for a ministry token, its ministry."""

    role: Role
    ministry_id: int | None = None
    token_id: int | None = None
    name: str = "public"

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}" if self.token_id else self.name


PUBLIC = Principal(role=Role.PUBLIC)


def create_token(
    session: Session,
    *,
    actor: str,
    name: str,
    role: Role,
    ministry: Ministry | None = None,
    expires_at: datetime | None = None,
) -> tuple[Token, str]:
    if role == Role.PUBLIC:
        raise ValueError("Le rôle public n'a pas de jeton.")
    if role == Role.MINISTRY and ministry is None:
        raise ValueError("Un jeton ministériel doit désigner un ministère.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = Token(
        name=name,
        role=role.value,
        ministry_id=ministry.id if role == Role.MINISTRY and ministry else None,
        token_hash=hash_token(plaintext),
        prefix=plaintext[:12],
        expires_at=expires_at,
    )
    session.add(token)
    audit.record(
        session,
        actor=actor,
        action="create",
        obj=token,
        project_id=None,
        new=f"{name} ({role.value})",
    )
    return token, plaintext


def list_tokens(session: Session) -> list[Token]:
    return list(session.exec(select(Token).order_by(col(Token.id))))


def revoke_token(session: Session, token_id: int, *, actor: str) -> Token | None:
    """Revoke a token (audited); None when there is no such token."""
    token = session.get(Token, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor=actor, action="revoke", obj=token, project_id=None)
    return token


def authenticate(session: Session, plaintext: str) -> Principal | None:
    """The principal for a bearer token, or None when unknown, revoked or expired."""
    digest = hash_token(plaintext)
    token = session.exec(select(Token).where(Token.token_hash == digest)).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = utcnow()
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None:
        expires = (
            token.expires_at
            if token.expires_at.tzinfo
            else token.expires_at.replace(tzinfo=now.tzinfo)
        )
        if expires <= now:
            return None
    return Principal(
        role=Role(token.role), ministry_id=token.ministry_id, token_id=token.id, name=token.name
    )

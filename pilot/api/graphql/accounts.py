"""Who is asking (`me`), tokens and ministries (admin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import strawberry
from sqlmodel import Session
from strawberry.types import Info

from pilot.api.graphql import permissions
from pilot.api.graphql.context import ctx
from pilot.api.graphql.errors import BadUserInput, NotFound, user_input
from pilot.api.graphql.permissions import Action
from pilot.api.graphql.types import MinistryType
from pilot.audit import service as audit
from pilot.auth import service as auth
from pilot.auth.models import Role, Token
from pilot.ministries import service as ministries
from pilot.ministries.models import Ministry

RoleEnum = strawberry.enum(Role, name="Role")


@strawberry.type(name="Me", description=permissions.public("Who is asking"))
class MeType:
    role: RoleEnum  # type: ignore[valid-type]
    name: str
    token_id: int | None
    ministry: MinistryType | None


@strawberry.type(name="Token")
class TokenType:
    id: int
    name: str
    role: RoleEnum  # type: ignore[valid-type]
    ministry_id: int | None
    prefix: str = strawberry.field(description="The first characters, to recognise it")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_model(cls, t: Token) -> TokenType:
        assert t.id is not None
        return cls(
            id=t.id,
            name=t.name,
            role=Role(t.role),
            ministry_id=t.ministry_id,
            prefix=t.prefix,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
            last_used_at=t.last_used_at,
        )


@strawberry.type(name="CreatedToken")
class CreatedTokenType:
    token: TokenType
    plaintext: str = strawberry.field(description="Shown once: only its SHA-256 is stored")


@strawberry.type
class AccountQuery:
    @strawberry.field(
        description=permissions.public("Who the bearer token is (public without one).")
    )
    def me(self, info: Info) -> MeType:
        c = ctx(info)
        p = c.principal
        m = c.session.get(Ministry, p.ministry_id) if p.ministry_id else None
        return MeType(
            role=p.role,
            name=p.name,
            token_id=p.token_id,
            ministry=MinistryType.from_model(m) if m else None,
        )

    @strawberry.field(description="Every ministry, by code (needs a token).")
    def ministries(self, info: Info) -> list[MinistryType]:
        c = ctx(info)
        permissions.require(c.principal, Action.READ_PROJECT)
        return [MinistryType.from_model(m) for m in ministries.list_ministries(c.session)]

    @strawberry.field(description="API tokens, never their value (admin).")
    def tokens(self, info: Info) -> list[TokenType]:
        c = ctx(info)
        permissions.require(c.principal, Action.ADMINISTER)
        return [TokenType.from_model(t) for t in auth.list_tokens(c.session)]


def _ministry(session: Session, code: str | None) -> Ministry | None:
    if code is None:
        return None
    m = ministries.get_by_code(session, code)
    if m is None:
        raise BadUserInput(f"Ministère inconnu : « {code} ».")
    return m


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="Create a token (admin); its value is returned once.")
    def create_token(
        self,
        info: Info,
        name: str,
        role: RoleEnum,  # type: ignore[valid-type]
        ministry: str | None = None,
        expires_on: date | None = None,
    ) -> CreatedTokenType:
        c = ctx(info)
        permissions.require(c.principal, Action.ADMINISTER)
        if not name.strip():
            raise BadUserInput("Le nom du jeton est obligatoire.")
        with c.write() as session, user_input():
            token, plaintext = auth.create_token(
                session,
                actor=c.principal.actor,
                name=name.strip(),
                role=Role(role),
                ministry=_ministry(session, ministry),
                expires_at=datetime.combine(expires_on, time(), tzinfo=UTC) if expires_on else None,
            )
            return CreatedTokenType(token=TokenType.from_model(token), plaintext=plaintext)

    @strawberry.mutation(description="Revoke a token at once (admin).")
    def revoke_token(self, info: Info, id: int) -> TokenType:
        c = ctx(info)
        permissions.require(c.principal, Action.ADMINISTER)
        with c.write() as session:
            token = auth.revoke_token(session, id, actor=c.principal.actor)
            if token is None:
                raise NotFound(f"Aucun jeton {id}.")
            return TokenType.from_model(token)

    @strawberry.mutation(description="Create a ministry (admin).")
    def create_ministry(self, info: Info, code: str, name: str) -> MinistryType:
        c = ctx(info)
        permissions.require(c.principal, Action.ADMINISTER)
        with c.write() as session, user_input():
            if ministries.get_by_code(session, code) is not None:
                raise BadUserInput(f"Le ministère « {code} » existe déjà.")
            m = ministries.create_ministry(session, code, name)
            audit.record(
                session, actor=c.principal.actor, action="create", obj=m, project_id=None, new=code
            )
            return MinistryType.from_model(m)

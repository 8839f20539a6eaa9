"""FastAPI dependencies: a database session per request, and who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException
from sqlmodel import Session

from pilot import db
from pilot.auth import service as auth
from pilot.auth.service import PUBLIC, Principal


def get_session() -> Iterator[Session]:
    """A read session; services that write open their own write transaction."""
    with Session(db.get_engine(), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def principal_from_header(session: Session, authorization: str | None) -> Principal:
    """The principal of an ``Authorization: Bearer …`` header; public without one."""
    if not authorization:
        return PUBLIC
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise HTTPException(status_code=401, detail="En-tête Authorization invalide.")
    principal = auth.authenticate(session, value.strip())
    if principal is None:
        raise HTTPException(status_code=401, detail="Jeton inconnu, révoqué ou expiré.")
    return principal


def get_principal(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    principal = principal_from_header(session, authorization)
    # End the look-up's read transaction: its connection goes back to the pool while the
    # request waits (for a worker thread, an import turn); the route takes one again if it
    # reads. Held, fifty uploads waiting for threads kept every connection from the
    # threads that waited for one.
    session.rollback()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

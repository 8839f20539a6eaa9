from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime
from sqlmodel import Field, SQLModel

from pilot.timeutil import utcnow


class Role(StrEnum):
    PUBLIC = "public"
    MINISTRY = "ministry"
    DINUM = "dinum"
    ADMIN = "admin"


class Token(SQLModel, table=True):
    """An API token. Only its SHA-256 is stored; ``prefix`` helps people recognise it."""

    __table_args__ = (
        CheckConstraint("role IN ('ministry', 'dinum', 'admin')", name="role"),
        CheckConstraint("role <> 'ministry' OR ministry_id IS NOT NULL", name="ministry_scope"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    ministry_id: int | None = Field(default=None, foreign_key="ministry.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class Account(SQLModel, table=True):
    """A person who logs in on the web (ProConnect): the ``email`` claim names the account.

    The e-mail is stored lower-case (``email`` is unique); a ministry account acts for its
    ministry only. A disabled account cannot log in, and its open sessions end at their
    next request."""

    __table_args__ = (
        CheckConstraint("role IN ('ministry', 'dinum', 'admin')", name="role"),
        CheckConstraint("role <> 'ministry' OR ministry_id IS NOT NULL", name="ministry_scope"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str | None = Field(default=None, max_length=200)  # given_name usual_name, at login
    role: str = Field(max_length=20)
    ministry_id: int | None = Field(default=None, foreign_key="ministry.id", index=True)
    disabled: bool = False
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    last_login_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

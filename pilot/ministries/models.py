from __future__ import annotations

from sqlmodel import Field, SQLModel


class Ministry(SQLModel, table=True):
    """A ministry as PILOT knows it today (current code and full name)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=300)


class MinistryAlias(SQLModel, table=True):
    """A former code or name that designates a current ministry (MINDEF → MAr).

    ``key`` is the normalised form (see ``pilot.text.normalize_key``) used for lookups.
    """

    __tablename__ = "ministry_alias"

    id: int | None = Field(default=None, primary_key=True)
    ministry_id: int = Field(foreign_key="ministry.id", index=True)
    alias: str = Field(max_length=300)
    key: str = Field(max_length=300, unique=True)

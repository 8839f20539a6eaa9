from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from pilot.timeutil import utcnow


class Edition(SQLModel, table=True):
    """A frozen copy of the panorama at a date. A published edition never changes.

    ``number_pinned`` says the number was given explicitly; unpinned editions are
    numbered 1, 2, … in the order of their dates.
    ``figures`` holds the key figures as published (JSON, decimals as strings).
    """

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published')", name="status"),
        CheckConstraint("source IN ('open-data', 'publish')", name="source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    number_pinned: bool = False
    published_on: date = Field(index=True)
    title: str = Field(max_length=300)
    status: str = Field(default="published", max_length=20)
    source: str = Field(max_length=20)
    source_filename: str | None = Field(default=None, max_length=500)
    source_sha256: str | None = Field(default=None, max_length=64, unique=True)
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class EditionRow(SQLModel, table=True):
    """One project as an edition shows it, frozen: ``data`` keeps the published columns
    (the 15 historical ones, raw) and ``values`` the parsed figures PILOT computed on."""

    __tablename__ = "edition_row"
    __table_args__ = (
        UniqueConstraint("edition_id", "position", name="uq_edition_row_edition_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    position: int
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

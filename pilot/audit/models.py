from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel

from pilot.timeutil import utcnow


class AuditEvent(SQLModel, table=True):
    """One change: who changed which field of what, from which value to which.

    Only ``project_id`` is indexed: it is how the events are read (a project's audit
    trail). An import writes one event per record it creates or field it changes, so an
    index that no query uses is pure cost (migration 0002 dropped those on
    ``(entity, entity_id)`` and ``import_id``): add one with the query that needs it."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    actor: str = Field(max_length=200)
    action: str = Field(max_length=20)  # create, update, delete
    entity: str = Field(max_length=50)  # table name
    entity_id: int
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    field: str | None = Field(default=None, max_length=100)
    old_value: str | None = Field(default=None, sa_type=Text)
    new_value: str | None = Field(default=None, sa_type=Text)
    import_id: int | None = Field(default=None, foreign_key="import_file.id")

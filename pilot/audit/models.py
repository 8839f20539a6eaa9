from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from pilot.timeutil import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

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
    import_id: int | None = Field(default=None, foreign_key="import_file.id", index=True)

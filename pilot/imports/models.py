from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from pilot.timeutil import utcnow


class ImportStatus(StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    REJECTED = "rejected"
    APPLIED = "applied"
    FAILED = "failed"
    DUPLICATE = "duplicate"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class ImportFile(SQLModel, table=True):
    """A file received by PILOT (upload, inbox, CLI), stored unchanged under ``stored_path``.

    Status: received → validated or rejected → applied or failed; ``duplicate`` when the
    same bytes (SHA-256) were already applied for the same ministry.
    """

    __tablename__ = "import_file"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'validated', 'rejected', 'applied', 'failed', 'duplicate')",
            name="status",
        ),
        CheckConstraint("kind IN ('workbook', 'panorama')", name="kind"),
        Index("ix_import_file_ministry_sha256", "ministry_id", "sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="workbook", max_length=20)
    ministry_id: int | None = Field(default=None, foreign_key="ministry.id", index=True)
    filename: str = Field(max_length=500)
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int
    stored_path: str = Field(max_length=1000)
    submitted_by: str = Field(max_length=200)  # "cli", "inbox", "token:<id>"
    channel: str = Field(default="cli", max_length=20)
    dry_run: bool = False
    status: str = Field(default=ImportStatus.RECEIVED.value, max_length=20)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message: str | None = Field(default=None, sa_type=Text)
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class Finding(SQLModel, table=True):
    """One problem found in a file: where (sheet, row, column letter), what, how to fix it."""

    __table_args__ = (CheckConstraint("severity IN ('error', 'warning')", name="severity"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="import_file.id", index=True)
    sheet: str | None = Field(default=None, max_length=100)
    row: int | None = None
    column: str | None = Field(default=None, max_length=10)
    field: str | None = Field(default=None, max_length=100)
    value: str | None = Field(default=None, sa_type=Text)
    code: str = Field(max_length=60)
    message: str = Field(sa_type=Text)
    severity: str = Field(max_length=10)

"""The job queue: work to do after a transaction commits, durable and run once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from pilot.timeutil import utcnow


class Job(SQLModel, table=True):
    """One piece of work of a ``kind`` (a handler of ``pilot.jobs.service.HANDLERS``).

    Enqueued in the transaction of what asks for it (committed with it, rolled back with
    it), run later by ``pilot.jobs.service.run_due``. ``key`` is unique: the same work
    enqueued twice is one job. ``attempts``, ``last_error`` and ``done_at`` are its log; a
    failed attempt is retried at ``next_attempt_at`` (growing backoff), never dropped.
    While it runs, ``next_attempt_at`` is its claim's expiry: a runner that died leaves it
    to be taken again once the claim expired.
    """

    __table_args__ = (Index("ix_job_pending", "done_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=50)
    key: str = Field(max_length=300, unique=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    done_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

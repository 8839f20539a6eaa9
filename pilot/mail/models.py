"""The outbox: every message to send (e-mail or webhook), with its delivery log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from pilot.timeutil import utcnow


class OutboxMessage(SQLModel, table=True):
    """One message to one recipient (an address, or a webhook URL).

    Enqueued in the caller's transaction, delivered later (``pilot.mail.service.deliver``):
    ``attempts``, ``last_error`` and ``sent_at`` are its delivery log; a failed attempt is
    retried at ``next_attempt_at`` (growing backoff), never dropped. ``key`` is unique: the
    same event enqueued twice is one message.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'webhook')", name="channel"),
        Index("ix_outbox_message_pending", "sent_at", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    channel: str = Field(max_length=10)
    recipient: str = Field(max_length=1000)
    subject: str = Field(default="", max_length=300)
    body_text: str = Field(sa_type=Text)  # e-mail text, or the webhook's JSON body
    body_html: str | None = Field(default=None, sa_type=Text)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

"""Clock helpers: one place to ask for "now" and "today" (UTC, timezone-aware)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return utcnow().date()

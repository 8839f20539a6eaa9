"""Clock helpers: one place to ask for "now" and "today" (UTC, timezone-aware)."""

from __future__ import annotations

from datetime import UTC, date, datetime

# The years PILOT accepts for a date it is given (a workbook's, an edition's publication):
# outside, a date is a typing error (and would overflow charts and open-data archives).
MIN_YEAR, MAX_YEAR = 1990, 2100


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return utcnow().date()

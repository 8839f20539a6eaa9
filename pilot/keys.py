"""Primary keys typed by people (URLs, GraphQL IDs)."""

from __future__ import annotations

MAX_KEY = 2**31 - 1  # integer primary keys: PostgreSQL INTEGER (SQLite keys fit too)


def parse_key(value: object) -> int | None:
    """A primary key typed by someone (``"42"``): ASCII digits within 1..``MAX_KEY``, else
    None. ``"²"``, ``"1_0"``, ``"-1"`` and 30 digits are no key: looking them up would
    raise (ValueError, OverflowError, PostgreSQL "out of range") instead of finding
    nothing."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_KEY else None

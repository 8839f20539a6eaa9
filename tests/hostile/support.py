"""Helpers of the hostile-input tests (the corpus cases, "database unchanged")."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from pilot.db import metadata
from tests.hostile import corpus

CASES = corpus.cases()


def matches(message: str, fragment: str) -> bool:
    return fragment.casefold() in message.casefold()


def table_counts(engine: Engine) -> dict[str, int]:
    """The number of rows of every table: what "the database is unchanged" checks."""
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }

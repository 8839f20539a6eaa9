"""History is never rewritten: the database session refuses to update or delete a
baseline (initial or not), a report, an edition row, an opinion's event or a
recommendation's event, or a published edition (only its number label may change).

Registered once, on every SQLModel session, when ``pilot.models`` is imported.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession

from pilot.editions.models import Edition, EditionRow
from pilot.opinions.models import OpinionEvent, RecommendationEvent
from pilot.projects.models import Baseline, Report


class HistoryIsImmutable(Exception):
    """Raised when code tries to rewrite history (a programming error, never user input)."""


def _persisted_status(obj: Edition) -> str | None:
    history = inspect(obj).attrs.status.history
    previous = history.deleted or history.unchanged
    return previous[0] if previous else None


def _is_frozen(obj: Any, deleting: bool) -> bool:
    if isinstance(obj, Baseline | Report | EditionRow | OpinionEvent | RecommendationEvent):
        return True
    if isinstance(obj, Edition) and _persisted_status(obj) == "published":
        if deleting:
            return True
        changed = {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}
        return bool(changed - {"number"})  # editions may be renumbered, nothing more
    return False


@event.listens_for(OrmSession, "before_flush")
def _refuse_history_rewrites(session: OrmSession, _context: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False) and _is_frozen(obj, deleting=False):
            raise HistoryIsImmutable(f"{type(obj).__name__} {getattr(obj, 'id', '?')} is history")
    for obj in session.deleted:
        if _is_frozen(obj, deleting=True):
            raise HistoryIsImmutable(f"{type(obj).__name__} {getattr(obj, 'id', '?')} is history")

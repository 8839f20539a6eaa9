from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, SQLModel

from pilot.audit.models import AuditEvent


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    obj: SQLModel,
    project_id: int | None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    import_id: int | None = None,
) -> AuditEvent:
    """Add one audit event for ``obj`` (which must already have an id: flush first)."""
    entity_id = getattr(obj, "id", None)
    if entity_id is None:
        session.flush()
        entity_id = getattr(obj, "id", None)
    assert entity_id is not None
    event = AuditEvent(
        actor=actor,
        action=action,
        entity=str(getattr(obj, "__tablename__", type(obj).__name__.lower())),
        entity_id=entity_id,
        project_id=project_id,
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        import_id=import_id,
    )
    session.add(event)
    return event


def record_changes(
    session: Session,
    *,
    actor: str,
    obj: SQLModel,
    project_id: int | None,
    changes: dict[str, Any],
    import_id: int | None = None,
) -> int:
    """Apply ``changes`` to ``obj`` and audit each field whose value really changes."""
    count = 0
    for field, new in changes.items():
        old = getattr(obj, field)
        if old == new:
            continue
        setattr(obj, field, new)
        record(
            session,
            actor=actor,
            action="update",
            obj=obj,
            project_id=project_id,
            field=field,
            old=old,
            new=new,
            import_id=import_id,
        )
        count += 1
    return count


def event_row(
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int,
    project_id: int | None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    import_id: int | None = None,
) -> dict[str, Any]:
    """One audit event as a plain row, for bulk inserts (imports of whole workbooks)."""
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "project_id": project_id,
        "field": field,
        "old_value": _text(old),
        "new_value": _text(new),
        "import_id": import_id,
    }

"""Audit events: the one place that words them and writes them. Every change of the
project domain is audited through ``pilot.projects.bulk``, which builds its events here;
the other domains (accounts, tokens, editions) call ``record``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, Table, cast, insert, literal, null, select
from sqlmodel import Session, SQLModel

from pilot.audit.models import AuditEvent
from pilot.indicators.steering import criticality
from pilot.text import keep_text
from pilot.timeutil import utcnow


def text(value: Any) -> str | None:
    """A value as an audit event shows it (dates in ISO)."""
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def same(stored: Any, new: Any) -> bool:
    """Whether ``new`` is no change of ``stored``: texts compared as typed (``keep_text``:
    a line ending or surrounding spaces are no change), so an untouched workbook changes
    nothing."""
    if isinstance(stored, str) and isinstance(new, str):
        return keep_text(stored) == keep_text(new)
    return bool(stored == new)


def report_text(report: Mapping[str, Any]) -> str:
    """What a "report" event shows of a new report."""
    return (
        f"phase={report.get('phase')} coût={report.get('current_cost_eur')} "
        f"fin={report.get('forecast_end')} météo={report.get('weather')}"
    )


def baseline_text(baseline: Mapping[str, Any]) -> str:
    """What the creation event of an initial baseline shows."""
    return (
        f"coût={baseline.get('cost_eur')} début={baseline.get('start_date')} "
        f"fin={baseline.get('end_date')}"
    )


def completion_text(cost_eur: int | None, source: str) -> str:
    """What the event shows when a cost completes an initial baseline recorded without."""
    return f"{cost_eur} ({source}, première valeur connue)"


def created_text(entity: str, row: Mapping[str, Any]) -> str | None:
    """What the creation event of a project, milestone, risk or budget line shows."""
    if entity == "risk":
        return f"{row['title']} (criticité {criticality(row['probability'], row['impact'])})"
    if entity == "budget_line":
        return text(row["year"])
    return text(row["name"])


def created_text_sql(entity: str, table: Table) -> ColumnElement[Any]:
    """``created_text`` as an SQL expression over ``table``'s rows (the same text)."""
    if entity == "risk":
        criticality = cast(table.c.probability * table.c.impact, String)
        return table.c.title + " (criticité " + criticality + ")"
    if entity == "budget_line":
        return cast(table.c.year, String)
    return table.c.name


def add_creation_events(
    session: Session,
    table: Table,
    entity: str,
    ids: tuple[int, int],
    *,
    at: datetime,
    actor: str,
    import_id: int | None,
) -> None:
    """The creation event of each row of ``table`` whose id is from ``ids[0]`` to
    ``ids[1]`` (rows of a project: a milestone, a risk, a budget line), in id order,
    written from the rows themselves in one ``INSERT … SELECT``: the events
    ``event_row`` would give with ``created_text``, without a round trip through Python
    for each. Every row in the range must be new and the caller's."""
    events: Table = AuditEvent.__table__  # type: ignore[attr-defined]
    rows = (
        select(
            literal(at, events.c.at.type),
            literal(actor, String),
            literal("create", String),
            literal(entity, String),
            table.c.id,
            table.c.project_id,
            null(),
            null(),
            created_text_sql(entity, table),
            literal(import_id, Integer),
        )
        .where(table.c.id.between(*ids))
        .order_by(table.c.id)
    )
    columns = [
        "at",
        "actor",
        "action",
        "entity",
        "entity_id",
        "project_id",
        "field",
        "old_value",
        "new_value",
        "import_id",
    ]
    session.execute(insert(events).from_select(columns, rows))


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
    """One audit event as a row of ``audit_event``."""
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "project_id": project_id,
        "field": field,
        "old_value": text(old),
        "new_value": text(new),
        "import_id": import_id,
    }


def add_events(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    """Insert audit events (``event_row``) in the caller's transaction."""
    if events:
        session.execute(insert(AuditEvent.__table__), list(events))  # type: ignore[attr-defined]


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
) -> None:
    """Add one audit event for ``obj`` (flushed first, so that it has an id)."""
    session.flush()
    entity_id = getattr(obj, "id", None)
    assert entity_id is not None
    add_events(
        session,
        [
            event_row(
                at=utcnow(),
                actor=actor,
                action=action,
                entity=str(getattr(obj, "__tablename__", type(obj).__name__.lower())),
                entity_id=entity_id,
                project_id=project_id,
                field=field,
                old=old,
                new=new,
                import_id=import_id,
            )
        ],
    )


def record_changes(
    session: Session,
    *,
    actor: str,
    obj: SQLModel,
    project_id: int | None,
    changes: dict[str, Any],
) -> int:
    """Apply ``changes`` to ``obj`` (an account, a token: the project domain writes
    through ``pilot.projects.bulk``) and audit each field whose value really changes."""
    count = 0
    for field, new in changes.items():
        old = getattr(obj, field)
        if same(old, new):
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
        )
        count += 1
    return count

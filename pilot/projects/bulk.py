"""Bulk writes of the domain, for imports that change thousands of rows at once: one
SQLAlchemy ``insert()`` with many rows (batched by SQLAlchemy on both databases, its
"insertmanyvalues" mode, new primary keys returned in the rows' order) and updates
grouped by the set of columns they change. Plain functions taking the caller's session:
they run in its transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlmodel import Session


def table_of(model: Any) -> Table:
    table: Table = model.__table__
    return table


def insert_rows(
    session: Session,
    model: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning_ids: bool = False,
) -> list[int]:
    """Insert ``rows`` (values in ``columns`` order); with ``returning_ids``, return their
    new primary keys, in the rows' order."""
    if not rows:
        return []
    table = table_of(model)
    params = [dict(zip(columns, row, strict=True)) for row in rows]
    if not returning_ids:
        session.execute(insert(table), params)
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, params))


def update_rows(
    session: Session, model: Any, changes: Sequence[tuple[int, dict[str, Any]]]
) -> None:
    """Update rows by id, grouped by the set of columns that change."""
    table = table_of(model)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row_id, values in changes:
        keys = tuple(sorted(values))
        groups[keys].append({"_id": row_id, **{f"v_{k}": values[k] for k in keys}})
    for keys, params in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({k: bindparam(f"v_{k}") for k in keys})
        )
        session.execute(statement, params)

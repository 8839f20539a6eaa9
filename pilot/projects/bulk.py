"""The one set of writes of the project domain: projects (with their names and ministry
history), reports, baselines, milestones, risks and budget lines, each written with its
audit events (``pilot.audit.service`` words them). Every writer goes through here: the
workbook import (thousands of rows at once), the panorama import, the services behind
the GraphQL mutations and the command line (one row at a time).

Rows are inserted with one SQLAlchemy ``insert()`` of many rows (batched by SQLAlchemy
on both databases, its "insertmanyvalues" mode, new primary keys returned in the rows'
order) and updated grouped by the set of columns they change. Plain functions taking the
caller's session: they run in its transaction. They write with Core statements, so
pending ORM changes are flushed first, and an ORM object they update is expired (read
again when next used)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, inspect, select, update
from sqlmodel import Session

from pilot.audit import service as audit
from pilot.projects.models import (
    Baseline,
    BaselineKind,
    BudgetLine,
    Milestone,
    Project,
    ProjectMinistry,
    ProjectName,
    Report,
    Risk,
    RiskStatus,
)
from pilot.text import normalize_key
from pilot.timeutil import utcnow

# Columns derived from another one: their change is audited through that one.
DERIVED = {"name_key", "functional_zone"}
# The columns that tell a new row from the others of one write (when they do not, the
# rows are inserted one at a time on SQLite: see ``insert_rows``).
IDENTITY: dict[Any, tuple[str, ...]] = {
    Project: ("ministry_id", "name_key"),
    Report: ("project_id",),
    Baseline: ("project_id",),
    Milestone: ("project_id", "name"),
    Risk: ("project_id", "title"),
    BudgetLine: ("project_id", "year", "kind"),
}


@dataclass(frozen=True)
class Stamp:
    """Who writes, for which import, at which instant (every row and event of one write
    carries the same)."""

    actor: str
    import_id: int | None = None
    now: datetime = field(default_factory=utcnow)

    def event(
        self,
        action: str,
        entity: str,
        entity_id: int,
        project_id: int | None,
        field: str | None = None,
        old: Any = None,
        new: Any = None,
    ) -> dict[str, Any]:
        return audit.event_row(
            at=self.now,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            project_id=project_id,
            field=field,
            old=old,
            new=new,
            import_id=self.import_id,
        )


def table_of(model: Any) -> Table:
    table: Table = model.__table__
    return table


@cache
def _defaults(model: Any) -> dict[str, Any]:
    """The model's default value of each column a new row may leave out (the id aside;
    ``created_at`` is the write's instant)."""
    return {
        name: info.get_default(call_default_factory=False)
        for name, info in model.model_fields.items()
        if name not in ("id", "created_at")
        and not info.is_required()
        and info.default_factory is None
    }


def insert_rows(
    session: Session,
    model: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    returning_ids: bool = False,
) -> list[int]:
    """Insert ``rows`` (the model's defaults for the columns they leave out); with
    ``returning_ids``, return their new primary keys, in the rows' order."""
    if not rows:
        return []
    session.flush()  # Core statements do not flush pending ORM changes themselves
    table = table_of(model)
    defaults = _defaults(model)
    stamped = {"created_at": now} if "created_at" in table.c else {}
    params = [{**defaults, **stamped, **row} for row in rows]
    if not returning_ids:
        session.execute(insert(table), params)
        return []
    if session.get_bind().dialect.name == "sqlite":
        return _insert_in_order(session, table, params)
    identity = IDENTITY[model]
    keys = [tuple(p[c] for c in identity) for p in params]
    if len(set(keys)) == len(keys):
        # RETURNING in any order, each id with what tells its row: batched (with
        # ``sort_by_parameter_order`` some databases insert one row at a time)
        statement = insert(table).returning(table.c.id, *(table.c[c] for c in identity))
        ids = {tuple(row[1:]): row[0] for row in session.execute(statement, params)}
        return [ids[k] for k in keys]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, params))


def _insert_in_order(session: Session, table: Table, params: list[dict[str, Any]]) -> list[int]:
    """SQLite: the rows inserted by one plain ``executemany`` (no RETURNING, which makes
    SQLAlchemy write many-rows ``VALUES`` and read every row back), then their ids read in
    one query. A write transaction on SQLite holds the database's only write lock from
    its first write to its end, and each row inserted gets an id above every id present:
    the ids above the largest one before the insert are these rows', in their order."""
    before = session.execute(select(func.max(table.c.id))).scalar() or 0
    session.execute(insert(table), params)
    ids = list(session.scalars(select(table.c.id).where(table.c.id > before).order_by(table.c.id)))
    if len(ids) != len(params):  # never: the write lock is held
        raise RuntimeError(f"{table.name}: {len(params)} rows inserted, {len(ids)} ids found")
    return ids


def add_events(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    """Insert audit events (``audit.event_row``)."""
    audit.add_events(session, events)


def _entity(model: Any) -> str:
    return str(table_of(model).name)


# --- Creations ----------------------------------------------------------------------------


def create_projects(
    session: Session, rows: Sequence[Mapping[str, Any]], *, on: date, stamp: Stamp
) -> list[int]:
    """New projects (``name``, ``ministry_id`` and any other columns), identifiers never
    reused; each gets its name recorded, its ministry history started on ``on`` and a
    creation event. Returns their ids, in order."""
    ids = insert_rows(
        session,
        Project,
        [{**row, "name_key": normalize_key(row["name"])} for row in rows],
        now=stamp.now,
        returning_ids=True,
    )
    add_names(
        session,
        [
            (pid, row["ministry_id"], row["name"], "name")
            for pid, row in zip(ids, rows, strict=True)
        ],
        on=on,
        stamp=stamp,
    )
    insert_rows(
        session,
        ProjectMinistry,
        [
            {"project_id": pid, "ministry_id": row["ministry_id"], "since": on}
            for pid, row in zip(ids, rows, strict=True)
        ],
        now=stamp.now,
    )
    add_events(
        session,
        [
            stamp.event("create", "project", pid, pid, new=audit.created_text("project", row))
            for pid, row in zip(ids, rows, strict=True)
        ],
    )
    return ids


def add_names(
    session: Session, names: Iterable[tuple[int, int, str, str]], *, on: date, stamp: Stamp
) -> None:
    """Record names of projects: (project id, ministry id, name, "name" or "alias")."""
    insert_rows(
        session,
        ProjectName,
        [
            {
                "project_id": pid,
                "ministry_id": ministry_id,
                "name": name,
                "name_key": normalize_key(name),
                "kind": kind,
                "recorded_on": on,
            }
            for pid, ministry_id, name, kind in names
        ],
        now=stamp.now,
    )


def add_ministry(
    session: Session, project_id: int, ministry_id: int, *, on: date, stamp: Stamp
) -> None:
    """The ministry that carries a project from ``on`` (its history)."""
    insert_rows(
        session,
        ProjectMinistry,
        [{"project_id": project_id, "ministry_id": ministry_id, "since": on}],
        now=stamp.now,
    )


def add_reports(session: Session, rows: Sequence[Mapping[str, Any]], *, stamp: Stamp) -> list[int]:
    """New reports (history: never updated in place), a "report" event each."""
    ids = insert_rows(
        session,
        Report,
        [{"import_id": stamp.import_id, **row} for row in rows],
        now=stamp.now,
        returning_ids=True,
    )
    add_events(
        session,
        [
            stamp.event("report", "report", rid, row["project_id"], new=audit.report_text(row))
            for rid, row in zip(ids, rows, strict=True)
        ],
    )
    return ids


def add_baselines(
    session: Session, rows: Sequence[Mapping[str, Any]], *, stamp: Stamp
) -> list[int]:
    """New baselines: an initial one ("create" event) or a re-baseline with its reason
    ("rebaseline" event)."""
    ids = insert_rows(session, Baseline, rows, now=stamp.now, returning_ids=True)
    events = []
    for bid, row in zip(ids, rows, strict=True):
        if row["kind"] == BaselineKind.INITIAL.value:
            text = audit.baseline_text(row)
            events.append(stamp.event("create", "baseline", bid, row["project_id"], new=text))
        else:
            events.append(
                stamp.event(
                    "rebaseline", "baseline", bid, row["project_id"], "reason", new=row["reason"]
                )
            )
    add_events(session, events)
    return ids


def add_children(
    session: Session, model: Any, rows: Sequence[Mapping[str, Any]], *, stamp: Stamp
) -> list[int]:
    """New milestones, risks or budget lines of projects, a creation event each. A risk
    is open unless said otherwise; a risk created closed is closed on the write's day."""
    if model is Risk:
        rows = [_new_risk(row, stamp.now.date()) for row in rows]
    ids = insert_rows(session, model, rows, now=stamp.now, returning_ids=True)
    entity = _entity(model)
    if ids and session.get_bind().dialect.name == "sqlite":
        # the new rows' ids follow each other there (``_insert_in_order``): their events
        # are written from the rows themselves, in one statement
        audit.add_creation_events(
            session,
            table_of(model),
            entity,
            (ids[0], ids[-1]),
            at=stamp.now,
            actor=stamp.actor,
            import_id=stamp.import_id,
        )
        return ids
    add_events(
        session,
        [
            stamp.event(
                "create", entity, rid, row["project_id"], new=audit.created_text(entity, row)
            )
            for rid, row in zip(ids, rows, strict=True)
        ],
    )
    return ids


def _new_risk(row: Mapping[str, Any], today: date) -> Mapping[str, Any]:
    status = row.get("status")
    if status is None:
        return {**row, "status": RiskStatus.OUVERT.value}
    if status == RiskStatus.CLOS.value and row.get("closed_on") is None:
        return {**row, "closed_on": today}
    return row


# --- Changes ------------------------------------------------------------------------------


def update_rows(
    session: Session,
    model: Any,
    changes: Sequence[tuple[Any, Mapping[str, Any]]],
    *,
    stamp: Stamp,
) -> list[tuple[int, dict[str, Any]]]:
    """Change rows and audit each field whose value really changes (``audit.same``; the
    columns derived from another are changed silently). ``changes`` pairs the current
    row (an ORM object or a row read, with its ``id`` and, but for a project, its
    ``project_id``) with the wanted values. Returns ``(id, values changed)`` of the rows
    that changed."""
    entity = _entity(model)
    done: list[tuple[int, dict[str, Any]]] = []
    events: list[dict[str, Any]] = []
    for current, wanted in changes:
        diff = {k: v for k, v in wanted.items() if not audit.same(getattr(current, k), v)}
        if not diff:
            continue
        row_id = current.id
        project_id = row_id if model is Project else current.project_id
        done.append((row_id, diff))
        events.extend(
            stamp.event("update", entity, row_id, project_id, k, getattr(current, k), v)
            for k, v in diff.items()
            if k not in DERIVED
        )
    if not done:
        return done
    session.flush()
    table = table_of(model)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row_id, values in done:
        keys = tuple(sorted(values))
        groups[keys].append({"_id": row_id, **{f"v_{k}": values[k] for k in keys}})
    for keys, params in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({k: bindparam(f"v_{k}") for k in keys})
        )
        session.execute(statement, params)
    add_events(session, events)
    for current, _ in changes:
        state = inspect(current, raiseerr=False)
        if state is not None and state.session is session:
            session.expire(current)  # an ORM object: read again when next used
    return done


def update_one(session: Session, obj: Any, values: Mapping[str, Any], *, stamp: Stamp) -> int:
    """``update_rows`` for one ORM object; the number of audited fields that changed."""
    done = update_rows(session, type(obj), [(obj, values)], stamp=stamp)
    return sum(1 for _, diff in done for k in diff if k not in DERIVED)


def complete_initial_baselines(
    session: Session,
    completions: Sequence[tuple[Any, Mapping[str, Any]]],
    *,
    source: str,
    stamp: Stamp,
) -> None:
    """An initial baseline recorded without a cost (the project was "en cadrage")
    measured nothing: the first known cost completes it once, with the dates it lacked,
    and says so in its source (one event each). ``completions`` pairs the baseline with
    the figures known (``cost_eur``, ``start_date``, ``end_date``)."""
    if not completions:
        return
    session.flush()
    table = table_of(Baseline)
    params = []
    events = []
    for initial, figures in completions:
        cost = figures["cost_eur"]
        params.append(
            {
                "_id": initial.id,
                "v_cost_eur": cost,
                "v_start_date": initial.start_date or figures["start_date"],
                "v_end_date": initial.end_date or figures["end_date"],
                "v_source": source,
            }
        )
        events.append(
            stamp.event(
                "update",
                "baseline",
                initial.id,
                initial.project_id,
                "cost_eur",
                None,
                audit.completion_text(cost, source),
            )
        )
    statement = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({k: bindparam(f"v_{k}") for k in ("cost_eur", "start_date", "end_date", "source")})
    )
    session.execute(statement, params)
    add_events(session, events)

"""Write a validated workbook in the caller's transaction, set-based.

Everything is compared with the ministry's current state (``state.py``, loaded in a few
queries) and only the differences are written, with bulk inserts and grouped updates:
new projects (identifiers never reused, names and ministry history recorded), one new
report per project row (reports are history), baselines (initial once, then re-baselines
with their reason), milestones, risks and budget lines, and an audit event for every
change. With ``write=False`` nothing is written and the counts say what would change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlmodel import Session

from importers.parsing import parse_programmes
from importers.workbook.columns import BUDGET, MILESTONES, PROJECTS, RISKS
from importers.workbook.state import MinistryState
from importers.workbook.validate import ProjectKey, Validated, ValidRow, key
from pilot.audit.models import AuditEvent
from pilot.audit.service import event_row
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

BASELINE_SOURCE = "classeur ministériel"
BATCH = 10_000  # rows (and audit events) inserted at a time, in the one transaction
PROJECT_FIELDS = (
    "description",
    "link",
    "interministerial",
    "functional_zone",
    "programmes",
    "phase",
    "start_date",
)
MILESTONE_FIELDS = ("baseline_date", "forecast_date", "actual_date")
RISK_FIELDS = (
    "category",
    "probability",
    "impact",
    "owner",
    "mitigation",
    "status",
    "trend",
    "opened_on",
    "closed_on",
)
BUDGET_FIELDS = {"planned": "planned_eur", "consumed": "consumed_eur"}


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, in one query and without inserting.

    PostgreSQL draws them from the column's sequence (safe under concurrent writers).
    SQLite has one writer at a time (the import runs in a ``BEGIN IMMEDIATE``
    transaction), so the ids follow the largest one ever used (``sqlite_sequence`` for
    AUTOINCREMENT tables, where deleted ids are never reused)."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        drawn = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table.name, "count": count},
        )
        return [row[0] for row in drawn]
    last = session.execute(select(func.max(table.c.id))).scalar() or 0
    if table.dialect_options["sqlite"].get("autoincrement"):
        used = session.execute(
            text("SELECT seq FROM sqlite_sequence WHERE name = :table"), {"table": table.name}
        ).scalar()
        last = max(last, used or 0)
    return list(range(last + 1, last + 1 + count))


def _insert(
    session: Session, model: Any, rows: list[dict[str, Any]], *, ids: bool = False
) -> list[int]:
    """Insert rows (all with the same keys) in one executemany, without RETURNING; with
    ``ids``, allocate their primary keys first and return them, in order."""
    if not rows:
        return []
    table = _table(model)
    allocated: list[int] = []
    if ids:
        allocated = _allocate_ids(session, table, len(rows))
        for row, row_id in zip(rows, allocated, strict=True):
            row["id"] = row_id
    session.execute(insert(table), rows)
    return allocated


def _update(session: Session, model: Any, changes: list[tuple[int, dict[str, Any]]]) -> None:
    """Update rows by id, grouped by the set of columns that change."""
    table = _table(model)
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


def _project_fields(values: dict[str, Any], present: set[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in PROJECT_FIELDS:
        if name not in present:
            continue
        value = values.get(name)
        if name == "functional_zone":
            fields["functional_zone"] = normalize_key(value) if value else None
            fields["functional_zone_label"] = value
        elif name == "programmes":
            numbers = parse_programmes(value)
            fields["programmes"] = ",".join(str(n) for n in numbers) or value
        elif name == "interministerial":
            fields[name] = bool(value)
        else:
            fields[name] = value
    return fields


class _Writer:
    def __init__(
        self,
        session: Session,
        state: MinistryState,
        validated: Validated,
        *,
        actor: str,
        import_id: int | None,
        today: date,
        write: bool,
    ) -> None:
        self.session = session
        self.state = state
        self.validated = validated
        self.actor = actor
        self.import_id = import_id
        self.today = today
        self.write = write
        self.now: datetime = utcnow()
        self.audit: list[dict[str, Any]] = []  # events not inserted yet
        self.audit_count = 0
        self.counts: dict[str, int] = defaultdict(int)
        self.new_ids: dict[str, int] = {}  # new project name key → id

    def event(
        self,
        action: str,
        entity: str,
        entity_id: int,
        project_id: int | None,
        field: str | None = None,
        old: Any = None,
        new: Any = None,
    ) -> None:
        self.audit.append(
            event_row(
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
        )
        if self.write and len(self.audit) >= BATCH:
            self._flush_audit()

    def _flush_audit(self) -> None:
        self.audit_count += len(self.audit)
        _insert(self.session, AuditEvent, self.audit)
        self.audit.clear()

    def project_id(self, key: ProjectKey | None) -> int | None:
        if isinstance(key, int):
            return key
        return self.new_ids.get(key or "", 0 if not self.write else None)

    # Projects ----------------------------------------------------------------------------

    def projects(self) -> None:
        present = self.validated.present.get(PROJECTS.name, set())
        rows = [r for r in self.validated.projects if r.project is not None]
        new = [r for r in rows if isinstance(r.project, str)]
        self.counts["projects_created"] = len(new)
        creations = []
        for r in new:
            fields = _project_fields(r.values, present)
            creations.append(
                {
                    "name": r.values["name"],
                    "name_key": normalize_key(r.values["name"]),
                    "ministry_id": self.state.ministry_id,
                    "description": None,
                    "link": None,
                    "interministerial": False,
                    "functional_zone": None,
                    "functional_zone_label": None,
                    "programmes": None,
                    "financing_label": None,
                    "pap_link": None,
                    "phase": None,
                    "start_date": None,
                    "in_panorama": True,
                    "confidential": False,
                    "created_at": self.now,
                    **fields,
                }
            )
        if self.write:
            ids = _insert(self.session, Project, creations, ids=True)
            names, ministries = [], []
            for r, pid, created in zip(new, ids, creations, strict=True):
                self.new_ids[str(r.project)] = pid
                names.append(self._name_row(pid, created["name"]))
                ministries.append(
                    {"project_id": pid, "ministry_id": self.state.ministry_id, "since": self.today}
                )
                self.event("create", "project", pid, pid, new=created["name"])
            _insert(self.session, ProjectName, names)
            _insert(self.session, ProjectMinistry, ministries)
        changes: list[tuple[int, dict[str, Any]]] = []
        renamed: list[dict[str, Any]] = []
        for r in rows:
            if not isinstance(r.project, int):
                continue
            pid = r.project
            current = self.state.projects[pid]
            fields = _project_fields(r.values, present)
            name = r.values.get("name")
            if name and name != current.name:
                fields["name"] = name
                fields["name_key"] = normalize_key(name)
                if fields["name_key"] not in self.state.names:
                    renamed.append(self._name_row(pid, name))
            diff = {k: v for k, v in fields.items() if getattr(current, k) != v}
            if diff:
                changes.append((pid, diff))
                for k, v in diff.items():
                    if k not in ("name_key", "functional_zone"):
                        self.event("update", "project", pid, pid, k, getattr(current, k), v)
        self.counts["projects_updated"] = len(changes)
        if self.write:
            _update(self.session, Project, changes)
            _insert(self.session, ProjectName, renamed)

    def _name_row(self, pid: int, name: str) -> dict[str, Any]:
        return {
            "project_id": pid,
            "ministry_id": self.state.ministry_id,
            "name": name,
            "name_key": normalize_key(name),
            "kind": "name",
            "recorded_on": self.today,
            "created_at": self.now,
        }

    def reports_and_baselines(self) -> None:
        present = self.validated.present.get(PROJECTS.name, set())
        reports: list[dict[str, Any]] = []
        baselines: list[dict[str, Any]] = []
        for r in self.validated.projects:
            pid = self.project_id(r.project)
            if pid is None:
                continue
            v = r.values
            reports.append(
                {
                    "project_id": pid,
                    "reported_on": self.today,
                    "phase": v.get("phase"),
                    "current_cost_eur": v.get("current_cost"),
                    "forecast_end": v.get("forecast_end"),
                    "weather": v.get("weather"),
                    "comment": v.get("comment"),
                    "import_id": self.import_id,
                    "edition_id": None,
                    "created_at": self.now,
                }
            )
            figures = {
                "cost_eur": v.get("baseline_cost"),
                "start_date": v.get("baseline_start"),
                "end_date": v.get("baseline_end"),
            }
            latest = self.state.latest_baseline.get(pid) if isinstance(r.project, int) else None
            kind = None
            if pid not in self.state.has_initial:
                if any(x is not None for x in figures.values()):
                    kind = BaselineKind.INITIAL.value
            elif latest is not None and v.get("rebaseline_reason"):
                stored = {
                    "cost_eur": latest.cost_eur,
                    "start_date": latest.start_date,
                    "end_date": latest.end_date,
                }
                if "baseline_cost" not in present:
                    figures["cost_eur"] = stored["cost_eur"]
                if "baseline_start" not in present:
                    figures["start_date"] = stored["start_date"]
                if "baseline_end" not in present:
                    figures["end_date"] = stored["end_date"]
                if figures != stored:
                    kind = BaselineKind.REBASELINE.value
            if kind is not None:
                baselines.append(
                    {
                        "project_id": pid,
                        "kind": kind,
                        "approved_on": self.today,
                        **figures,
                        "reason": v.get("rebaseline_reason") if kind == "rebaseline" else None,
                        "source": BASELINE_SOURCE,
                        "created_at": self.now,
                    }
                )
        self.counts["reports"] = len(reports)
        self.counts["baselines"] = len(baselines)
        if not self.write:
            return
        for report, rid in zip(
            reports, _insert(self.session, Report, reports, ids=True), strict=True
        ):
            pid = report["project_id"]
            self.event(
                "report",
                "report",
                rid,
                pid,
                new=f"phase={report['phase']} coût={report['current_cost_eur']} "
                f"fin={report['forecast_end']} météo={report['weather']}",
            )
        for baseline, bid in zip(
            baselines, _insert(self.session, Baseline, baselines, ids=True), strict=True
        ):
            pid = baseline["project_id"]
            if baseline["kind"] == BaselineKind.INITIAL.value:
                self.event(
                    "create",
                    "baseline",
                    bid,
                    pid,
                    new=f"coût={baseline['cost_eur']} début={baseline['start_date']} "
                    f"fin={baseline['end_date']}",
                )
            else:
                self.event("rebaseline", "baseline", bid, pid, "reason", new=baseline["reason"])

    # Milestones, risks, budget lines ---------------------------------------------------------

    def children(
        self,
        rows: Iterable[ValidRow],
        sheet_name: str,
        model: Any,
        entity: str,
        existing: dict[Any, Any],
        key_of: Any,
        fields: dict[str, str],
        identity: dict[str, str],
        counter: str,
    ) -> None:
        present = self.validated.present.get(sheet_name, set())
        inserts: list[dict[str, Any]] = []
        changes: list[tuple[int, dict[str, Any]]] = []
        label = next(iter(identity.values()))
        created = 0
        for r in rows:
            pid = self.project_id(r.project)
            if pid is None:
                continue
            values = self._child_values(entity, r.values, present, fields)
            found = existing.get((pid, *key_of(r))) if isinstance(r.project, int) else None
            closing = entity == "risk" and values.get("status") == RiskStatus.CLOS.value
            if closing and values.get("closed_on") is None:
                values["closed_on"] = (found.closed_on if found is not None else None) or self.today
            if found is None:
                row = {"project_id": pid, **{c: r.values.get(f) for f, c in identity.items()}}
                row.update({c: None for c in fields.values()})
                row.update(values)
                if model is not BudgetLine:
                    row["created_at"] = self.now
                if model is Risk and row["status"] is None:
                    row["status"] = RiskStatus.OUVERT.value
                created += 1
                if self.write:
                    inserts.append(row)
                    if len(inserts) >= BATCH:
                        self._insert_children(model, entity, label, inserts)
                continue
            diff = {k: v for k, v in values.items() if getattr(found, k) != v}
            if diff:
                changes.append((found.id, diff))
                for k, v in diff.items():
                    self.event("update", entity, found.id, pid, k, getattr(found, k), v)
        self.counts[f"{counter}_created"] = created
        self.counts[f"{counter}_updated"] = len(changes)
        if not self.write:
            return
        self._insert_children(model, entity, label, inserts)
        _update(self.session, model, changes)

    def _insert_children(
        self, model: Any, entity: str, label: str, inserts: list[dict[str, Any]]
    ) -> None:
        """Insert a batch of new rows with their audit events, then empty the batch (memory
        stays bounded by the batch, the transaction stays one)."""
        for row, rid in zip(inserts, _insert(self.session, model, inserts, ids=True), strict=True):
            self.event("create", entity, rid, row["project_id"], new=row[label])
        inserts.clear()

    def _child_values(
        self, entity: str, values: dict[str, Any], present: set[str], fields: dict[str, str]
    ) -> dict[str, Any]:
        result = {column: values.get(f) for f, column in fields.items() if f in present}
        if entity == "risk" and "status" in result and result["status"] is None:
            result["status"] = RiskStatus.OUVERT.value
        return result

    def run(self) -> dict[str, int]:
        self.projects()
        self.reports_and_baselines()
        self.children(
            self.validated.milestones,
            MILESTONES.name,
            Milestone,
            "milestone",
            self.state.milestones,
            lambda r: (key(r.values["name"]),),
            {f: f for f in MILESTONE_FIELDS},
            {"name": "name"},
            "milestones",
        )
        self.children(
            self.validated.risks,
            RISKS.name,
            Risk,
            "risk",
            self.state.risks,
            lambda r: (key(r.values["title"]),),
            {f: f for f in RISK_FIELDS},
            {"title": "title"},
            "risks",
        )
        self.children(
            self.validated.budget,
            BUDGET.name,
            BudgetLine,
            "budget_line",
            self.state.budget,
            lambda r: (r.values["year"], r.values["kind"]),
            BUDGET_FIELDS,
            {"year": "year", "kind": "kind"},
            "budget_lines",
        )
        if self.write:
            self._flush_audit()
        self.counts["audit_events"] = self.audit_count + len(self.audit)
        return dict(self.counts)


def apply(
    session: Session,
    validated: Validated,
    state: MinistryState,
    *,
    actor: str,
    import_id: int | None,
    today: date,
    write: bool = True,
) -> dict[str, int]:
    """Write the workbook's changes (or, with ``write=False``, only count them)."""
    return _Writer(
        session,
        state,
        validated,
        actor=actor,
        import_id=import_id,
        today=today,
        write=write,
    ).run()

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
from operator import itemgetter
from typing import Any

from sqlmodel import Session

from importers.parsing import parse_programmes
from importers.workbook.columns import BUDGET, MILESTONES, PROJECTS, RISKS, SHEETS, Sheet
from importers.workbook.state import MinistryState
from importers.workbook.validate import ProjectKey, Validated, ValidRow, field_index, key
from pilot.audit.models import AuditEvent
from pilot.projects.bulk import insert_rows, update_rows
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
from pilot.text import keep_text, normalize_key
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


def _project_fields(values: ValidRow, present: set[str]) -> dict[str, Any]:
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
            fields["financing_label"] = value  # the published "Financement", as declared
        elif name == "interministerial":
            fields[name] = bool(value)
        else:
            fields[name] = value
    return fields


PROJECT_COLUMNS = (
    "id",
    "name",
    "name_key",
    "ministry_id",
    "description",
    "link",
    "interministerial",
    "functional_zone",
    "functional_zone_label",
    "programmes",
    "financing_label",
    "pap_link",
    "phase",
    "start_date",
    "in_panorama",
    "confidential",
    "created_at",
)
NAME_COLUMNS = (
    "project_id",
    "ministry_id",
    "name",
    "name_key",
    "kind",
    "recorded_on",
    "created_at",
)
REPORT_COLUMNS = (
    "id",
    "project_id",
    "reported_on",
    "phase",
    "current_cost_eur",
    "forecast_end",
    "weather",
    "comment",
    "import_id",
    "edition_id",
    "created_at",
)
BASELINE_COLUMNS = (
    "id",
    "project_id",
    "kind",
    "approved_on",
    "cost_eur",
    "start_date",
    "end_date",
    "reason",
    "source",
    "created_at",
)
AUDIT_COLUMNS = (
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
)


def _audit_text(value: Any) -> str | None:
    """``pilot.audit.service``'s rendering of a value in an audit event."""
    if value is None:
        return None
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return str(value)


def _same(stored: Any, new: Any) -> bool:
    """A value read is the one stored: texts compared as typed (``keep_text``: a line
    ending or surrounding spaces are no change), so an untouched workbook changes
    nothing."""
    if isinstance(stored, str) and isinstance(new, str):
        return keep_text(stored) == keep_text(new)
    return bool(stored == new)


def _costless_initial(latest: Any) -> bool:
    """The project's latest baseline is its initial one, recorded without a cost."""
    return (
        latest is not None and latest.kind == BaselineKind.INITIAL.value and latest.cost_eur is None
    )


class Writer:
    """Writes a validated workbook sheet by sheet (``sheet``, Projets first, then
    ``finish``), or all at once (``run``), through the domain's bulk functions
    (``pilot.projects.bulk``) in the caller's transaction."""

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
        self.audit: list[list[Any]] = []  # events not inserted yet, in AUDIT_COLUMNS order
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
            [
                self.now,
                self.actor,
                action,
                entity,
                entity_id,
                project_id,
                field,
                _audit_text(old),
                _audit_text(new),
                self.import_id,
            ]
        )
        if self.write and len(self.audit) >= BATCH:
            self._flush_audit()

    def _flush_audit(self) -> None:
        self.audit_count += len(self.audit)
        self._insert(AuditEvent, AUDIT_COLUMNS, self.audit)
        self.audit.clear()

    def _insert(
        self, model: Any, columns: tuple[str, ...], rows: list[list[Any]], *, ids: bool = False
    ) -> list[int]:
        """Insert rows (lists in ``columns`` order) through the domain's bulk insert; with
        ``ids`` (``columns[0]`` is ``id``, a placeholder), return their new primary keys,
        in order."""
        if not ids:
            return insert_rows(self.session, model, columns, rows)
        return insert_rows(
            self.session, model, columns[1:], [row[1:] for row in rows], returning_ids=True
        )

    def _update(self, model: Any, changes: list[tuple[int, dict[str, Any]]]) -> None:
        update_rows(self.session, model, changes)

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
        creations: list[list[Any]] = []
        for r in new:
            fields = _project_fields(r, present)
            created = {
                "id": 0,
                "name": r.get("name"),
                "name_key": key(r.get("name")),
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
            creations.append([created[c] for c in PROJECT_COLUMNS])
        if self.write:
            names: list[list[Any]] = []
            ministries: list[list[Any]] = []
            for created_row in creations:
                names.append(self._name_row(0, created_row[1]))
                ministries.append([0, self.state.ministry_id, self.today])
            ids = self._insert(Project, PROJECT_COLUMNS, creations, ids=True)
            for r, pid, name_row, ministry_row in zip(new, ids, names, ministries, strict=True):
                self.new_ids[str(r.project)] = pid
                name_row[0] = ministry_row[0] = pid
                self.event("create", "project", pid, pid, new=name_row[2])
            self._insert(ProjectName, NAME_COLUMNS, names)
            self._insert(ProjectMinistry, ("project_id", "ministry_id", "since"), ministries)
        else:  # a dry run counts the creation events the import would write
            self.audit_count += len(creations)
        changes: list[tuple[int, dict[str, Any]]] = []
        renamed: list[list[Any]] = []
        for r in rows:
            if not isinstance(r.project, int):
                continue
            pid = r.project
            current = self.state.projects[pid]
            fields = _project_fields(r, present)
            name = r.get("name")
            if name and name != current.name:
                fields["name"] = name
                fields["name_key"] = key(name)
                if fields["name_key"] not in self.state.names:
                    renamed.append(self._name_row(pid, name))
            if fields.get("programmes") == current.programmes:
                fields.pop("financing_label", None)  # keep the label of unchanged programmes
            diff = {k: v for k, v in fields.items() if not _same(getattr(current, k), v)}
            if diff:
                changes.append((pid, diff))
                for k, v in diff.items():
                    if k not in ("name_key", "functional_zone"):
                        self.event("update", "project", pid, pid, k, getattr(current, k), v)
        self.counts["projects_updated"] = len(changes)
        if self.write:
            self._update(Project, changes)
            self._insert(ProjectName, NAME_COLUMNS, renamed)

    def _name_row(self, pid: int, name: str) -> list[Any]:
        return [
            pid,
            self.state.ministry_id,
            name,
            key(name),
            "name",
            self.today,
            self.now,
        ]

    def reports_and_baselines(self) -> None:
        present = self.validated.present.get(PROJECTS.name, set())
        reports: list[list[Any]] = []
        baselines: list[list[Any]] = []
        completions: list[tuple[Any, dict[str, Any]]] = []  # (costless initial, figures)
        for r in self.validated.projects:
            pid = self.project_id(r.project)
            if pid is None:
                continue
            v = r
            reports.append(
                [
                    0,
                    pid,
                    self.today,
                    v.get("phase"),
                    v.get("current_cost"),
                    v.get("forecast_end"),
                    v.get("weather"),
                    v.get("comment"),
                    self.import_id,
                    None,
                    self.now,
                ]
            )
            figures = {
                "cost_eur": v.get("baseline_cost"),
                "start_date": v.get("baseline_start"),
                "end_date": v.get("baseline_end"),
            }
            latest = self.state.latest_baseline.get(pid) if isinstance(r.project, int) else None
            kind = None
            if pid not in self.state.has_initial or _costless_initial(latest):
                # A project first known "en cadrage" (no cost): its first known cost (the
                # reference cost, else the current one) and schedule become its initial
                # baseline, with no re-baseline reason asked.
                if figures["cost_eur"] is None and v.get("current_cost") is not None:
                    figures["cost_eur"] = v.get("current_cost")
                    figures["start_date"] = figures["start_date"] or v.get("start_date")
                    figures["end_date"] = figures["end_date"] or v.get("forecast_end")
                if latest is not None:  # the initial baseline, without a cost: completed
                    if figures["cost_eur"] is not None:
                        completions.append((latest, figures))
                elif any(x is not None for x in figures.values()):
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
                    [
                        0,
                        pid,
                        kind,
                        self.today,
                        figures["cost_eur"],
                        figures["start_date"],
                        figures["end_date"],
                        v.get("rebaseline_reason") if kind == "rebaseline" else None,
                        BASELINE_SOURCE,
                        self.now,
                    ]
                )
        self.counts["reports"] = len(reports)
        self.counts["baselines"] = len(baselines) + len(completions)
        if not self.write:
            # the events it would write
            self.audit_count += len(reports) + len(baselines) + len(completions)
            return
        self._complete_initial_baselines(completions)
        # The events describe the values as read (before the driver's conversion).
        report_events = [
            (
                r[1],
                f"phase={r[3]} coût={r[4]} fin={r[5]} météo={r[6]}",
            )
            for r in reports
        ]
        baseline_events = [
            (b[1], b[2], f"coût={b[4]} début={b[5]} fin={b[6]}", b[7]) for b in baselines
        ]
        for (pid, text_), rid in zip(
            report_events, self._insert(Report, REPORT_COLUMNS, reports, ids=True), strict=True
        ):
            self.event("report", "report", rid, pid, new=text_)
        for (pid, kind, text_, reason), bid in zip(
            baseline_events,
            self._insert(Baseline, BASELINE_COLUMNS, baselines, ids=True),
            strict=True,
        ):
            if kind == BaselineKind.INITIAL.value:
                self.event("create", "baseline", bid, pid, new=text_)
            else:
                self.event("rebaseline", "baseline", bid, pid, "reason", new=reason)

    def _complete_initial_baselines(self, completions: list[tuple[Any, dict[str, Any]]]) -> None:
        """An initial baseline recorded without a cost (the project was "en cadrage")
        measured nothing: the first known cost completes it once, with the dates it
        lacked, and says so in its source (one audit event each)."""
        changes: list[tuple[int, dict[str, Any]]] = []
        for initial, figures in completions:
            change = {
                "cost_eur": figures["cost_eur"],
                "start_date": initial.start_date or figures["start_date"],
                "end_date": initial.end_date or figures["end_date"],
                "source": BASELINE_SOURCE,
            }
            changes.append((initial.id, change))
            self.event(
                "update",
                "baseline",
                initial.id,
                initial.project_id,
                "cost_eur",
                None,
                f"{change['cost_eur']} ({BASELINE_SOURCE}, première valeur connue)",
            )
        self._update(Baseline, changes)

    # Milestones, risks, budget lines ---------------------------------------------------------

    def children(
        self,
        rows: Iterable[ValidRow],
        sheet: Sheet,
        model: Any,
        entity: str,
        existing: dict[Any, Any],
        key_of: Any,
        fields: dict[str, str],
        identity: dict[str, str],
        counter: str,
    ) -> None:
        present = self.validated.present.get(sheet.name, set())
        stamped = model is not BudgetLine
        columns = (
            "id",
            "project_id",
            *identity.values(),
            *fields.values(),
            *(("created_at",) if stamped else ()),
        )
        index = field_index(sheet)
        # the values of a new row after its id and project: identity, then fields
        pick = itemgetter(*[index[f] for f in (*identity, *fields)])
        new_ids = self.new_ids
        write = self.write
        label = 2  # the first identity column: the value its creation event shows
        status_at = columns.index("status") if model is Risk else -1
        closed_at = columns.index("closed_on") if model is Risk else -1
        opened = RiskStatus.OUVERT.value
        clos = RiskStatus.CLOS.value
        inserts: list[list[Any]] = []
        changes: list[tuple[int, dict[str, Any]]] = []
        created = 0
        for r in rows:
            project = r.project
            pid: int | None
            if isinstance(project, int):
                pid = project
                found = existing.get((pid, *key_of(r)))
            else:
                found = None
                pid = new_ids.get(project or "", None if write else 0)  # as ``project_id``
                if pid is None:
                    continue
            if found is None:
                row = [0, pid, *pick(r.values)]
                if stamped:
                    row.append(self.now)
                if status_at > 0:
                    if row[status_at] is None:
                        row[status_at] = opened
                    elif row[status_at] == clos and row[closed_at] is None:
                        row[closed_at] = self.today
                created += 1
                if write:
                    inserts.append(row)
                    if len(inserts) >= BATCH:
                        self._insert_children(model, entity, columns, label, inserts)
                continue
            values = self._child_values(entity, r, present, fields)
            closing = entity == "risk" and values.get("status") == clos
            if closing and values.get("closed_on") is None:
                values["closed_on"] = found.closed_on or self.today
            diff = {k: v for k, v in values.items() if not _same(getattr(found, k), v)}
            if diff:
                changes.append((found.id, diff))
                for k, v in diff.items():
                    self.event("update", entity, found.id, pid, k, getattr(found, k), v)
        self.counts[f"{counter}_created"] = created
        self.counts[f"{counter}_updated"] = len(changes)
        if not self.write:
            self.audit_count += created  # the creation events it would write
            return
        self._insert_children(model, entity, columns, label, inserts)
        self._update(model, changes)

    def _insert_children(
        self,
        model: Any,
        entity: str,
        columns: tuple[str, ...],
        label: int,
        inserts: list[list[Any]],
    ) -> None:
        """Insert a batch of new rows with their audit events, then empty the batch (memory
        stays bounded by the batch, the transaction stays one)."""
        shown = [(row[1], row[label]) for row in inserts]  # before the driver's conversion
        ids = self._insert(model, columns, inserts, ids=True)
        inserts.clear()
        now, actor, import_id = self.now, self.actor, self.import_id
        self.audit.extend(
            [
                [now, actor, "create", entity, rid, pid, None, None, _audit_text(v), import_id]
                for (pid, v), rid in zip(shown, ids, strict=True)
            ]
        )
        if len(self.audit) >= BATCH:
            self._flush_audit()

    def _child_values(
        self, entity: str, values: ValidRow, present: set[str], fields: dict[str, str]
    ) -> dict[str, Any]:
        result = {column: values.get(f) for f, column in fields.items() if f in present}
        if entity == "risk" and "status" in result and result["status"] is None:
            result["status"] = RiskStatus.OUVERT.value
        return result

    def sheet(self, sheet: Sheet) -> None:
        """Write one sheet's rows (Projets before the others, which refer to it)."""
        if sheet is PROJECTS:
            self.projects()
            self.reports_and_baselines()
        elif sheet is MILESTONES:
            self.children(
                self.validated.milestones,
                MILESTONES,
                Milestone,
                "milestone",
                self.state.milestones,
                lambda r: (key(r.get("name")),),
                {f: f for f in MILESTONE_FIELDS},
                {"name": "name"},
                "milestones",
            )
        elif sheet is RISKS:
            self.children(
                self.validated.risks,
                RISKS,
                Risk,
                "risk",
                self.state.risks,
                lambda r: (key(r.get("title")),),
                {f: f for f in RISK_FIELDS},
                {"title": "title"},
                "risks",
            )
        else:
            assert sheet is BUDGET
            self.children(
                self.validated.budget,
                BUDGET,
                BudgetLine,
                "budget_line",
                self.state.budget,
                lambda r: (r.get("year"), r.get("kind")),
                BUDGET_FIELDS,
                {"year": "year", "kind": "kind"},
                "budget_lines",
            )

    def finish(self) -> dict[str, int]:
        """The last audit events handed over; the counts of what was (or would be)
        written."""
        if self.write:
            self._flush_audit()
        self.counts["audit_events"] = self.audit_count + len(self.audit)
        return dict(self.counts)

    def run(self) -> dict[str, int]:
        for sheet in SHEETS:
            self.sheet(sheet)
        return self.finish()


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
    return Writer(
        session,
        state,
        validated,
        actor=actor,
        import_id=import_id,
        today=today,
        write=write,
    ).run()

"""Write a validated workbook in the caller's transaction, set-based.

Everything is compared with the ministry's current state (``state.py``, loaded in a few
queries) and only the differences are written, through the domain's writes
(``pilot.projects.bulk``, which every other writer uses too, with their audit events):
new projects (identifiers never reused, names and ministry history recorded), one new
report per project row (reports are history), baselines (initial once, then re-baselines
with their reason), milestones, risks and budget lines. With ``write=False`` nothing is
written and the counts say what would change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from operator import itemgetter
from typing import Any

from sqlmodel import Session

from importers.parsing import parse_programmes
from importers.workbook.columns import (
    ALL_SHEETS,
    BUDGET,
    MILESTONES,
    PROJECTS,
    RECOMMENDATIONS,
    RISKS,
    STATUS_OF_LABEL,
    Sheet,
)
from importers.workbook.state import MinistryState
from importers.workbook.validate import ProjectKey, Validated, ValidRow, field_index, key
from pilot.audit.service import same
from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.opinions import service as opinions
from pilot.opinions.models import Recommendation
from pilot.projects import bulk
from pilot.projects.bulk import DERIVED, Stamp
from pilot.projects.models import BaselineKind, BudgetLine, Milestone, Project, Risk, RiskStatus
from pilot.text import normalize_key
from pilot.timeutil import utcnow

BASELINE_SOURCE = "classeur ministériel"
BATCH = 10_000  # rows (with their audit events) written at a time, in the one transaction
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


def _costless_initial(latest: Any) -> bool:
    """The project's latest baseline is its initial one, recorded without a cost."""
    return (
        latest is not None and latest.kind == BaselineKind.INITIAL.value and latest.cost_eur is None
    )


class Writer:
    """Writes a validated workbook sheet by sheet (``sheet``, Projets first, then
    ``finish``), or all at once (``run``), through the domain's writes
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
        self.stamp = Stamp(actor, import_id, utcnow())
        self.today = today
        self.write = write
        self.audit_count = 0  # the audit events written (or that would be)
        self.counts: dict[str, int] = defaultdict(int)
        self.new_ids: dict[str, int] = {}  # new project name key → id

    def project_id(self, key: ProjectKey | None) -> int | None:
        if isinstance(key, int):
            return key
        return self.new_ids.get(key or "", 0 if not self.write else None)

    def _update(self, model: Any, changes: list[tuple[Any, dict[str, Any]]]) -> None:
        """Count the audited fields that change; write them (in batches)."""
        self.audit_count += sum(1 for _, diff in changes for k in diff if k not in DERIVED)
        if self.write:
            for start in range(0, len(changes), BATCH):
                bulk.update_rows(
                    self.session, model, changes[start : start + BATCH], stamp=self.stamp
                )

    # Projects ----------------------------------------------------------------------------

    def projects(self) -> None:
        present = self.validated.present.get(PROJECTS.name, set())
        rows = [r for r in self.validated.projects if r.project is not None]
        new = [r for r in rows if isinstance(r.project, str)]
        self.counts["projects_created"] = len(new)
        self.audit_count += len(new)  # a creation event each
        if self.write:
            creations = [
                {
                    "name": r.get("name"),
                    "ministry_id": self.state.ministry_id,
                    **_project_fields(r, present),
                }
                for r in new
            ]
            ids = bulk.create_projects(self.session, creations, on=self.today, stamp=self.stamp)
            for r, pid in zip(new, ids, strict=True):
                self.new_ids[str(r.project)] = pid
        changes: list[tuple[Any, dict[str, Any]]] = []
        renamed: list[tuple[int, int, str, str]] = []
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
                    renamed.append((pid, self.state.ministry_id, name, "name"))
            if fields.get("programmes") == current.programmes:
                fields.pop("financing_label", None)  # keep the label of unchanged programmes
            diff = {k: v for k, v in fields.items() if not same(getattr(current, k), v)}
            if diff:
                changes.append((current, diff))
        self.counts["projects_updated"] = len(changes)
        self._update(Project, changes)
        if self.write:
            bulk.add_names(self.session, renamed, on=self.today, stamp=self.stamp)

    def reports_and_baselines(self) -> None:
        present = self.validated.present.get(PROJECTS.name, set())
        reports: list[dict[str, Any]] = []
        baselines: list[dict[str, Any]] = []
        completions: list[tuple[Any, dict[str, Any]]] = []  # (costless initial, figures)
        for r in self.validated.projects:
            pid = self.project_id(r.project)
            if pid is None:
                continue
            v = r
            reports.append(
                {
                    "project_id": pid,
                    "reported_on": self.today,
                    "phase": v.get("phase"),
                    "current_cost_eur": v.get("current_cost"),
                    "forecast_end": v.get("forecast_end"),
                    "weather": v.get("weather"),
                    "comment": v.get("comment"),
                }
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
                    {
                        "project_id": pid,
                        "kind": kind,
                        "approved_on": self.today,
                        **figures,
                        "reason": v.get("rebaseline_reason") if kind == "rebaseline" else None,
                        "source": BASELINE_SOURCE,
                    }
                )
        self.counts["reports"] = len(reports)
        self.counts["baselines"] = len(baselines) + len(completions)
        # an event each
        self.audit_count += len(reports) + len(baselines) + len(completions)
        if not self.write:
            return
        bulk.complete_initial_baselines(
            self.session, completions, source=BASELINE_SOURCE, stamp=self.stamp
        )
        bulk.add_reports(self.session, reports, stamp=self.stamp)
        bulk.add_baselines(self.session, baselines, stamp=self.stamp)

    # Milestones, risks, budget lines ---------------------------------------------------------

    def children(
        self,
        rows: Iterable[ValidRow],
        sheet: Sheet,
        model: Any,
        existing: dict[Any, Any],
        key_of: Any,
        fields: dict[str, str],
        identity: dict[str, str],
        counter: str,
    ) -> None:
        present = self.validated.present.get(sheet.name, set())
        columns = ("project_id", *identity.values(), *fields.values())
        index = field_index(sheet)
        # the values of a new row after its project: identity, then fields
        pick = itemgetter(*[index[f] for f in (*identity, *fields)])
        new_ids = self.new_ids
        write = self.write
        is_risk = model is Risk
        opened = RiskStatus.OUVERT.value
        clos = RiskStatus.CLOS.value
        inserts: list[dict[str, Any]] = []
        changes: list[tuple[Any, dict[str, Any]]] = []
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
                created += 1
                if not write:
                    continue
                row = dict(zip(columns, (pid, *pick(r.values)), strict=True))
                if is_risk:
                    if row["status"] is None:
                        row["status"] = opened
                    elif row["status"] == clos and row["closed_on"] is None:
                        row["closed_on"] = self.today
                inserts.append(row)
                if len(inserts) >= BATCH:
                    bulk.add_children(self.session, model, inserts, stamp=self.stamp)
                    inserts = []
                continue
            values = {column: r.get(f) for f, column in fields.items() if f in present}
            if is_risk and "status" in values and values["status"] is None:
                values["status"] = opened
            if is_risk and values.get("status") == clos and values.get("closed_on") is None:
                values["closed_on"] = found.closed_on or self.today
            diff = {k: v for k, v in values.items() if not same(getattr(found, k), v)}
            if diff:
                changes.append((found, diff))
        self.counts[f"{counter}_created"] = created
        self.counts[f"{counter}_updated"] = len(changes)
        self.audit_count += created  # a creation event each
        if write:
            bulk.add_children(self.session, model, inserts, stamp=self.stamp)
        self._update(model, changes)

    # Recommendations ----------------------------------------------------------------------

    def recommendations(self) -> None:
        """Each changed status through the domain's one write of a status
        (``opinions.update_recommendation``, the page's): its history event and its audit
        event, dated the day the rows were checked for (in Paris, as on the page), by the
        sender as the ministry."""
        rows = [r for r in self.validated.recommendations if isinstance(r.project, int)]
        self.counts["recommendations_updated"] = len(rows)
        self.audit_count += len(rows)  # the status's audit event each
        if not self.write or not rows:
            return
        principal = Principal(
            role=Role.MINISTRY, ministry_id=self.state.ministry_id, name=self.stamp.actor
        )
        on = self.validated.recommendations_on
        assert on is not None
        for r in rows:
            assert isinstance(r.project, int)
            # read again in this (write) session: the state was read in the checking one
            recommendation = self.session.get(Recommendation, r.project)
            assert recommendation is not None  # the ministry's data did not change meanwhile
            opinions.update_recommendation(
                self.session,
                principal,
                recommendation,
                status=STATUS_OF_LABEL[r.get("status")],
                on=on,
                comment=r.get("comment"),
            )

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
                self.state.risks,
                lambda r: (key(r.get("title")),),
                {f: f for f in RISK_FIELDS},
                {"title": "title"},
                "risks",
            )
        elif sheet is RECOMMENDATIONS:
            self.recommendations()
        else:
            assert sheet is BUDGET
            self.children(
                self.validated.budget,
                BUDGET,
                BudgetLine,
                self.state.budget,
                lambda r: (r.get("year"), r.get("kind")),
                BUDGET_FIELDS,
                {"year": "year", "kind": "kind"},
                "budget_lines",
            )

    def finish(self) -> dict[str, int]:
        """The counts of what was (or would be) written."""
        self.counts["audit_events"] = self.audit_count
        return dict(self.counts)

    def run(self) -> dict[str, int]:
        for sheet in ALL_SHEETS:
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

"""``Project`` nodes for one request, read in a fixed number of statements.

The root fields (``projects``, ``project``) find the fields asked for under them with
Strawberry's ``info.selected_fields``, then read, for the whole page at once:

- the projects' own columns that those fields show (one statement, by ``listing``);
- each relation some selected field reads, in one statement selecting only the columns
  the selected fields need (``project(id:)`` goes through a DataLoader per relation and
  column set, so aliased ``project`` fields share the statement); each statement is
  built once per set of columns, the ids bound as an expanding parameter (building it
  cost SQLAlchemy about as much as running it);

and build each ``Project`` with the selected fields as plain values (:data:`VALUES`:
what each field reads and how its value is made, side by side). graphql-core then reads
them with its default resolver; only the fields taking arguments (``milestones``,
``risks``, ``auditTrail``) have a resolver, which filters what was read.

Relations are read only for the projects whose data the reader may see: figures for
projects whose figures are not withheld, risks and the audit trail for the roles that
may read them.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, func, select
from sqlmodel import Session
from strawberry.dataloader import DataLoader
from strawberry.types import Info
from strawberry.types.nodes import Selection

from pilot.api.graphql import permissions
from pilot.api.graphql.context import Context
from pilot.api.graphql.permissions import Action
from pilot.api.graphql.projects.types import (
    AUDIT_TRAIL_FIRST,
    AuditEventType,
    BaselineType,
    BudgetLineType,
    DriftType,
    MilestoneType,
    ProjectNode,
    ReportType,
    RiskType,
    TrajectoryPointType,
)
from pilot.api.graphql.selection import selected
from pilot.api.graphql.types import MinistryType, ratio
from pilot.audit.models import AuditEvent
from pilot.campaigns import service as campaigns
from pilot.editions import service as editions
from pilot.indicators.drift import BaselineFigures, CurrentFigures, ProjectDrift, project_drift
from pilot.indicators.figures import cost_bracket
from pilot.indicators.health import health_from_drift, weather_is_rosier
from pilot.ministries.models import Ministry
from pilot.money import format_meur
from pilot.projects.models import (
    Baseline,
    BudgetLine,
    Milestone,
    Phase,
    Project,
    ProjectName,
    Report,
    Risk,
    Weather,
    format_pilot_id,
)
from pilot.projects.service import latest_report_id

# --- What the request asks for --------------------------------------------------------


@dataclass
class Wanted:
    """The ``Project`` fields selected (GraphQL names), each with the names selected
    under it (every alias and fragment merged) and the ``first`` argument of each of its
    selections (None where one leaves it out)."""

    fields: dict[str, set[str]]
    firsts: dict[str, set[int | None]] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def under(self, name: str) -> set[str]:
        return self.fields.get(name, set())

    def most(self, name: str, default: int) -> int:
        """The most items a selection of ``name`` lists: its largest ``first``
        (``default`` for a selection without one)."""
        return max((default if n is None else n) for n in self.firsts.get(name, {None}))

    def any(self, *names: str) -> bool:
        return any(n in self.fields for n in names)


def _wanted(selections: Iterable[Selection]) -> Wanted:
    fields: dict[str, set[str]] = defaultdict(set)
    firsts: dict[str, set[int | None]] = defaultdict(set)
    for f in selected(selections):
        fields[f.name].update(s.name for s in selected(f.selections))
        first = f.arguments.get("first")  # a literal's value is its text, a variable's an int
        firsts[f.name].add(None if first is None else int(first))
    return Wanted(dict(fields), dict(firsts))


def wanted_in_connection(info: Info) -> Wanted:
    """The ``Project`` fields selected under ``nodes`` and ``edges { node }``."""
    found: list[Selection] = []
    for root in info.selected_fields:
        for f in selected(root.selections):
            if f.name == "nodes":
                found.extend(f.selections)
            elif f.name == "edges":
                for g in selected(f.selections):
                    if g.name == "node":
                        found.extend(g.selections)
    return _wanted(found)


def wanted_in_node(info: Info) -> Wanted:
    """The ``Project`` fields selected under a root field returning one project."""
    return _wanted(s for root in info.selected_fields for s in root.selections)


# --- Columns --------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _columns(table: Table, names: Iterable[str], *always: str) -> list[str]:
    """``table``'s columns shown by the GraphQL fields ``names`` (a field shows the
    column of its name), plus ``always``, in the table's order."""
    wanted = {_snake(n) for n in names} | set(always)
    return [c.key for c in table.columns if c.key in wanted]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


# The project's own columns each field shows; ``id``, ``ministry_id`` and ``name_key``
# are always read (identity, access rules, cursors).
OWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "formerNames": ("name",),
    "description": ("description",),
    "link": ("link",),
    "interministerial": ("interministerial",),
    "functionalZone": ("functional_zone_label",),
    "programmes": ("programmes",),
    "phase": ("phase",),
    "costBracket": ("phase",),
    "inPanorama": ("in_panorama",),
    "confidential": ("confidential",),
    "startDate": ("start_date",),
}
BASE_COLUMNS = ("id", "ministry_id", "name_key")


def project_columns(wanted: Wanted, *extra: str) -> list[Any]:
    """The ``projects`` columns to select for ``wanted``."""
    names = set(BASE_COLUMNS) | set(extra)
    for name, columns in OWN_COLUMNS.items():
        if name in wanted:
            names.update(columns)
    table = _table(Project)
    return [c for c in table.columns if c.key in names]


# --- Relations --------------------------------------------------------------------------

# (session, keys, columns, at most this many rows a project or None: every row)
Load = Callable[[Session, list[int], tuple[str, ...], int | None], dict[int, Any]]


def _dicts(session: Session, query: Any, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``query`` as plain dicts, fetched at once (a dict's ``get`` is much
    cheaper than a ``RowMapping``'s, which raises and catches for a missing key)."""
    result = session.execute(query, parameters)
    keys = list(result.keys())
    return [dict(zip(keys, values, strict=True)) for values in result.all()]


def _grouped(model: Any, key: str, order: Callable[[Table], list[Any]], where: Any = None) -> Load:
    """Every row of ``model`` whose ``key`` is one of the ids, by id (in ``order``); with
    a limit, only each id's first rows in ``order`` (ranked by the database, so that a
    project with 20 000 audit events sends 50 when 50 are asked for)."""
    table = _table(model)

    @lru_cache(maxsize=64)
    def statement(columns: tuple[str, ...], limited: bool) -> Any:
        query = select(*(table.c[name] for name in (key, *columns))).where(
            table.c[key].in_(bindparam("ids", expanding=True))
        )
        if where is not None:
            query = query.where(where)
        if not limited:
            return query.order_by(*order(table))
        rank = func.row_number().over(partition_by=table.c[key], order_by=order(table))
        ranked = query.add_columns(rank.label("rank")).subquery()
        return (
            select(*(ranked.c[name] for name in (key, *columns)))
            .where(ranked.c.rank <= bindparam("limit"))
            .order_by(ranked.c[key], ranked.c.rank)
        )

    def load(
        session: Session, ids: list[int], columns: tuple[str, ...], limit: int | None
    ) -> dict[int, Any]:
        found: dict[int, list[dict[str, Any]]] = defaultdict(list)
        parameters: dict[str, Any] = {"ids": ids}
        if limit is not None:
            parameters["limit"] = limit
        for row in _dicts(session, statement(columns, limit is not None), parameters):
            found[row[key]].append(row)
        return found

    return load


@lru_cache(maxsize=64)
def _latest_reports_statement(columns: tuple[str, ...]) -> Any:
    t = _table(Report)
    return select(t.c.project_id, *(t.c[name] for name in columns)).where(
        t.c.project_id.in_(bindparam("ids", expanding=True)),
        t.c.id == latest_report_id(t.c.project_id),
    )


def _latest_reports(
    session: Session, ids: list[int], columns: tuple[str, ...], limit: int | None
) -> dict[int, Any]:
    """The latest report of each project (by date, then id), found along the
    ``(project_id, reported_on, id)`` index whatever the tables' statistics."""
    found = _dicts(session, _latest_reports_statement(columns), {"ids": ids})
    return {row["project_id"]: row for row in found}


_MINISTRIES = (
    select(_table(Ministry).c.id, _table(Ministry).c.code, _table(Ministry).c.name)
).where(_table(Ministry).c.id.in_(bindparam("ids", expanding=True)))


def _ministries(
    session: Session, ids: list[int], columns: tuple[str, ...], limit: int | None
) -> dict[int, Any]:
    return {row["id"]: row for row in _dicts(session, _MINISTRIES, {"ids": ids})}


def _trajectories(
    session: Session, ids: list[int], columns: tuple[str, ...], limit: int | None
) -> dict[int, Any]:
    return editions.trajectories(session, ids)


def _by(*columns: str, descending: bool = False) -> Callable[[Table], list[ColumnElement[Any]]]:
    def order(t: Table) -> list[ColumnElement[Any]]:
        return [t.c[c].desc() if descending else t.c[c] for c in columns]

    return order


def _by_criticality(t: Table) -> list[ColumnElement[Any]]:
    return [(t.c.probability * t.c.impact).desc(), t.c.id]


@dataclass(frozen=True)
class Relation:
    load: Load
    key: str  # the project's column the relation is read by
    visible: Callable[[Context, int], bool]  # (context, ministry id)
    empty: Any = None
    limit: Callable[[Wanted], int] | None = None  # rows read at most a project


def _figures(c: Context, ministry_id: int) -> bool:
    return permissions.allows(c.principal, Action.READ_FIGURES, ministry_id)


def _always(c: Context, ministry_id: int) -> bool:
    return True


def _risks(c: Context, ministry_id: int) -> bool:
    return permissions.allows(c.principal, Action.READ_RISKS, ministry_id)


def _audit(c: Context, ministry_id: int) -> bool:
    return permissions.allows(c.principal, Action.READ_AUDIT, ministry_id)


RELATIONS: dict[str, Relation] = {
    "ministry": Relation(_ministries, "ministry_id", _always),
    "names": Relation(
        _grouped(
            ProjectName,
            "project_id",
            _by("recorded_on", "id"),
            where=_table(ProjectName).c.kind == "name",
        ),
        "id",
        _always,
        [],
    ),
    "latest_report": Relation(_latest_reports, "id", _figures),
    "baselines": Relation(
        _grouped(Baseline, "project_id", _by("approved_on", "id")), "id", _figures, []
    ),
    "reports": Relation(
        _grouped(Report, "project_id", _by("reported_on", "id")), "id", _figures, []
    ),
    "milestones": Relation(
        _grouped(Milestone, "project_id", _by("baseline_date", "id")), "id", _figures, []
    ),
    "risks": Relation(_grouped(Risk, "project_id", _by_criticality), "id", _risks, []),
    "budget_lines": Relation(
        _grouped(BudgetLine, "project_id", _by("year", "kind")), "id", _figures, []
    ),
    "trajectory": Relation(_trajectories, "id", _figures, []),
    "audit": Relation(
        _grouped(AuditEvent, "project_id", _by("at", "id", descending=True)),
        "id",
        _audit,
        [],
        lambda wanted: wanted.most("auditTrail", AUDIT_TRAIL_FIRST),
    ),
}

_DRIFT_REPORT = ("current_cost_eur", "forecast_end")
_DRIFT_BASELINES = ("kind", "cost_eur", "start_date", "end_date")


def reads(wanted: Wanted) -> dict[str, tuple[str, ...]]:
    """The relations the selected fields read, each with the columns to select."""
    found: dict[str, set[str]] = defaultdict(set)
    if "ministry" in wanted:
        found["ministry"]
    if "formerNames" in wanted:
        found["names"].add("name")
    report = _table(Report)
    if "latestReport" in wanted:
        under = wanted.under("latestReport")
        extra = ("current_cost_eur",) if "currentCostText" in under else ()
        found["latest_report"].update(_columns(report, under, *extra))
    if wanted.any("currentCostEur", "currentCostText", "costBracket"):
        found["latest_report"].add("current_cost_eur")
    if wanted.any("weather", "weatherRosier"):
        found["latest_report"].add("weather")
    if wanted.any("drift", "health", "weatherRosier"):
        found["latest_report"].update(_DRIFT_REPORT)
        found["baselines"].update(_DRIFT_BASELINES)
    if "stale" in wanted:
        found["latest_report"].add("reported_on")
    if "baselines" in wanted:
        found["baselines"].update(_columns(_table(Baseline), wanted.under("baselines")))
    if "reports" in wanted:
        under = wanted.under("reports")
        extra = ("current_cost_eur",) if "currentCostText" in under else ()
        found["reports"].update(_columns(report, under, *extra))
    if "milestones" in wanted:
        found["milestones"].update(
            _columns(
                _table(Milestone),
                wanted.under("milestones"),
                "baseline_date",
                "forecast_date",
                "actual_date",
            )
        )
    if "risks" in wanted:
        found["risks"].update(
            _columns(
                _table(Risk),
                wanted.under("risks"),
                "probability",
                "impact",
                "mitigation",
                "status",
            )
        )
    if "budgetLines" in wanted:
        found["budget_lines"].update(_columns(_table(BudgetLine), wanted.under("budgetLines")))
    if "trajectory" in wanted:
        found["trajectory"]
    if "auditTrail" in wanted:
        found["audit"].update(_columns(_table(AuditEvent), wanted.under("auditTrail")))
    return {name: tuple(sorted(columns)) for name, columns in found.items()}


# --- Values -----------------------------------------------------------------------------


@dataclass
class Item:
    """One project, what was read for it, and the request's shared facts."""

    row: Mapping[Any, Any]
    figures: bool
    related: dict[str, Any]
    today: date
    stale_since: date | None
    _drift: ProjectDrift | None = field(default=None, repr=False)

    def latest(self) -> Mapping[Any, Any] | None:
        found: Mapping[Any, Any] | None = self.related.get("latest_report")
        return found if self.figures else None

    def cost(self) -> int | None:
        r = self.latest()
        return None if r is None else r["current_cost_eur"]

    def drift(self) -> ProjectDrift | None:
        if not self.figures:
            return None
        if self._drift is None:
            rows = self.related.get("baselines", [])
            initial = next((b for b in rows if b["kind"] == "initial"), None)
            latest = rows[-1] if rows else None
            r = self.latest()
            self._drift = project_drift(
                _baseline(initial),
                _baseline(latest),
                None if r is None else CurrentFigures(r["current_cost_eur"], r["forecast_end"]),
            )
        return self._drift

    def health(self) -> Any:
        d = self.drift()
        return None if d is None else health_from_drift(d.budget_initial, d.schedule_initial)


def _baseline(b: Mapping[Any, Any] | None) -> BaselineFigures | None:
    return None if b is None else BaselineFigures(b["cost_eur"], b["start_date"], b["end_date"])


def _drift_type(i: Item) -> DriftType | None:
    d = i.drift()
    if d is None:
        return None
    return DriftType(
        budget_initial=ratio(d.budget_initial),
        schedule_initial=ratio(d.schedule_initial),
        budget_latest=ratio(d.budget_latest),
        schedule_latest=ratio(d.schedule_latest),
        initial_cost_eur=d.initial_cost_eur,
        latest_cost_eur=d.latest_cost_eur,
    )


def _rosier(i: Item) -> bool | None:
    if i.drift() is None:
        return None
    r = i.latest()
    return weather_is_rosier(r["weather"] if r else None, i.health())


def _stale(i: Item) -> bool | None:
    if not i.figures:
        return None
    r = i.latest()
    assert i.stale_since is not None
    return r is None or r["reported_on"] < i.stale_since


def _listed(relation: str, make: Callable[[Any], Any]) -> Callable[[Item], Any]:
    def value(i: Item) -> Any:
        if not i.figures:
            return None
        return [make(r) for r in i.related.get(relation, [])]

    return value


def _ministry(i: Item) -> MinistryType:
    m = i.related["ministry"]
    return MinistryType(id=str(m["id"]), code=m["code"], name=m["name"])  # type: ignore[arg-type]


def _latest_report(i: Item) -> ReportType | None:
    r = i.latest()
    return None if r is None else ReportType.from_row(r)


def _cost_text(i: Item) -> str | None:
    cost = i.cost()
    return None if cost is None else format_meur(cost)


def _weather(i: Item) -> Weather | None:
    r = i.latest()
    return Weather(r["weather"]) if r is not None and r["weather"] else None


def _milestones(i: Item) -> list[MilestoneType] | None:
    if not i.figures:
        return None
    return [MilestoneType.from_row(m, i.today) for m in i.related.get("milestones", [])]


def _risk_rows(i: Item) -> list[RiskType] | None:
    if "risks" not in i.related:
        return None
    return [RiskType.from_row(r) for r in i.related["risks"]]


# Each ``Project`` field: the attribute it is stored in and how its value is made.
VALUES: dict[str, tuple[str, Callable[[Item], Any]]] = {
    "id": ("id", lambda i: format_pilot_id(i.row["id"])),
    "name": ("name", lambda i: i.row["name"]),
    "description": ("description", lambda i: i.row["description"]),
    "link": ("link", lambda i: i.row["link"]),
    "interministerial": ("interministerial", lambda i: i.row["interministerial"]),
    "functionalZone": ("functional_zone", lambda i: i.row["functional_zone_label"]),
    "programmes": ("programmes", lambda i: i.row["programmes"]),
    "phase": ("phase", lambda i: Phase(i.row["phase"]) if i.row["phase"] else None),
    "inPanorama": ("in_panorama", lambda i: i.row["in_panorama"]),
    "confidential": ("confidential", lambda i: i.row["confidential"]),
    "figuresWithheld": ("figures_withheld", lambda i: not i.figures),
    "startDate": ("start_date", lambda i: i.row["start_date"] if i.figures else None),
    "ministry": ("ministry", _ministry),
    "formerNames": (
        "former_names",
        lambda i: [n["name"] for n in i.related["names"] if n["name"] != i.row["name"]],
    ),
    "latestReport": ("latest_report", _latest_report),
    "currentCostEur": ("current_cost_eur", lambda i: i.cost()),
    "currentCostText": ("current_cost_text", _cost_text),
    "costBracket": (
        "cost_bracket",
        lambda i: cost_bracket(i.cost(), i.row["phase"]) if i.figures else None,
    ),
    "weather": ("weather", _weather),
    "drift": ("drift", _drift_type),
    "health": ("health", lambda i: i.health()),
    "weatherRosier": ("weather_rosier", _rosier),
    "stale": ("stale", _stale),
    "baselines": ("baselines", _listed("baselines", BaselineType.from_row)),
    "reports": ("reports", _listed("reports", ReportType.from_row)),
    "milestones": ("milestone_rows", _milestones),
    "risks": ("risk_rows", _risk_rows),
    "budgetLines": ("budget_lines", _listed("budget_lines", BudgetLineType.from_row)),
    "trajectory": ("trajectory", _listed("trajectory", TrajectoryPointType.from_point)),
    "auditTrail": (
        "audit_rows",
        lambda i: [AuditEventType.from_row(e) for e in i.related.get("audit", [])],
    ),
}


# --- Building -------------------------------------------------------------------------


def _plan(
    c: Context, rows: list[Mapping[Any, Any]], wanted: Wanted
) -> tuple[dict[str, tuple[str, ...]], dict[str, list[int]]]:
    """The relations to read, with their columns and the keys to read them for."""
    needed = reads(wanted)
    keys: dict[str, list[int]] = {}
    for name in needed:
        relation = RELATIONS[name]
        keys[name] = list(
            dict.fromkeys(
                row[relation.key] for row in rows if relation.visible(c, row["ministry_id"])
            )
        )
    return needed, keys


def _nodes(
    c: Context, rows: list[Mapping[Any, Any]], wanted: Wanted, found: dict[str, dict[int, Any]]
) -> list[ProjectNode]:
    since = (
        campaigns.stale_before(c.session, today=c.today, settings=c.settings)
        if "stale" in wanted
        else None
    )
    makers = [VALUES[name] for name in wanted.fields if name in VALUES]
    nodes = []
    for row in rows:
        ministry_id = row["ministry_id"]
        related = {}
        for name, by_key in found.items():
            relation = RELATIONS[name]
            if relation.visible(c, ministry_id):
                related[name] = by_key.get(row[relation.key], relation.empty)
        item = Item(row, _figures(c, ministry_id), related, c.today, since)
        values = {attribute: make(item) for attribute, make in makers}
        nodes.append(ProjectNode(ministry_id=ministry_id, **values))
    return nodes


def nodes(c: Context, rows: list[Mapping[Any, Any]], wanted: Wanted) -> list[ProjectNode]:
    """The nodes of a page of projects (rows of their own columns): each relation read
    in one statement for the whole page."""
    needed, keys = _plan(c, rows, wanted)
    found = {
        name: RELATIONS[name].load(c.session, keys[name], columns, _limit(name, wanted))
        if keys[name]
        else {}
        for name, columns in needed.items()
    }
    return _nodes(c, rows, wanted, found)


async def node(c: Context, row: Mapping[Any, Any], wanted: Wanted) -> ProjectNode:
    """The node of one project, its relations read through the request's DataLoaders
    (one per relation and column set): aliased ``project`` fields share a statement."""
    needed, keys = _plan(c, [row], wanted)
    jobs = [
        (name, key, _loader(c, name, columns, _limit(name, wanted)).load(key))
        for name, columns in needed.items()
        for key in keys[name]
    ]
    values = await asyncio.gather(*(job for _, _, job in jobs))
    found: dict[str, dict[int, Any]] = {name: {} for name in needed}
    for (name, key, _), value in zip(jobs, values, strict=True):
        found[name][key] = value
    return _nodes(c, [row], wanted, found)[0]


def _limit(name: str, wanted: Wanted) -> int | None:
    """The most rows of relation ``name`` a project needs for ``wanted`` (None: all)."""
    limit = RELATIONS[name].limit
    return None if limit is None else limit(wanted)


def _loader(
    c: Context, name: str, columns: tuple[str, ...], limit: int | None
) -> DataLoader[int, Any]:
    loaders: dict[Hashable, DataLoader[int, Any]] = c.loaders.by_selection
    key = (name, columns, limit)
    if key not in loaders:
        relation = RELATIONS[name]

        async def batch(ids: list[int]) -> list[Any]:
            found = relation.load(c.session, ids, columns, limit)
            return [found.get(i, relation.empty) for i in ids]

        loaders[key] = DataLoader(batch)
    return loaders[key]

"""``projects(filter, orderBy, first, after)``: filters pushed into SQL where they can
be, keyset pagination on (sort key, id).

Filters on stored columns (ministry, phase, zone, panorama, text, stale submission, late
milestones, risks) are SQL conditions. Filters and sorts on computed figures (health,
drift, météo, cost bracket, cost) are evaluated in Python over the candidate set, loaded
in a fixed number of statements, so the statement count never grows with the number of
projects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col

from pilot.api.graphql import permissions
from pilot.api.graphql.context import Context
from pilot.api.graphql.errors import BadUserInput
from pilot.api.graphql.permissions import Action
from pilot.api.graphql.projects.types import HealthEnum, PhaseEnum, WeatherEnum
from pilot.api.graphql.types import decode_cursor, encode_cursor, page_size
from pilot.campaigns import service as campaigns
from pilot.indicators import steering
from pilot.indicators.drift import ProjectDrift
from pilot.indicators.figures import BRACKET_UNKNOWN, COST_BRACKETS, cost_bracket
from pilot.indicators.health import health_from_drift
from pilot.ministries.models import Ministry, MinistryAlias
from pilot.projects import service as projects
from pilot.projects.models import Milestone, Project, Report, Risk
from pilot.text import clean_text, normalize_key

Row = Mapping[Any, Any]  # a project's columns, as many as the request needs


@strawberry.input(description="Every criterion given must hold (AND); lists are OR.")
class ProjectFilter:
    ministry: list[str] | None = strawberry.UNSET
    phase: list[PhaseEnum] | None = strawberry.UNSET  # type: ignore[valid-type]
    functional_zone: list[str] | None = strawberry.UNSET
    cost_bracket: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="« < 5 M€ », « entre 9 et 20 M€ », « En cadrage »…"
    )
    health: list[HealthEnum] | None = strawberry.UNSET  # type: ignore[valid-type]
    weather: list[WeatherEnum] | None = strawberry.UNSET  # type: ignore[valid-type]
    drift_above: float | None = strawberry.field(
        default=strawberry.UNSET,
        description="Budget or schedule drift against the initial baseline at or above "
        "this ratio (0.3 = 30 %)",
    )
    budget_drift_above: float | None = strawberry.UNSET
    schedule_drift_above: float | None = strawberry.UNSET
    has_late_milestones: bool | None = strawberry.UNSET
    risk_criticality_at_least: int | None = strawberry.field(
        default=strawberry.UNSET, description="An open risk of at least this criticality (1–16)"
    )
    has_unmitigated_critical_risks: bool | None = strawberry.UNSET
    stale: bool | None = strawberry.field(
        default=strawberry.UNSET, description="No report within the current reporting period"
    )
    in_panorama: bool | None = strawberry.UNSET
    search: str | None = strawberry.field(
        default=strawberry.UNSET, description="Words in the name or the description"
    )


@strawberry.enum
class ProjectOrderField(Enum):
    ID = "id"
    NAME = "name"
    START_DATE = "start_date"
    CURRENT_COST = "current_cost"
    BUDGET_DRIFT = "budget_drift"


@strawberry.enum
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input
class ProjectOrder:
    field: ProjectOrderField = ProjectOrderField.ID
    direction: OrderDirection = OrderDirection.ASC


def _given(value: Any) -> bool:
    return value is not strawberry.UNSET and value is not None


def _sql_conditions(c: Context, f: ProjectFilter) -> list[ColumnElement[bool]]:
    """The criteria that are plain SQL, plus who may see what."""
    principal = c.principal
    conds: list[ColumnElement[bool]] = [permissions.visible_projects(principal)]
    if _given(f.ministry):
        conds.append(col(Project.ministry_id).in_(_ministry_ids(c, f.ministry)))  # type: ignore[arg-type]
    if _given(f.phase):
        conds.append(col(Project.phase).in_([p.value for p in f.phase]))  # type: ignore[union-attr]
    if _given(f.functional_zone):
        keys = [normalize_key(z) for z in f.functional_zone]  # type: ignore[union-attr]
        conds.append(col(Project.functional_zone).in_(keys))
    if _given(f.in_panorama):
        conds.append(Project.in_panorama == f.in_panorama)  # type: ignore[arg-type]
    if _given(f.search) and f.search.strip():  # type: ignore[union-attr]
        text = f.search.strip()  # type: ignore[union-attr]
        limit = c.settings.graphql_max_search_length
        if len(text) > limit:
            raise BadUserInput(
                f"Recherche trop longue : {len(text)} caractères, {limit} au maximum. "
                "Cherchez quelques mots du nom ou de la description."
            )
        conds.append(
            or_(
                col(Project.name_key).contains(normalize_key(text), autoescape=True),
                func.lower(col(Project.description)).contains(text.lower(), autoescape=True),
            )
        )
    figure_filters = any(
        _given(v)
        for v in (
            f.has_late_milestones,
            f.risk_criticality_at_least,
            f.has_unmitigated_critical_risks,
            f.stale,
        )
    )
    if figure_filters:
        conds.append(permissions.figures_visible(principal))
    if _given(f.has_late_milestones):
        late = exists().where(
            col(Milestone.project_id) == col(Project.id), steering.late_milestone(c.today)
        )
        conds.append(late if f.has_late_milestones else ~late)
    if _given(f.risk_criticality_at_least) or _given(f.has_unmitigated_critical_risks):
        permissions.require(principal, Action.READ_RISKS)
    if _given(f.risk_criticality_at_least):
        conds.append(
            exists().where(
                col(Risk.project_id) == col(Project.id),
                steering.open_risk_at_least(f.risk_criticality_at_least),  # type: ignore[arg-type]
            )
        )
    if _given(f.has_unmitigated_critical_risks):
        unmitigated = exists().where(
            col(Risk.project_id) == col(Project.id), steering.unmitigated_risk()
        )
        conds.append(unmitigated if f.has_unmitigated_critical_risks else ~unmitigated)
    if _given(f.stale):
        since = campaigns.stale_before(c.session, today=c.today, settings=c.settings)
        recent = exists().where(
            col(Report.project_id) == col(Project.id), col(Report.reported_on) >= since
        )
        conds.append(~recent if f.stale else recent)
    return conds


def _ministry_ids(c: Context, codes: list[str]) -> list[int]:
    """The ministries of ``codes`` (current codes, former codes or names, as
    ``ministries.get_by_code`` reads them), in two statements whatever their number
    (the list's length is bounded by ``graphql_max_list_length``: cost.py)."""
    keys = {code: normalize_key(code) for code in codes}
    found: dict[str, int] = {}
    wanted = {k for k in keys.values() if k}
    if wanted:
        rows = c.session.execute(
            sa_select(col(MinistryAlias.key), col(MinistryAlias.ministry_id)).where(
                col(MinistryAlias.key).in_(wanted)
            )
        )
        by_key = {key: ministry_id for key, ministry_id in rows}
        found = {code: by_key[key] for code, key in keys.items() if key in by_key}
    rest = {clean_text(code) for code in codes if code not in found and keys[code]}
    if rest:
        rows = c.session.execute(
            sa_select(col(Ministry.code), col(Ministry.id)).where(col(Ministry.code).in_(rest))
        )
        by_code = {code: ministry_id for code, ministry_id in rows}
        for code in codes:
            if code not in found and clean_text(code) in by_code:
                found[code] = by_code[clean_text(code)]
    for code in codes:
        if code not in found:
            raise BadUserInput(f"Ministère inconnu : « {code} ».")
    return sorted(set(found.values()))


def _needs_figures(f: ProjectFilter, order: ProjectOrder) -> bool:
    return order.field in (
        ProjectOrderField.START_DATE,
        ProjectOrderField.CURRENT_COST,
        ProjectOrderField.BUDGET_DRIFT,
    ) or any(
        _given(v)
        for v in (
            f.cost_bracket,
            f.health,
            f.weather,
            f.drift_above,
            f.budget_drift_above,
            f.schedule_drift_above,
        )
    )


def _at_least(value: Decimal | None, threshold: float | None) -> bool:
    return value is not None and value >= Decimal(str(threshold))


def _figure_test(f: ProjectFilter) -> Callable[[Row, Report | None, ProjectDrift], bool]:
    if _given(f.cost_bracket):
        unknown = set(f.cost_bracket) - {*COST_BRACKETS, BRACKET_UNKNOWN}  # type: ignore[arg-type]
        if unknown:
            raise BadUserInput(
                f"Tranche de coût inconnue : « {sorted(unknown)[0]} » "
                f"(attendu : {', '.join(COST_BRACKETS)})."
            )
    brackets = set(f.cost_bracket) if _given(f.cost_bracket) else None  # type: ignore[arg-type]
    healths = {h.value for h in f.health} if _given(f.health) else None  # type: ignore[union-attr]
    weathers = {w.value for w in f.weather} if _given(f.weather) else None  # type: ignore[union-attr]

    def test(p: Row, r: Report | None, d: ProjectDrift) -> bool:
        if brackets is not None and (
            cost_bracket(r.current_cost_eur if r else None, p["phase"]) not in brackets
        ):
            return False
        if healths is not None:
            h = health_from_drift(d.budget_initial, d.schedule_initial)
            if h is None or h.value not in healths:
                return False
        if weathers is not None and (r is None or r.weather not in weathers):
            return False
        if _given(f.drift_above) and not (
            _at_least(d.budget_initial, f.drift_above)
            or _at_least(d.schedule_initial, f.drift_above)
        ):
            return False
        if _given(f.budget_drift_above) and not _at_least(d.budget_initial, f.budget_drift_above):
            return False
        return not (
            _given(f.schedule_drift_above)
            and not _at_least(d.schedule_initial, f.schedule_drift_above)
        )

    return test


def _sort_value(field: ProjectOrderField, p: Row, r: Report | None, d: ProjectDrift) -> Any:
    if field == ProjectOrderField.NAME:
        return p["name_key"]
    if field == ProjectOrderField.START_DATE:
        return p["start_date"].isoformat() if p["start_date"] else None
    if field == ProjectOrderField.CURRENT_COST:
        return r.current_cost_eur if r else None
    if field == ProjectOrderField.BUDGET_DRIFT:
        return None if d.budget_initial is None else float(round(d.budget_initial, 6))
    return p["id"]


def _rank(key: Any, row_id: int, desc: bool) -> tuple[Any, ...]:
    """A total order where missing keys come last in both directions."""
    if key is None:
        return (-1, row_id) if desc else (1, row_id)
    return (0, key, row_id)


@dataclass
class Page:
    """A page of projects: (cursor, the project's columns) in order."""

    rows: list[tuple[str, Row]]
    has_next_page: bool
    total: int | None  # known when counting cost nothing more
    count: Callable[[], int]


def list_projects(
    c: Context,
    f: ProjectFilter | None,
    order: ProjectOrder | None,
    first: int | None,
    after: str | None,
    columns: list[Any],
) -> Page:
    """The page asked for, each project with ``columns`` (which hold ``id``,
    ``ministry_id`` and ``name_key``)."""
    f = f or ProjectFilter()
    order = order or ProjectOrder()
    size = page_size(first, c.settings)
    desc = order.direction == OrderDirection.DESC
    conds = _sql_conditions(c, f)
    if _needs_figures(f, order):
        conds.append(permissions.figures_visible(c.principal))
        return _in_python(c, f, order, size, after, conds, desc, columns)
    return _in_sql(c, order, size, after, conds, desc, columns)


def _in_sql(
    c: Context,
    order: ProjectOrder,
    size: int,
    after: str | None,
    conds: list[ColumnElement[bool]],
    desc: bool,
    columns: list[Any],
) -> Page:
    key_col = col(Project.name_key) if order.field == ProjectOrderField.NAME else col(Project.id)
    query = sa_select(*columns).where(*conds)
    if after:
        key, row_id = decode_cursor(after, order.field.value)
        if order.field == ProjectOrderField.NAME:
            if desc:
                query = query.where(
                    or_(key_col < key, and_(key_col == key, col(Project.id) < row_id))
                )
            else:
                query = query.where(
                    or_(key_col > key, and_(key_col == key, col(Project.id) > row_id))
                )
        else:
            query = query.where(col(Project.id) < row_id if desc else col(Project.id) > row_id)
    ordering = [key_col.desc(), col(Project.id).desc()] if desc else [key_col, col(Project.id)]
    result = c.session.execute(query.order_by(*ordering).limit(size + 1))
    keys = list(result.keys())
    rows: list[Row] = [dict(zip(keys, values, strict=True)) for values in result.all()]
    page, more = rows[:size], len(rows) > size

    def count() -> int:
        return int(
            c.session.execute(
                sa_select(func.count()).select_from(Project).where(*conds)
            ).scalar_one()
        )

    return Page(
        rows=[
            (
                encode_cursor(
                    order.field.value, _sort_value(order.field, p, None, _NO_DRIFT), p["id"]
                ),
                p,
            )
            for p in page
        ],
        has_next_page=more,
        total=None,
        count=count,
    )


_NO_DRIFT = ProjectDrift(None, None, None, None, None, None)


def _in_python(
    c: Context,
    f: ProjectFilter,
    order: ProjectOrder,
    size: int,
    after: str | None,
    conds: list[ColumnElement[bool]],
    desc: bool,
    columns: list[Any],
) -> Page:
    table = Project.__table__  # type: ignore[attr-defined]
    columns = [
        *columns,
        *(table.c[n] for n in ("phase", "start_date") if table.c[n] not in columns),
    ]
    candidates = list(c.session.execute(sa_select(*columns).where(*conds)).mappings())
    ids = [p["id"] for p in candidates]
    reports = projects.latest_reports(c.session, ids) if ids else {}
    bases = projects.baselines_by_project(c.session, ids) if ids else {}
    test = _figure_test(f)
    ranked: list[tuple[tuple[Any, ...], Any, Row]] = []
    for p in candidates:
        r = reports.get(p["id"])
        initial, latest = bases.get(p["id"], (None, None))
        d = projects.drift_of(initial, latest, r)
        if not test(p, r, d):
            continue
        key = _sort_value(order.field, p, r, d)
        ranked.append((_rank(key, p["id"], desc), key, p))
    ranked.sort(key=lambda t: t[0], reverse=desc)
    if after:
        key, row_id = decode_cursor(after, order.field.value)
        start = _rank(key, row_id, desc)
        ranked = [t for t in ranked if (t[0] < start if desc else t[0] > start)]
    page = ranked[:size]
    total = len(ranked) if not after else None
    return Page(
        rows=[(encode_cursor(order.field.value, key, p["id"]), p) for _, key, p in page],
        has_next_page=len(ranked) > size,
        total=total,
        count=lambda: _count_python(c, f, order, conds, columns),
    )


def _count_python(
    c: Context,
    f: ProjectFilter,
    order: ProjectOrder,
    conds: list[ColumnElement[bool]],
    columns: list[Any],
) -> int:
    page = _in_python(c, f, order, c.settings.graphql_max_page_size, None, conds, False, columns)
    assert page.total is not None
    return page.total

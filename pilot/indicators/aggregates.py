"""The live portfolio's key figures, computed by the database in one statement.

The same figures as ``service.portfolio_of(project_statuses(...))`` (counts, sums, mean
duration, drift means, health counts, distributions by ministry, phase, cost bracket and
functional zone), without loading a row per project: a common table expression derives
each project's figures (latest report at the date, initial and latest baselines, drift,
health), and one ``GROUP BY`` per distribution, joined by ``UNION ALL``, sums them. Python
only merges functional zones that differ by case or accents, orders the distributions
and does the last divisions in ``Decimal`` (as ``figures`` and ``drift`` do).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Float,
    Integer,
    Numeric,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlmodel import Session

from pilot.indicators.drift import DriftMeans
from pilot.indicators.figures import (
    BRACKET_5_9,
    BRACKET_9_20,
    BRACKET_20_100,
    BRACKET_CADRAGE,
    BRACKET_OVER_100,
    BRACKET_UNDER_5,
    BRACKET_UNKNOWN,
    PHASE_CADRAGE,
    Figures,
)
from pilot.indicators.health import AMBER_FROM, RED_FROM, Health
from pilot.indicators.service import Portfolio, portfolio_of
from pilot.ministries.models import Ministry
from pilot.money import BILLION, MILLION, round_half_up
from pilot.projects.models import Baseline, Project, Report
from pilot.text import clean_text, normalize_key

NO_PHASE = "Non renseignée"
NO_ZONE = "Non renseignée"
_WEATHER_RANK = {"soleil": 0, "nuageux": 1, "orage": 2}
_HEALTH_RANK = {Health.GREEN.value: 0, Health.AMBER.value: 1, Health.RED.value: 2}


@dataclass(frozen=True)
class LivePortfolio:
    portfolio: Portfolio
    # Sum of the known current costs, by distribution ("ministry", "phase",
    # "cost_bracket", "functional_zone") and label
    costs: dict[str, dict[str, int]] = field(default_factory=dict)


def _days(dialect: str, end: Any, start: Any) -> ColumnElement[Any]:
    """Days from ``start`` to ``end`` (dates), an integer, on either database."""
    if dialect == "sqlite":
        return cast(func.julianday(end) - func.julianday(start), Integer)
    return cast(end - start, Integer)


def _ratio(dialect: str, numerator: Any, denominator: Any) -> ColumnElement[Any]:
    """``numerator / denominator - 0`` exactly enough for 4 decimals; NULL when the
    denominator is NULL or 0 (``drift.relative_drift``)."""
    kind = Float if dialect == "sqlite" else Numeric
    return case(
        (or_(denominator.is_(None), denominator == 0), null()),
        else_=cast(numerator, kind) / denominator,
    )


def _ranked(model: Any, order: list[Any], *where: Any) -> Any:
    """The last row of ``model`` per project in ``order`` (rank 1 of the reverse)."""
    t = model.__table__
    return (
        select(
            t,
            func.row_number()
            .over(partition_by=t.c.project_id, order_by=[o.desc() for o in order])
            .label("rank"),
        )
        .where(*where)
        .subquery()
    )


def _projects(dialect: str, dated: bool, scoped: bool) -> Any:
    """One row per project of the panorama: its figures as the indicators see them
    (``dated``: reports up to the ``as_of`` parameter; ``scoped``: of the
    ``ministry_id`` parameter's ministry only)."""
    p, m = Project.__table__, Ministry.__table__  # type: ignore[attr-defined]
    rt, bt = Report.__table__, Baseline.__table__  # type: ignore[attr-defined]
    report = _ranked(
        Report,
        [rt.c.reported_on, rt.c.id],
        *([rt.c.reported_on <= bindparam("as_of", type_=Date)] if dated else []),
    )
    initial = _ranked(Baseline, [bt.c.approved_on, bt.c.id], bt.c.kind == "initial")
    latest = _ranked(Baseline, [bt.c.approved_on, bt.c.id])
    r = select(report).where(report.c.rank == 1).subquery("r")
    ib = select(initial).where(initial.c.rank == 1).subquery("ib")
    lb = select(latest).where(latest.c.rank == 1).subquery("lb")
    cost = r.c.current_cost_eur
    measured = and_(r.c.id.is_not(None), ib.c.id.is_not(None))

    def budget(base: Any) -> ColumnElement[Any]:
        return case((measured, _ratio(dialect, cost - base.c.cost_eur, base.c.cost_eur)))

    def schedule(base: Any) -> ColumnElement[Any]:
        planned = _days(dialect, base.c.end_date, base.c.start_date)
        now = _days(dialect, r.c.forecast_end, base.c.start_date)
        return case((measured, _ratio(dialect, now - planned, planned)))

    phase = func.coalesce(func.nullif(r.c.phase, ""), p.c.phase)
    start = func.coalesce(p.c.start_date, ib.c.start_date)
    query = (
        select(
            p.c.id,
            m.c.code.label("ministry"),
            p.c.interministerial,
            phase.label("phase"),
            cost.label("cost"),
            _days(dialect, r.c.forecast_end, start).label("days"),
            p.c.functional_zone_label.label("zone"),
            r.c.weather,
            budget(ib).label("budget_initial"),
            schedule(ib).label("schedule_initial"),
            budget(lb).label("budget_latest"),
            schedule(lb).label("schedule_latest"),
            ib.c.cost_eur.label("initial_cost"),
            lb.c.cost_eur.label("latest_cost"),
        )
        .join(m, m.c.id == p.c.ministry_id)
        .outerjoin(r, r.c.project_id == p.c.id)
        .outerjoin(ib, ib.c.project_id == p.c.id)
        .outerjoin(lb, lb.c.project_id == p.c.id)
        .where(p.c.in_panorama.is_(True))
    )
    if scoped:
        query = query.where(p.c.ministry_id == bindparam("ministry_id", type_=Integer))
    return query.cte("figures")


def _health(f: Any) -> ColumnElement[Any]:
    bi, si = f.c.budget_initial, f.c.schedule_initial
    worst = case((bi.is_(None), si), (si.is_(None), bi), (bi > si, bi), else_=si)
    return case(
        (worst.is_(None), null()),
        (worst >= RED_FROM, literal(Health.RED.value)),
        (worst >= AMBER_FROM, literal(Health.AMBER.value)),
        else_=literal(Health.GREEN.value),
    )


def _bracket(f: Any) -> ColumnElement[Any]:
    cost = f.c.cost
    return case(
        (
            cost.is_(None),
            case(
                (or_(f.c.phase.is_(None), f.c.phase == PHASE_CADRAGE), literal(BRACKET_CADRAGE)),
                else_=literal(BRACKET_UNKNOWN),
            ),
        ),
        (cost < 5 * MILLION, literal(BRACKET_UNDER_5)),
        (cost < 9 * MILLION, literal(BRACKET_5_9)),
        (cost < 20 * MILLION, literal(BRACKET_9_20)),
        (cost <= 100 * MILLION, literal(BRACKET_20_100)),
        else_=literal(BRACKET_OVER_100),
    )


def _rosier(f: Any, health: ColumnElement[Any]) -> ColumnElement[Any]:
    weather = case(
        *((f.c.weather == w, literal(rank)) for w, rank in _WEATHER_RANK.items()), else_=null()
    )
    computed = case(
        *((health == h, literal(rank)) for h, rank in _HEALTH_RANK.items()), else_=null()
    )
    return case((weather < computed, 1), else_=0)


def _counted(f: Any, dimension: str, label: Any) -> Select[Any]:
    health = _health(f)
    bi, si, bl, sl = (
        f.c.budget_initial,
        f.c.schedule_initial,
        f.c.budget_latest,
        f.c.schedule_latest,
    )

    def known(value: Any) -> ColumnElement[Any]:
        return func.count(value)

    def weighted(
        name: str, value: Any, weight: Any
    ) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        counted = and_(value.is_not(None), weight.is_not(None), weight != 0)
        return (
            func.sum(case((counted, value * weight))).label(f"{name}_w"),
            func.sum(case((counted, weight))).label(f"{name}_weights"),
        )

    return select(
        literal(dimension).label("dimension"),
        label.label("label"),
        func.min(f.c.id).label("first_id"),
        func.count().label("projects"),
        func.sum(case((f.c.interministerial.is_(True), 1), else_=0)).label("interministerial"),
        cast(func.sum(f.c.cost), BigInteger).label("cost"),
        func.count(f.c.cost).label("costed"),
        func.sum(f.c.days).label("days"),
        func.count(f.c.days).label("durations"),
        func.sum(case((health == Health.RED.value, 1), else_=0)).label("red"),
        func.sum(case((health == Health.AMBER.value, 1), else_=0)).label("amber"),
        func.sum(case((health == Health.GREEN.value, 1), else_=0)).label("green"),
        func.sum(_rosier(f, health)).label("rosier"),
        func.sum(case((or_(bi.is_not(None), si.is_not(None)), 1), else_=0)).label("measured"),
        func.sum(bi).label("bi"),
        known(bi).label("bi_n"),
        *weighted("bi", bi, f.c.initial_cost),
        func.sum(si).label("si"),
        known(si).label("si_n"),
        *weighted("si", si, f.c.initial_cost),
        func.sum(bl).label("bl"),
        known(bl).label("bl_n"),
        *weighted("bl", bl, f.c.latest_cost),
        func.sum(sl).label("sl"),
        known(sl).label("sl_n"),
        *weighted("sl", sl, f.c.latest_cost),
    ).group_by(label)


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _mean(total: Any, count: int) -> Decimal | None:
    return None if not count else _decimal(total) / count


def _weighted(total: Any, weights: Any) -> Decimal | None:
    return None if not weights else _decimal(total) / _decimal(weights)


def _sorted(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


@lru_cache(maxsize=16)
def _statement(dialect: str, dated: bool, scoped: bool) -> Any:
    """The statement, built once (building it costs more than running it)."""
    f = _projects(dialect, dated, scoped)
    return union_all(
        _counted(f, "total", literal("")),
        _counted(f, "ministry", f.c.ministry),
        _counted(f, "phase", func.coalesce(func.nullif(f.c.phase, ""), NO_PHASE)),
        _counted(f, "cost_bracket", _bracket(f)),
        _counted(f, "functional_zone", f.c.zone),
    )


def live_portfolio(
    session: Session, *, as_of: date | None = None, ministry_id: int | None = None
) -> LivePortfolio:
    """The live portfolio at ``as_of`` (one ministry's, or every one), in one statement."""
    dialect = session.get_bind().dialect.name
    query = _statement(dialect, as_of is not None, ministry_id is not None)
    parameters: dict[str, Any] = {}
    if as_of is not None:
        parameters["as_of"] = as_of
    if ministry_id is not None:
        parameters["ministry_id"] = ministry_id
    rows = session.execute(query, parameters).all()
    by: dict[str, dict[str, int]] = defaultdict(dict)
    costs: dict[str, dict[str, int]] = defaultdict(dict)
    total = None
    zones: dict[str, str] = {}  # key → first label met (by project id)
    for row in sorted(rows, key=lambda r: (r.dimension, r.first_id or 0)):
        if row.dimension == "total":
            total = row
            continue
        label = row.label
        if row.dimension == "functional_zone":
            label = zones.setdefault(normalize_key(label or ""), clean_text(label or "") or NO_ZONE)
        by[row.dimension][label] = by[row.dimension].get(label, 0) + row.projects
        costs[row.dimension][label] = costs[row.dimension].get(label, 0) + int(row.cost or 0)
    if total is None or not total.projects:
        return LivePortfolio(_empty(), {})
    cost = int(total.cost or 0)
    mean_days = _mean(total.days, total.durations)
    figures = Figures(
        projects=total.projects,
        interministerial=int(total.interministerial),
        total_cost_eur=cost,
        total_cost_bn=round_half_up(Decimal(cost) / BILLION, 2),
        mean_duration_years=None
        if mean_days is None
        else round_half_up(mean_days / Decimal(365), 1),
        costed_projects=total.costed,
        by_ministry=_sorted(by["ministry"]),
        by_phase=_sorted(by["phase"]),
        by_cost_bracket=_sorted(by["cost_bracket"]),
        by_functional_zone=_sorted(by["functional_zone"]),
    )
    t = total
    drift = DriftMeans(
        budget_initial=_mean(t.bi, t.bi_n),
        budget_initial_weighted=_weighted(t.bi_w, t.bi_weights),
        schedule_initial=_mean(t.si, t.si_n),
        schedule_initial_weighted=_weighted(t.si_w, t.si_weights),
        budget_latest=_mean(t.bl, t.bl_n),
        budget_latest_weighted=_weighted(t.bl_w, t.bl_weights),
        schedule_latest=_mean(t.sl, t.sl_n),
        schedule_latest_weighted=_weighted(t.sl_w, t.sl_weights),
        projects_measured=int(t.measured),
    )
    return LivePortfolio(
        Portfolio(
            figures=figures,
            drift=drift,
            red=int(total.red),
            amber=int(total.amber),
            green=int(total.green),
            weather_rosier=int(total.rosier),
        ),
        dict(costs),
    )


def _empty() -> Portfolio:
    return portfolio_of([])

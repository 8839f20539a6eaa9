"""Budget and schedule drift, against the initial baseline and since the latest one.

budget drift = (current cost − baseline cost) / baseline cost
schedule drift = (current duration − baseline duration) / baseline duration
where durations run from the baseline's start date to the planned (or forecast) end.
A missing or zero reference gives no drift (``None``), never a division by zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

DAYS_PER_YEAR = Decimal(365)


def duration_years(start: date | None, end: date | None) -> Decimal | None:
    """Years between two dates as DINUM counts them (days / 365)."""
    if start is None or end is None:
        return None
    return Decimal((end - start).days) / DAYS_PER_YEAR


def relative_drift(
    current: Decimal | int | None, reference: Decimal | int | None
) -> Decimal | None:
    if current is None or reference is None or reference == 0:
        return None
    return (Decimal(current) - Decimal(reference)) / Decimal(reference)


@dataclass(frozen=True)
class BaselineFigures:
    cost_eur: int | None
    start_date: date | None
    end_date: date | None

    @property
    def duration(self) -> Decimal | None:
        return duration_years(self.start_date, self.end_date)


@dataclass(frozen=True)
class CurrentFigures:
    cost_eur: int | None
    forecast_end: date | None


@dataclass(frozen=True)
class ProjectDrift:
    budget_initial: Decimal | None
    schedule_initial: Decimal | None
    budget_latest: Decimal | None
    schedule_latest: Decimal | None
    initial_cost_eur: int | None
    latest_cost_eur: int | None


def _schedule(baseline: BaselineFigures, current: CurrentFigures) -> Decimal | None:
    # The current duration runs from the same start as the baseline it is compared with.
    now = duration_years(baseline.start_date, current.forecast_end)
    return relative_drift(now, baseline.duration)


def project_drift(
    initial: BaselineFigures | None,
    latest: BaselineFigures | None,
    current: CurrentFigures | None,
) -> ProjectDrift:
    """Drift of one project. ``latest`` is the most recent baseline (the initial one when
    the project was never re-baselined)."""
    latest = latest or initial
    if current is None or initial is None or latest is None:
        return ProjectDrift(
            None,
            None,
            None,
            None,
            initial.cost_eur if initial else None,
            latest.cost_eur if latest else None,
        )
    return ProjectDrift(
        budget_initial=relative_drift(current.cost_eur, initial.cost_eur),
        schedule_initial=_schedule(initial, current),
        budget_latest=relative_drift(current.cost_eur, latest.cost_eur),
        schedule_latest=_schedule(latest, current),
        initial_cost_eur=initial.cost_eur,
        latest_cost_eur=latest.cost_eur,
    )


@dataclass(frozen=True)
class DriftMeans:
    """Portfolio means: plain (each project counts once) and cost-weighted (each project
    weighs its baseline cost, so the weighted budget mean is Σcurrent / Σbaseline − 1)."""

    budget_initial: Decimal | None
    budget_initial_weighted: Decimal | None
    schedule_initial: Decimal | None
    schedule_initial_weighted: Decimal | None
    budget_latest: Decimal | None
    budget_latest_weighted: Decimal | None
    schedule_latest: Decimal | None
    schedule_latest_weighted: Decimal | None
    projects_measured: int


def _means(pairs: list[tuple[Decimal, int | None]]) -> tuple[Decimal | None, Decimal | None]:
    if not pairs:
        return None, None
    plain = sum((d for d, _ in pairs), Decimal(0)) / len(pairs)
    weighted_pairs = [(d, w) for d, w in pairs if w]
    total_weight = sum(w for _, w in weighted_pairs if w)
    weighted = (
        sum((d * w for d, w in weighted_pairs if w), Decimal(0)) / total_weight
        if total_weight
        else None
    )
    return plain, weighted


def drift_means(drifts: Iterable[ProjectDrift]) -> DriftMeans:
    drifts = list(drifts)

    def collect(attr: str, weight: str) -> list[tuple[Decimal, int | None]]:
        return [
            (getattr(d, attr), getattr(d, weight)) for d in drifts if getattr(d, attr) is not None
        ]

    bi = _means(collect("budget_initial", "initial_cost_eur"))
    si = _means(collect("schedule_initial", "initial_cost_eur"))
    bl = _means(collect("budget_latest", "latest_cost_eur"))
    sl = _means(collect("schedule_latest", "latest_cost_eur"))
    measured = sum(
        1 for d in drifts if d.budget_initial is not None or d.schedule_initial is not None
    )
    return DriftMeans(bi[0], bi[1], si[0], si[1], bl[0], bl[1], sl[0], sl[1], measured)

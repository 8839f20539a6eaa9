from datetime import date
from decimal import Decimal

from pilot.indicators.drift import (
    BaselineFigures,
    CurrentFigures,
    drift_means,
    duration_years,
    project_drift,
    relative_drift,
)
from pilot.indicators.health import Health, health_from_drift, weather_is_rosier

M = 1_000_000
START = date(2015, 1, 1)
END = date(2019, 1, 1)


def test_relative_drift_is_none_for_missing_or_zero_reference() -> None:
    assert relative_drift(12, 10) == Decimal("0.2")
    assert relative_drift(None, 10) is None
    assert relative_drift(12, None) is None
    assert relative_drift(12, 0) is None


def test_duration_counts_days_over_365() -> None:
    assert duration_years(date(2013, 7, 1), date(2017, 3, 31)) == Decimal(1369) / 365
    assert duration_years(None, END) is None


def test_drift_is_measured_against_initial_and_latest_baseline() -> None:
    initial = BaselineFigures(100 * M, START, END)
    latest = BaselineFigures(150 * M, START, date(2021, 1, 1))
    current = CurrentFigures(165 * M, date(2021, 1, 1))
    d = project_drift(initial, latest, current)
    assert d.budget_initial == Decimal("0.65")
    assert d.budget_latest == Decimal("0.1")
    assert d.schedule_latest == 0
    assert d.schedule_initial is not None and d.schedule_initial > Decimal("0.49")


def test_rebaselining_never_hides_drift_against_the_initial_baseline() -> None:
    initial = BaselineFigures(100 * M, START, END)
    rebased = BaselineFigures(200 * M, START, END)
    d = project_drift(initial, rebased, CurrentFigures(200 * M, END))
    assert d.budget_latest == 0
    assert d.budget_initial == 1


def test_no_baseline_or_no_report_gives_no_drift() -> None:
    assert project_drift(None, None, CurrentFigures(1, END)).budget_initial is None
    assert project_drift(BaselineFigures(1, START, END), None, None).budget_initial is None


def test_zero_cost_baseline_gives_no_budget_drift_but_keeps_schedule() -> None:
    d = project_drift(BaselineFigures(0, START, END), None, CurrentFigures(5 * M, END))
    assert d.budget_initial is None
    assert d.schedule_initial == 0


def test_portfolio_means_plain_and_cost_weighted() -> None:
    small = project_drift(BaselineFigures(10 * M, START, END), None, CurrentFigures(20 * M, END))
    big = project_drift(BaselineFigures(90 * M, START, END), None, CurrentFigures(90 * M, END))
    means = drift_means([small, big])
    assert means.budget_initial == Decimal("0.5")  # (100 % + 0 %) / 2
    assert means.budget_initial_weighted == Decimal("0.1")  # 110 / 100 − 1
    assert means.projects_measured == 2


def test_portfolio_means_of_nothing_are_none() -> None:
    means = drift_means([])
    assert means.budget_initial is None and means.budget_initial_weighted is None


def test_health_thresholds_follow_the_it_dashboard() -> None:
    assert health_from_drift(Decimal("0.0999")) == Health.GREEN
    assert health_from_drift(Decimal("0.10")) == Health.AMBER
    assert health_from_drift(Decimal("0.2999")) == Health.AMBER
    assert health_from_drift(Decimal("0.30")) == Health.RED
    assert health_from_drift(Decimal("-0.5")) == Health.GREEN
    assert health_from_drift(Decimal("0.05"), Decimal("0.4")) == Health.RED
    assert health_from_drift(None, None) is None


def test_declared_weather_rosier_than_computed_health_is_flagged() -> None:
    assert weather_is_rosier("soleil", Health.RED)
    assert weather_is_rosier("nuageux", Health.RED)
    assert not weather_is_rosier("orage", Health.RED)
    assert not weather_is_rosier("soleil", Health.GREEN)
    assert not weather_is_rosier(None, Health.RED)

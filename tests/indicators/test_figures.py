from decimal import Decimal

from pilot.indicators.figures import (
    BRACKET_5_9,
    BRACKET_9_20,
    BRACKET_20_100,
    BRACKET_CADRAGE,
    BRACKET_OVER_100,
    BRACKET_UNDER_5,
    BRACKET_UNKNOWN,
    Figures,
    PortfolioRow,
    compute_figures,
    cost_bracket,
)

M = 1_000_000


def row(
    cost: float | None,
    duration: str | None = None,
    inter: bool = False,
    ministry: str = "MI",
    phase: str | None = "Déploiement",
) -> PortfolioRow:
    return PortfolioRow(
        ministry=ministry,
        interministerial=inter,
        phase=phase,
        cost_eur=None if cost is None else int(cost * M),
        duration_years=None if duration is None else Decimal(duration),
    )


def test_cost_brackets_have_inclusive_lower_bounds() -> None:
    assert cost_bracket(int(4.99 * M)) == BRACKET_UNDER_5
    assert cost_bracket(5 * M) == BRACKET_5_9
    assert cost_bracket(9 * M) == BRACKET_9_20
    assert cost_bracket(20 * M) == BRACKET_20_100
    assert cost_bracket(100 * M) == BRACKET_20_100
    assert cost_bracket(100 * M + 1) == BRACKET_OVER_100


def test_unknown_cost_is_en_cadrage_only_for_projects_in_cadrage() -> None:
    assert cost_bracket(None, "Cadrage") == BRACKET_CADRAGE
    assert cost_bracket(None, None) == BRACKET_CADRAGE
    assert cost_bracket(None, "Déploiement") == BRACKET_UNKNOWN


def test_missing_costs_and_durations_are_left_out_not_counted_as_zero() -> None:
    f = compute_figures([row(10, "2"), row(None, None, phase="Cadrage"), row(20, "4")])
    assert f.projects == 3
    assert f.total_cost_eur == 30 * M
    assert f.costed_projects == 2
    assert f.mean_duration_years == Decimal("3.0")


def test_total_is_rounded_half_up_to_two_decimals_in_billions() -> None:
    f = compute_figures([row(2285), row(0.001)])  # 2,285001 Md€
    assert f.total_cost_bn == Decimal("2.29")
    assert compute_figures([row(2284.999)]).total_cost_bn == Decimal("2.28")


def test_empty_portfolio_has_zero_total_and_no_mean() -> None:
    f = compute_figures([])
    assert (f.projects, f.total_cost_eur, f.mean_duration_years) == (0, 0, None)


def test_distributions_count_each_project_once() -> None:
    f = compute_figures(
        [
            row(10, inter=True, ministry="MEF"),
            row(3, ministry="MEF"),
            row(None, phase="Cadrage", ministry="MJ"),
        ]
    )
    assert f.interministerial == 1
    assert f.by_ministry == {"MEF": 2, "MJ": 1}
    assert f.by_cost_bracket == {BRACKET_9_20: 1, BRACKET_UNDER_5: 1, BRACKET_CADRAGE: 1}


def test_figures_survive_a_json_round_trip_exactly() -> None:
    f = compute_figures([row(10.5, "3.75"), row(1, "1")])
    assert Figures.from_json(f.to_json()) == f

"""Property-based tests (Hypothesis) of the lenient French value parsers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from importers.parsing import (
    ParseError,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_programmes,
)
from pilot.money import format_decimal_fr, format_meur, meur_to_eur, round_half_up

# What a spreadsheet cell can hold, and what people type in it.
cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet="0123456789 ,.-+eE€M\u00a0\u202f/janvierfévrmsod"),
    st.dates(),
    st.datetimes(),
)
PARSERS = [parse_decimal, parse_date, parse_bool, parse_programmes]


@settings(max_examples=1000)
@given(cells)
def test_parsers_raise_nothing_but_parse_error(value: object) -> None:
    for parser in PARSERS:
        try:
            parser(value)
        except ParseError as error:
            assert str(error).startswith("«")
            assert len(str(error)) < 200


@settings(max_examples=500)
@given(cells)
def test_a_parsed_amount_can_always_be_stored_in_euros(value: object) -> None:
    try:
        number = parse_decimal(value)
    except ParseError:
        return
    if number is not None:
        assert abs(meur_to_eur(number)) < 2**63  # fits a BIGINT, never overflows


amounts = st.decimals(
    min_value=Decimal("-1e11"), max_value=Decimal("1e11"), allow_nan=False, places=3
)


@settings(max_examples=500)
@given(amounts, st.integers(min_value=0, max_value=3))
def test_french_formatting_round_trips(value: Decimal, places: int) -> None:
    assert parse_decimal(format_decimal_fr(value, places)) == round_half_up(value, places)


@settings(max_examples=300)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_meur_round_trips(eur: int) -> None:
    parsed = parse_decimal(format_meur(eur, places=6))
    assert parsed is not None and meur_to_eur(parsed) == eur


@settings(max_examples=300)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_french_and_iso_dates_round_trip(day: date) -> None:
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d.%m.%Y")) == day


@settings(max_examples=300)
@given(st.lists(st.integers(min_value=100, max_value=999), max_size=6))
def test_programmes_are_found_in_order_without_duplicates(numbers: list[int]) -> None:
    text = " / ".join(f"P{n}" for n in numbers)
    assert parse_programmes(text) == list(dict.fromkeys(numbers))

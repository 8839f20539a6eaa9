"""Lenient French values: what the panorama files and ministry workbooks contain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from importers.parsing import ParseError, parse_date, parse_decimal, parse_programmes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-01-01", date(2017, 1, 1)),
        ("01/01/2017", date(2017, 1, 1)),
        ("1/1/17", date(2017, 1, 1)),
        ("janvier 2015", date(2015, 1, 1)),
        ("Octobre 14", date(2014, 10, 1)),
        ("oct. 2014", date(2014, 10, 1)),
        ("1er janvier 2015", date(2015, 1, 1)),
        ("2015", date(2015, 1, 1)),
        (2015, date(2015, 1, 1)),  # a year typed as a number, not an Excel serial
        (42736, date(2017, 1, 1)),  # an Excel serial
        (datetime(2017, 1, 1, 0, 0), date(2017, 1, 1)),
        ("En cadrage", None),
        ("", None),
    ],
)
def test_dates(value: object, expected: date | None) -> None:
    assert parse_date(value) == expected


def test_a_date_that_is_not_one_is_a_french_error() -> None:
    with pytest.raises(ParseError, match="n'est pas une date"):
        parse_date("bientôt")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("52,4", Decimal("52.4")),
        ("52.4", Decimal("52.4")),
        ("1 234,5", Decimal("1234.5")),
        ("1.234,5", Decimal("1234.5")),
        ("12,5 M€", Decimal("12.5")),
        (3.75, Decimal("3.75")),
        ("NA", None),
        ("En cadrage", None),
    ],
)
def test_decimals(value: object, expected: Decimal | None) -> None:
    assert parse_decimal(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Coordination du travail gouvernemental (P129)", [129]),
        ("Programmes 156/349/218", [156, 349, 218]),
        ("(P215)/ Enseignement technique agricole (P143)", [215, 143]),
        ("Police nationale (P176) à 80% / Sécurité civile (P161) : 1,6%", [176, 161]),
        ("P176 : 100 %", [176]),
        ("P129 et P129", [129]),
        ("Financement PLFSS", []),
        (None, []),
    ],
)
def test_programmes(value: object, expected: list[int]) -> None:
    assert parse_programmes(value) == expected

"""Lenient parsing of the values people and DINUM actually write in spreadsheets.

Unknown is ``None``, never zero: "En cadrage", "NA", "N/A", "nc", "-" and empty cells.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from pilot.text import clean_text, normalize_key
from pilot.timeutil import MAX_YEAR, MIN_YEAR

UNKNOWN_MARKERS = {
    "",
    "en cadrage",
    "na",
    "n a",
    "nc",
    "n c",
    "nd",
    "non communique",
    "non renseigne",
    "inconnu",
    "-",
    "?",
}

MONTHS_FR = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "mar": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}
EXCEL_EPOCH = date(1899, 12, 30)
# The years PILOT accepts (pilot.timeutil): both readers (workbook and panorama) refuse a
# date or a year outside. A bare number in this range is a year, not an Excel serial.
# Beyond these a number is a typing error, and would overflow computations and BIGINTs.
LARGEST = Decimal("1e12")
SMALLEST = Decimal("1e-12")


class ParseError(ValueError):
    """A value that cannot be read; the message is French, for the person who wrote it."""


def _show(value: object, limit: int = 60) -> str:
    """A value as quoted in a message: cut when long, never failing."""
    try:
        text = str(value)
    except ValueError:  # an integer with thousands of digits
        return "nombre de plusieurs milliers de chiffres"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_unknown(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return normalize_key(value) in UNKNOWN_MARKERS
    return False


def parse_decimal(value: object) -> Decimal | None:
    """``52`` · ``52.0`` · ``"52,5"`` · ``"1 234,5"`` · ``"1.234,5"`` → Decimal; unknown → None."""
    if is_unknown(value):
        return None
    if isinstance(value, bool):
        raise ParseError(f"« {_show(value)} » n'est pas un nombre.")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        number = _decimal_from_text(value)
    if not number.is_finite():
        raise ParseError(f"« {_show(value)} » n'est pas un nombre fini.")
    if number and not SMALLEST <= abs(number) < LARGEST:
        raise ParseError(f"« {_show(value)} » est hors des limites raisonnables.")
    return number


def _decimal_from_text(value: object) -> Decimal:
    text = clean_text(str(value)).replace(" ", "").replace("€", "").replace("M", "")
    text = text.replace("\u202f", "").replace("\u00a0", "")
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".")  # 1.234,5
    else:
        text = text.replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ParseError(f"« {_show(value)} » n'est pas un nombre (exemple : 1 234,5).") from None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def parse_date(value: object) -> date | None:
    """Dates as dates, ISO ("2017-01-01"), French ("01/01/2017", "1.1.17"), month and year
    in French ("janvier 2015", "1er janvier 2015", "octobre 14", "oct. 2014"), a year alone
    ("2015" → 1 January), or an Excel serial number."""
    if is_unknown(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ParseError(f"« {_show(value)} » n'est pas une date (exemple : 01/01/2017).")
        if value == int(value) and MIN_YEAR <= value <= MAX_YEAR:
            return date(int(value), 1, 1)  # a year alone, typed as a number
        if 1 <= value < 100_000:
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise ParseError(f"« {_show(value)} » n'est pas une date (exemple : 01/01/2017).")
    text = clean_text(str(value))
    try:
        if re.fullmatch(r"\d{4}", text) and MIN_YEAR <= int(text) <= MAX_YEAR:
            return date(int(text), 1, 1)
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?", text)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})", text)
        if m:
            return date(_year(m[3]), int(m[2]), int(m[1]))
        m = re.fullmatch(r"(\d{1,2})[/.\-](\d{4})", text)
        if m:
            return date(int(m[2]), int(m[1]), 1)
        key = normalize_key(text)
        m = re.fullmatch(r"(?:(\d{1,2})(?:er)? )?([a-z]+) (\d{2}|\d{4})", key)
        if m and m[2] in MONTHS_FR:
            return date(_year(m[3]), MONTHS_FR[m[2]], int(m[1]) if m[1] else 1)
    except ValueError:
        pass
    raise ParseError(f"« {_show(value)} » n'est pas une date (exemple : 01/01/2017).")


def parse_bool(value: object) -> bool | None:
    if is_unknown(value):
        return None
    if isinstance(value, bool):
        return value
    key = normalize_key(str(value))
    if key in {"oui", "o", "yes", "y", "vrai", "true", "1", "x"}:
        return True
    if key in {"non", "n", "no", "faux", "false", "0"}:
        return False
    raise ParseError(f"« {_show(value)} » : répondez « Oui » ou « Non ».")


# A LOLF programme is a number of three digits ("P129", "156/349/218"), never part of a
# longer number, a decimal or a share ("à 80 %", "16,8 %", "100 %").
_PROGRAMME = re.compile(r"(?<![\d,.])(\d{3})(?![\d%]|[,.]\d|\s%)")


def parse_programmes(value: object) -> list[int]:
    """ "Coordination du travail gouvernemental (P129)" → [129];
    "Programmes 156/349/218" → [156, 349, 218]; order kept, duplicates dropped;
    shares such as "100 %" are not programmes."""
    if is_unknown(value):
        return []
    numbers: list[int] = []
    for found in _PROGRAMME.findall(str(value)):
        n = int(found)
        if n not in numbers:
            numbers.append(n)
    return numbers


def add_years(start: date, years: Decimal) -> date:
    """The end of a duration given in decimal years, counted as DINUM does (365 days)."""
    days = int((years * 365).to_integral_value())
    return start + timedelta(days=days)

"""Money is exact: integer euros in storage, ``Decimal`` in computations, French in print.

``format_meur(52_000_000)`` → ``"52,0 M€"``; ``format_mdeur(2_290_000_000)`` → ``"2,29 Md€"``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MILLION = Decimal(1_000_000)
BILLION = Decimal(1_000_000_000)
NBSP = "\u00a0"
NNBSP = "\u202f"  # French thousands separator


def round_half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def meur_to_eur(meur: Decimal) -> int:
    """Millions of euros (as published) → integer euros, rounded half up."""
    return int((meur * MILLION).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def eur_to_meur(eur: int) -> Decimal:
    return Decimal(eur) / MILLION


def format_decimal_fr(value: Decimal, places: int) -> str:
    """``Decimal("1234.5")``, 1 → ``"1 234,5"`` (narrow no-break space for thousands)."""
    rounded = round_half_up(value, places)
    sign = "-" if rounded < 0 else ""
    text = f"{abs(rounded):,.{places}f}"
    return sign + text.replace(",", NNBSP).replace(".", ",")


def format_meur(eur: int | None, places: int = 1) -> str:
    if eur is None:
        return "non communiqué"
    return f"{format_decimal_fr(eur_to_meur(eur), places)}{NBSP}M€"


def format_mdeur(eur: int | None, places: int = 2) -> str:
    if eur is None:
        return "non communiqué"
    return f"{format_decimal_fr(Decimal(eur) / BILLION, places)}{NBSP}Md€"


def format_percent(ratio: Decimal | None, places: int = 0) -> str:
    if ratio is None:
        return "non calculable"
    return f"{format_decimal_fr(ratio * 100, places)}{NBSP}%"

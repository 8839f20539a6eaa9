"""Computed health from drift, beside the météo a ministry declared.

Thresholds as the US IT Dashboard uses them: under 10 % green, 10–30 % amber,
30 % and over red. The worse of budget and schedule drift (against the initial
baseline) decides; an underrun is green. A declared météo rosier than the computed
health is flagged.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

AMBER_FROM = Decimal("0.10")
RED_FROM = Decimal("0.30")


class Health(StrEnum):
    GREEN = "vert"
    AMBER = "orange"
    RED = "rouge"


_RANK = {Health.GREEN: 0, Health.AMBER: 1, Health.RED: 2}
_WEATHER_RANK = {"soleil": 0, "nuageux": 1, "orage": 2}


def health_from_drift(*drifts: Decimal | None) -> Health | None:
    known = [d for d in drifts if d is not None]
    if not known:
        return None
    worst = max(known)
    if worst >= RED_FROM:
        return Health.RED
    if worst >= AMBER_FROM:
        return Health.AMBER
    return Health.GREEN


def weather_is_rosier(weather: str | None, health: Health | None) -> bool:
    """True when the declared météo is better than the computed health."""
    if weather is None or health is None or weather not in _WEATHER_RANK:
        return False
    return _WEATHER_RANK[weather] < _RANK[health]

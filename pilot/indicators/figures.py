"""Key figures and distributions of a set of panorama rows, computed as DINUM does.

DINUM's dashboard method (see ``shared/data/panorama/README.md``): projects = rows;
total = sum of the estimated cost over the rows that have one, in Md€ rounded to 2
decimals; mean duration = plain mean of the planned duration over the rows that have
one, in years rounded to 1 decimal. Unknown ("En cadrage", "NA", empty) is never zero.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pilot.money import BILLION, MILLION, round_half_up
from pilot.text import clean_text, normalize_key

BRACKET_UNDER_5 = "< 5 M€"
BRACKET_5_9 = "entre 5 et 9 M€"
BRACKET_9_20 = "entre 9 et 20 M€"
BRACKET_20_100 = "entre 20 et 100 M€"
BRACKET_OVER_100 = "> 100 M€"
BRACKET_CADRAGE = "En cadrage"
BRACKET_UNKNOWN = "Non communiqué"
COST_BRACKETS = (
    BRACKET_UNDER_5,
    BRACKET_5_9,
    BRACKET_9_20,
    BRACKET_20_100,
    BRACKET_OVER_100,
    BRACKET_CADRAGE,
)
PHASE_CADRAGE = "Cadrage"


def cost_bracket(cost_eur: int | None, phase: str | None = None) -> str:
    """The published bracket of a cost: lower bounds inclusive (9 M€ is "entre 9 et 20")."""
    if cost_eur is None:
        return BRACKET_CADRAGE if phase in (None, PHASE_CADRAGE) else BRACKET_UNKNOWN
    meur = Decimal(cost_eur) / MILLION
    if meur < 5:
        return BRACKET_UNDER_5
    if meur < 9:
        return BRACKET_5_9
    if meur < 20:
        return BRACKET_9_20
    if meur <= 100:
        return BRACKET_20_100
    return BRACKET_OVER_100


@dataclass(frozen=True)
class PortfolioRow:
    """One project as the figures see it."""

    ministry: str
    interministerial: bool
    phase: str | None
    cost_eur: int | None
    duration_years: Decimal | None
    functional_zone: str | None = None
    cost_bracket: str | None = None  # as published; computed from the cost when absent


@dataclass(frozen=True)
class Figures:
    projects: int
    interministerial: int
    total_cost_eur: int
    total_cost_bn: Decimal  # Md€, 2 decimals
    mean_duration_years: Decimal | None  # 1 decimal
    costed_projects: int
    by_ministry: dict[str, int] = field(default_factory=dict)
    by_phase: dict[str, int] = field(default_factory=dict)
    by_cost_bracket: dict[str, int] = field(default_factory=dict)
    by_functional_zone: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: decimals as strings so nothing is lost to floats."""
        return {
            "projects": self.projects,
            "interministerial": self.interministerial,
            "total_cost_eur": self.total_cost_eur,
            "total_cost_bn": str(self.total_cost_bn),
            "mean_duration_years": (
                None if self.mean_duration_years is None else str(self.mean_duration_years)
            ),
            "costed_projects": self.costed_projects,
            "by_ministry": self.by_ministry,
            "by_phase": self.by_phase,
            "by_cost_bracket": self.by_cost_bracket,
            "by_functional_zone": self.by_functional_zone,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        mean = data.get("mean_duration_years")
        return cls(
            projects=data["projects"],
            interministerial=data["interministerial"],
            total_cost_eur=data["total_cost_eur"],
            total_cost_bn=Decimal(data["total_cost_bn"]),
            mean_duration_years=None if mean is None else Decimal(mean),
            costed_projects=data.get("costed_projects", 0),
            by_ministry=data.get("by_ministry", {}),
            by_phase=data.get("by_phase", {}),
            by_cost_bracket=data.get("by_cost_bracket", {}),
            by_functional_zone=data.get("by_functional_zone", {}),
        )


def _sorted_counts(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _zone_counts(rows: list[PortfolioRow]) -> Counter[str]:
    """Zones that differ only by case, accents or spacing are one zone, shown with the
    first label met."""
    labels: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for r in rows:
        key = normalize_key(r.functional_zone or "")
        label = labels.setdefault(key, clean_text(r.functional_zone or "") or "Non renseignée")
        counts[label] += 1
    return counts


def compute_figures(rows: Iterable[PortfolioRow]) -> Figures:
    rows = list(rows)
    costs = [r.cost_eur for r in rows if r.cost_eur is not None]
    durations = [r.duration_years for r in rows if r.duration_years is not None]
    total = sum(costs)
    mean = round_half_up(sum(durations, Decimal(0)) / len(durations), 1) if durations else None
    return Figures(
        projects=len(rows),
        interministerial=sum(1 for r in rows if r.interministerial),
        total_cost_eur=total,
        total_cost_bn=round_half_up(Decimal(total) / BILLION, 2),
        mean_duration_years=mean,
        costed_projects=len(costs),
        by_ministry=_sorted_counts(Counter(r.ministry for r in rows)),
        by_phase=_sorted_counts(Counter(r.phase or "Non renseignée" for r in rows)),
        by_cost_bracket=_sorted_counts(
            Counter(r.cost_bracket or cost_bracket(r.cost_eur, r.phase) for r in rows)
        ),
        by_functional_zone=_sorted_counts(_zone_counts(rows)),
    )
